import type { RecordableHistogram } from 'node:perf_hooks';

/** Latency percentiles of a run, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

const NS_PER_MS = 1e6;

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest value with at least p% of the values at or
 * below it. Nearest-rank never invents a value between two samples, and p100 is the maximum.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`a percentile is from 0 to 100, got ${p}`);
  if (sorted.length === 0) throw new RangeError('no samples: a percentile of nothing is undefined');
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Percentiles of raw samples in milliseconds (small sample sets, such as replication delays). */
export function summarizeSamples(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    meanMs: sorted.length === 0 ? NaN : sum / sorted.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: sorted[sorted.length - 1]!,
  };
}

/** Percentiles of a perf_hooks histogram that recorded nanoseconds (3 significant figures). */
export function summarizeHistogram(histogram: RecordableHistogram): LatencySummary {
  if (histogram.count === 0) throw new RangeError('no samples: a percentile of nothing is undefined');
  return {
    count: histogram.count,
    meanMs: histogram.mean / NS_PER_MS,
    p50Ms: histogram.percentile(50) / NS_PER_MS,
    p90Ms: histogram.percentile(90) / NS_PER_MS,
    p99Ms: histogram.percentile(99) / NS_PER_MS,
    p999Ms: histogram.percentile(99.9) / NS_PER_MS,
    maxMs: histogram.max / NS_PER_MS,
  };
}

/** Completed operations per second over a window. */
export function ratePerSecond(count: number, windowMs: number): number {
  if (!(windowMs > 0)) throw new RangeError(`a rate needs a positive window, got ${windowMs} ms`);
  return (count * 1000) / windowMs;
}

/** `ours / theirs`, or undefined when either side is missing or theirs is not positive. */
export function ratio(ours: number | undefined, theirs: number | undefined): number | undefined {
  if (ours === undefined || theirs === undefined || !Number.isFinite(ours) || !Number.isFinite(theirs) || theirs <= 0) return undefined;
  return ours / theirs;
}

/** The share of attempts that failed; 0 when nothing was attempted. */
export function errorRatio(completed: number, failed: number): number {
  const attempts = completed + failed;
  return attempts === 0 ? 0 : failed / attempts;
}
