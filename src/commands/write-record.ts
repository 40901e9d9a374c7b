import { asBitacoraError } from '../errors/bitacora-error';
import { type CommandContext, failure, type Failure } from './command-context';
import { checkValue, decodeKey } from './key-validation';

/** Where a write landed; the node has applied it when this is returned (read-your-writes). */
export interface Written {
  readonly kind: 'ok';
  readonly key: string;
  readonly partition: number;
  readonly offset: number;
}

export type WriteOutcome = Written | Failure;

/** Checks a write before anything reaches Kafka: the decoded key, or the error. */
export function checkWrite(ctx: CommandContext, raw: Buffer | undefined, value: Buffer | null): string | Failure {
  const key = decodeKey(raw, ctx.limits);
  if (typeof key !== 'string') return failure(key);
  const tooLarge = value === null ? undefined : checkValue(value, ctx.limits);
  return tooLarge ? failure(tooLarge) : key;
}

/**
 * Writes a checked record (a null value is a tombstone), uncounted: what set, delete and mset share. Resolves once
 * Kafka has it (acks=all) and this node has applied it; never rejects.
 */
export async function writeChecked(ctx: CommandContext, key: string, raw: Buffer, value: Buffer | null): Promise<WriteOutcome> {
  try {
    const ack = await ctx.producer.write(raw, value);
    await ctx.positions.waitForApplied(ack.partition, ack.offset, ctx.applyTimeoutMs);
    return { kind: 'ok', key, partition: ack.partition, offset: ack.offset };
  } catch (error) {
    return failure(asBitacoraError(error));
  }
}

/** checkWrite then writeChecked. */
export function writeRecord(ctx: CommandContext, raw: Buffer | undefined, value: Buffer | null): WriteOutcome | Promise<WriteOutcome> {
  const key = checkWrite(ctx, raw, value);
  return typeof key === 'string' ? writeChecked(ctx, key, raw!, value) : key;
}
