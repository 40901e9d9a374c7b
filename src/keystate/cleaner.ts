import { isTombstone, slotKeyId, type LogRecord } from './records';

/** The topic settings the cleaner obeys, in log time (ms). */
export interface CleanerSettings {
  /** min.compaction.lag.ms: a record younger than this is never cleaned. */
  readonly minCompactionLagMs: number;
  /** delete.retention.ms: how long a cleaned tombstone stays readable. */
  readonly deleteRetentionMs: number;
}

/**
 * Where a cleaning pass may stop at most: below the active segment (which starts at `activeSegmentStart`) and
 * below the first record younger than min.compaction.lag.ms.
 */
export function cleanableEnd(log: readonly LogRecord[], activeSegmentStart: number, now: number, settings: CleanerSettings): number {
  let end = activeSegmentStart;
  for (const record of log) {
    if (record.offset >= end) break;
    if (record.appendedAt > now - settings.minCompactionLagMs) {
      end = record.offset;
      break;
    }
  }
  return end;
}

/**
 * One pass of Kafka's log cleaner over a partition, up to `cleanUpTo` (exclusive): of the records below it, keeps
 * the last of each key (as the cleaner's offset map does), and drops a kept tombstone once delete.retention.ms has
 * passed since it was appended. Offsets never change; records at or above `cleanUpTo` are untouched. Passes may
 * run at any point allowed by cleanableEnd, any number of times.
 */
export function clean(log: readonly LogRecord[], cleanUpTo: number, now: number, activeSegmentStart: number, settings: CleanerSettings): LogRecord[] {
  const limit = cleanableEnd(log, activeSegmentStart, now, settings);
  if (cleanUpTo > limit) throw new RangeError(`a cleaning pass may stop at offset ${limit} at most, not ${cleanUpTo}`);
  const last = new Map<string, number>();
  for (const record of log) if (record.offset < cleanUpTo) last.set(slotKeyId(record.key), record.offset);
  return log.filter((record) => {
    if (record.offset >= cleanUpTo) return true;
    if (last.get(slotKeyId(record.key)) !== record.offset) return false;
    return !(isTombstone(record.body) && record.appendedAt + settings.deleteRetentionMs <= now);
  });
}
