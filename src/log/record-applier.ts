import type { KeyMerge, MergedStore } from './key-merge';
import type { PartitionPositions } from './partition-positions';
import { decodeRecord, type SkipReason } from './record-decoder';
import type { RecordHeaders } from './side-keys';

/** The parts of a Kafka record the applier reads (kafkajs' message shape). */
export interface LogRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly offset: string;
  readonly timestamp: string;
  readonly headers?: RecordHeaders;
}

/** What the applier changes in the map (through the merge): the store's public get, put and delete. */
export type AppliedStore = MergedStore;

/** Counts of what the applier did, for metrics and logs. */
export interface ApplyCounters {
  applied: number;
  skipped: Record<SkipReason, number>;
  /** Records of user keys found outside their key's canonical partition (written by a producer that partitions otherwise). */
  misrouted: number;
}

export function newApplyCounters(): ApplyCounters {
  return { applied: 0, misrouted: 0, skipped: { null_key: 0, invalid_key: 0, key_too_large: 0, value_too_large: 0 } };
}

/**
 * Applies one fetched batch of a partition to the map, synchronously, so no other apply can interleave.
 * Records below the partition's position were applied already (a refetch after a rebalance, or a batch retried
 * after a failure) and are ignored, so the map never moves backwards and no record is applied twice: the position
 * advances with each record, so a batch that throws part-way leaves it just before the record that failed.
 * `lastOffset` is the batch's last offset, which may lie past its last record (control records, compaction): the
 * position moves past it all the same once the whole batch is applied.
 */
export function applyBatch(
  partition: number,
  records: readonly LogRecord[],
  lastOffset: number,
  deps: {
    readonly store: AppliedStore;
    readonly positions: PartitionPositions;
    readonly limits: { readonly maxKeyBytes: number; readonly maxValueBytes: number };
    readonly counters: ApplyCounters;
    /** Decides a key's state across partitions; one per map, kept for the map's whole life. */
    readonly merge: KeyMerge;
    /** The key's canonical partition under the topic's pinned key→partition map. */
    readonly canonicalPartition: (key: Buffer) => number;
    readonly onKeyApplied?: (key: string) => void;
  },
): void {
  const { store, positions, limits, counters, merge } = deps;
  let next = positions.position(partition);
  for (const record of records) {
    const offset = Number(record.offset);
    if (offset < next) continue;
    const decoded = decodeRecord(record.key, record.value, limits, record.headers);
    if (decoded.kind === 'skip') counters.skipped[decoded.reason]++;
    if (decoded.kind === 'side') {
      // A side record counts only in its key's canonical partition, for another source partition (as the model's applyRecord).
      const canonical = deps.canonicalPartition(decoded.keyBytes);
      if (canonical === partition && decoded.source !== partition) {
        const { source, sourceOffset, value } = decoded;
        merge.applySide(store, decoded.key, canonical, { source, sourceOffset, timestamp: Number(record.timestamp), value });
        counters.applied++;
        deps.onKeyApplied?.(decoded.key);
      }
    } else if (decoded.kind !== 'internal' && decoded.key !== undefined) {
      const canonical = deps.canonicalPartition(record.key!);
      if (canonical !== partition) counters.misrouted++;
      // A value too large to hold still supersedes the older one (a deletion): serving that would be serving a stale value.
      // put() copies the value: kafkajs' buffers are views into the whole fetch response, which must not be kept alive.
      const value = decoded.kind === 'set' ? decoded.value : null;
      merge.apply(store, decoded.key, canonical, { partition, offset, timestamp: Number(record.timestamp), value });
      if (decoded.kind !== 'skip') counters.applied++;
      deps.onKeyApplied?.(decoded.key);
    }
    next = offset + 1;
    positions.advance(partition, next);
  }
  positions.advance(partition, Math.max(next, lastOffset + 1));
}
