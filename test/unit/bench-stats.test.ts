import assert from 'node:assert/strict';
import { createHistogram } from 'node:perf_hooks';
import { parseProcStat, cpuBetween } from '../../bench/cpu-usage';
import { benchKey, benchValue, KEY_BYTES, VALUE_BYTES } from '../../bench/keys';
import { errorRatio, percentile, ratePerSecond, ratio, summarizeHistogram, summarizeSamples } from '../../bench/stats';

describe('bench: statistics', () => {
  it('takes nearest-rank percentiles, never inventing a value between samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile(sorted, 0), 1);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([1, 2, 3, 4], 51), 3);
    assert.equal(percentile([7], 99.9), 7);
  });

  it('refuses a percentile of nothing or out of range rather than answer 0', () => {
    assert.throws(() => percentile([], 50), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
    assert.throws(() => percentile([1], Number.NaN), RangeError);
    assert.throws(() => summarizeSamples([]), RangeError);
    assert.throws(() => summarizeHistogram(createHistogram()), RangeError);
  });

  it('summarizes unsorted samples', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    const summary = summarizeSamples(samples);
    assert.equal(summary.count, 10);
    assert.equal(summary.p50Ms, 5);
    assert.equal(summary.p90Ms, 9);
    assert.equal(summary.p99Ms, 10);
    assert.equal(summary.maxMs, 10);
    assert.equal(summary.meanMs, 5.5);
    assert.deepEqual(samples, [5, 1, 4, 2, 3, 10, 9, 8, 7, 6], 'the caller’s array is left alone');
  });

  it('reads a nanosecond histogram back in milliseconds, within its 3 significant figures', () => {
    const histogram = createHistogram({ figures: 3 });
    for (let i = 1; i <= 1000; i++) histogram.record(i * 1_000); // 1 µs .. 1 ms
    const summary = summarizeHistogram(histogram);
    assert.equal(summary.count, 1000);
    assert.ok(Math.abs(summary.p50Ms - 0.5) < 0.001, `p50 ${summary.p50Ms}`);
    assert.ok(Math.abs(summary.p99Ms - 0.99) < 0.002, `p99 ${summary.p99Ms}`);
    assert.ok(Math.abs(summary.maxMs - 1) < 0.002, `max ${summary.maxMs}`);
  });

  it('computes rates, ratios and error ratios', () => {
    assert.equal(ratePerSecond(500, 250), 2000);
    assert.throws(() => ratePerSecond(1, 0), RangeError);
    assert.equal(ratio(50, 200), 0.25);
    assert.equal(ratio(50, 0), undefined);
    assert.equal(ratio(undefined, 10), undefined);
    assert.equal(ratio(10, Number.NaN), undefined);
    assert.equal(errorRatio(0, 0), 0);
    assert.equal(errorRatio(999, 1), 0.001);
    assert.equal(errorRatio(0, 3), 1);
  });
});

describe('bench: keys and values', () => {
  it('makes 16-byte keys and 100-byte values, the same for the same input', () => {
    assert.equal(benchKey('r', 42), 'r000000000000042');
    assert.equal(Buffer.byteLength(benchKey('w003', 123456789)), KEY_BYTES);
    assert.throws(() => benchKey('r', -1), RangeError);
    assert.throws(() => benchKey('r', 10 ** 15), RangeError);
    const value = benchValue('r000000000000042', 'tag');
    assert.equal(Buffer.byteLength(value), VALUE_BYTES);
    assert.match(value, /^[A-Za-z0-9]+$/);
    assert.equal(benchValue('r000000000000042', 'tag'), value);
    assert.notEqual(benchValue('r000000000000043', 'tag'), value);
    assert.notEqual(benchValue('r000000000000042', 'other'), value);
  });
});

describe('bench: CPU accounting', () => {
  it('reads utime and stime from /proc/<pid>/stat even when the command name holds spaces and parentheses', () => {
    const line = '1234 (node (bench) x) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 100 0 0';
    assert.equal(parseProcStat(line), 3);
    assert.equal(parseProcStat('garbage'), undefined);
  });

  it('turns two snapshots into cores used, and counts what the run does not own as others', () => {
    const before = { atMs: 0, machineBusyMs: 0, machineTotalMs: 0, processSeconds: new Map([['node', 1], ['generator', 2]]) };
    const after = { atMs: 1000, machineBusyMs: 1500, machineTotalMs: 2000, processSeconds: new Map([['node', 1.8], ['generator', 2.5]]) };
    const usage = cpuBetween(before, after, 2);
    assert.equal(usage.machine, 1.5);
    assert.deepEqual(usage.processes, { node: 0.8, generator: 0.5 });
    assert.equal(usage.others, 0.2);
  });
});
