import { createHash } from 'node:crypto';
import type { EntryStore } from './entry-store';

/** What a node (or the topic itself) holds on one partition, reduced to a comparable fingerprint. */
export interface PartitionDigest {
  readonly partition: number;
  /** The next offset to apply: the digest covers every record below it. */
  readonly position: number;
  /** Keys held on this partition. */
  readonly keys: number;
  /** Hex; equal digests at equal positions mean equal contents (key -> value bytes) on that partition. */
  readonly digest: string;
}

const DIGEST_BYTES = 32;

/**
 * Per-partition digests of a store: the XOR of SHA-256(key length, key, value) over the partition's entries.
 * XOR makes the digest independent of the order entries were written in, so a node that applied the log and a
 * tool that replays the compacted topic agree whenever their contents agree. Each key appears once in a map,
 * so no two equal terms can cancel out. Runs synchronously: the contents cannot move while it runs, and the
 * positions passed in must be taken in the same turn of the event loop.
 */
export function digestPartitions(store: EntryStore, positions: ReadonlyArray<{ readonly partition: number; readonly position: number }>): PartitionDigest[] {
  const accumulators = new Map<number, { keys: number; digest: Buffer }>();
  for (const { partition } of positions) accumulators.set(partition, { keys: 0, digest: Buffer.alloc(DIGEST_BYTES) });
  const length = Buffer.alloc(4);
  store.forEachBytes((key, partition, value) => {
    let accumulator = accumulators.get(partition);
    if (!accumulator) {
      // An entry of a partition the caller did not list still counts, so a stray entry is never hidden.
      accumulator = { keys: 0, digest: Buffer.alloc(DIGEST_BYTES) };
      accumulators.set(partition, accumulator);
    }
    length.writeUInt32BE(key.length, 0);
    const term = createHash('sha256').update(length).update(key).update(value).digest();
    for (let i = 0; i < DIGEST_BYTES; i++) accumulator.digest[i] ^= term[i]!;
    accumulator.keys++;
  });
  const positionOf = new Map(positions.map((entry) => [entry.partition, entry.position]));
  return [...accumulators.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, { keys, digest }]) => ({ partition, position: positionOf.get(partition) ?? 0, keys, digest: digest.toString('hex') }));
}

/** The partitions on which `actual` differs from `expected` (position or digest), described for a human. */
export function digestDifferences(expected: readonly PartitionDigest[], actual: readonly PartitionDigest[]): string[] {
  const differences: string[] = [];
  const byPartition = new Map(actual.map((entry) => [entry.partition, entry]));
  for (const want of expected) {
    const got = byPartition.get(want.partition);
    if (!got) differences.push(`partition ${want.partition}: missing`);
    else if (got.position !== want.position) differences.push(`partition ${want.partition}: position ${got.position}, expected ${want.position}`);
    else if (got.digest !== want.digest) differences.push(`partition ${want.partition}: digest differs at position ${want.position} (${got.keys} keys, expected ${want.keys})`);
    byPartition.delete(want.partition);
  }
  for (const extra of byPartition.values()) differences.push(`partition ${extra.partition}: not expected`);
  return differences;
}
