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
    const timestamp = ctx.timestampFor?.(key) ?? Date.now();
    // A delete tombstones the key in every partition that holds a value of it (records of other producers), so no
    // partition keeps a value that compaction could bring back. Several partitions are not one atomic append: the
    // delete is acknowledged only once every tombstone is, and a failure answers an error the client retries.
    const others = value === null ? (ctx.otherValuePartitions?.(key, ctx.partitionOf(raw)) ?? []) : [];
    const acks = await Promise.all([ctx.producer.write(raw, value, timestamp), ...others.map((partition) => ctx.producer.write(raw, null, timestamp, partition))]);
    await Promise.all(acks.map((ack) => ctx.positions.waitForApplied(ack.partition, ack.offset, ctx.applyTimeoutMs)));
    const [ack] = acks;
    return { kind: 'ok', key, partition: ack!.partition, offset: ack!.offset };
  } catch (error) {
    return failure(asBitacoraError(error));
  }
}

/** checkWrite then writeChecked. */
export function writeRecord(ctx: CommandContext, raw: Buffer | undefined, value: Buffer | null): WriteOutcome | Promise<WriteOutcome> {
  const key = checkWrite(ctx, raw, value);
  return typeof key === 'string' ? writeChecked(ctx, key, raw!, value) : key;
}
