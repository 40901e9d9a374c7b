import { asBitacoraError } from '../errors/bitacora-error';
import { encodeSideKey, sideHeaders } from '../log/side-keys';
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
    if (value !== null) {
      // A value is one record: no list of acknowledgements to wait on (this is every SET's path; a write costs
      // tens of microseconds, and each promise layer is a share of that).
      const ack = await ctx.producer.write(raw, value, timestamp);
      if (ctx.positions.position(ack.partition) <= ack.offset) await ctx.positions.waitForApplied(ack.partition, ack.offset, ctx.applyTimeoutMs);
      return { kind: 'ok', key, partition: ack.partition, offset: ack.offset };
    }
    const acks = await deleteEverywhere(ctx, key, raw, timestamp);
    await Promise.all(acks.map((ack) => ctx.positions.waitForApplied(ack.partition, ack.offset, ctx.applyTimeoutMs)));
    const [ack] = acks;
    return { kind: 'ok', key, partition: ack!.partition, offset: ack!.offset };
  } catch (error) {
    return failure(asBitacoraError(error));
  }
}

/**
 * A delete. First a tombstone in every other partition whose last record of the key holds a value (records of other
 * producers), so no partition keeps a value that compaction could bring back; then, in one produce request to the
 * canonical partition (one atomic append, cleaned together), the main key's tombstone and one for each of the key's
 * side keys, each covering the source offset known for its partition (the tombstone just written there included),
 * so the mirroring node copies none of it again. Several partitions are not one atomic append: the delete is
 * acknowledged only once every tombstone is, and a failure answers an error the client retries. The canonical
 * tombstone comes first in the answer. A key with records in its canonical partition only writes one tombstone.
 */
async function deleteEverywhere(ctx: CommandContext, key: string, raw: Buffer, timestamp: number): Promise<Array<{ partition: number; offset: number }>> {
  const canonical = ctx.partitionOf(raw);
  const others = ctx.otherValuePartitions?.(key, canonical) ?? [];
  const elsewhere = await Promise.all(others.map((partition) => ctx.producer.write(raw, null, timestamp, partition)));
  const covered = new Map(ctx.sideSlots?.(key, canonical) ?? []);
  for (const ack of elsewhere) covered.set(ack.partition, Math.max(ack.offset, covered.get(ack.partition) ?? -1));
  if (covered.size === 0 || !ctx.producer.writeTogether) return [await ctx.producer.write(raw, null, timestamp), ...elsewhere];
  const sides = [...covered].map(([source, offset]) => ({ key: encodeSideKey(raw, source), value: null, headers: sideHeaders(offset, true) }));
  const together = await ctx.producer.writeTogether([{ key: raw, value: null }, ...sides], timestamp, canonical);
  return [...together, ...elsewhere];
}

/** checkWrite then writeChecked. */
export function writeRecord(ctx: CommandContext, raw: Buffer | undefined, value: Buffer | null): WriteOutcome | Promise<WriteOutcome> {
  const key = checkWrite(ctx, raw, value);
  return typeof key === 'string' ? writeChecked(ctx, key, raw!, value) : key;
}
