import type { EntryStore } from '../store/entry-store';
import type { PartitionPositions } from './partition-positions';
import { decodeRecord, type SkipReason } from './record-decoder';

/** The parts of a Kafka record the applier reads (kafkajs' message shape). */
export interface LogRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly offset: string;
  readonly timestamp: string;
}

/** What the applier changes in the map: the store's two writing methods. */
export type AppliedStore = Pick<EntryStore, 'put' | 'delete'>;

/** Counts of what the applier did, for metrics and logs. */
export interface ApplyCounters {
  applied: number;
  skipped: Record<SkipReason, number>;
}

export function newApplyCounters(): ApplyCounters {
  return { applied: 0, skipped: { null_key: 0, invalid_key: 0, key_too_large: 0, value_too_large: 0 } };
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
    readonly onKeyApplied?: (key: string) => void;
  },
): void {
  const { store, positions, limits, counters } = deps;
  let next = positions.position(partition);
  for (const record of records) {
    const offset = Number(record.offset);
    if (offset < next) continue;
    const decoded = decodeRecord(record.key, record.value, limits);
    if (decoded.kind === 'skip') {
      counters.skipped[decoded.reason]++;
      // A value too large to hold still supersedes the older one: serving that would be serving a stale value.
      if (decoded.key !== undefined && store.delete(decoded.key)) deps.onKeyApplied?.(decoded.key);
    } else {
      if (decoded.kind === 'delete') {
        store.delete(decoded.key);
      } else {
        // put() copies the value: kafkajs' buffers are views into the whole fetch response, which must not be kept alive.
        store.put(decoded.key, decoded.value, partition, offset, Number(record.timestamp));
      }
      counters.applied++;
      deps.onKeyApplied?.(decoded.key);
    }
    next = offset + 1;
    positions.advance(partition, next);
  }
  positions.advance(partition, Math.max(next, lastOffset + 1));
}
