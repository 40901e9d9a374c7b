import assert from 'node:assert/strict';
import { renderChart } from '../../bench/chart';
import { BenchUsageError, parseBenchArgs, SCENARIO_NAMES, type BenchOptions } from '../../bench/options';
import { describeTarget, figure, fileStamp, formatNumber, formatTable, meets, targetScore, withRedisRatios, type Figure, type ScenarioOutcome } from '../../bench/report';

const atLeast20k = { field: 'value', op: '>=', value: 20_000, unit: 'ops/s' } as const;
const p99AtMost5 = { field: 'p99Ms', op: '<=', value: 5, unit: 'ms' } as const;

function rows(): Figure[] {
  return [
    figure({ scenario: 'reads', label: 'HTTP GET hit, 64 concurrent', value: 25_000, unit: 'ops/s', p50Ms: 2, p99Ms: 4, system: 'bitacora', operation: 'get', concurrency: 64, target: atLeast20k, otherCores: 0.05 }),
    figure({ scenario: 'reads', label: 'HTTP GET hit, 1 concurrent', value: 10_000, unit: 'ops/s', p50Ms: 0.1, p99Ms: 0.2, system: 'bitacora', operation: 'get', concurrency: 1 }),
    figure({ scenario: 'writes', label: 'HTTP POST, 64 concurrent', value: 5_000, unit: 'writes/s', p50Ms: 10, p99Ms: 40, system: 'bitacora', operation: 'set', concurrency: 64, target: atLeast20k }),
    figure({ scenario: 'fan-out', label: 'GET <peer> & "hit"', value: 800, unit: 'ops/s', p50Ms: 1, p99Ms: 7, system: 'bitacora', target: p99AtMost5 }),
    figure({ scenario: 'redis', label: 'Redis GET, 64 concurrent', value: 50_000, unit: 'ops/s', system: 'redis', operation: 'get', concurrency: 64 }),
    figure({ scenario: 'redis', label: 'Redis SET, 64 concurrent', value: 40_000, unit: 'ops/s', system: 'redis', operation: 'set', concurrency: 64 }),
  ];
}

describe('bench: report', () => {
  it('judges "at least" and "at most" targets, on the field each names', () => {
    assert.equal(meets({ value: 20_000 }, atLeast20k), true);
    assert.equal(meets({ value: 19_999 }, atLeast20k), false);
    assert.equal(meets({ value: 1, p99Ms: 5 }, p99AtMost5), true);
    assert.equal(meets({ value: 1_000_000, p99Ms: 5.01 }, p99AtMost5), false);
    assert.equal(meets({ value: 1 }, p99AtMost5), undefined, 'no p99, no verdict');
    assert.equal(meets({ value: 1 }, undefined), undefined);
    assert.equal(meets({ value: Number.NaN }, atLeast20k), undefined, 'a NaN is never met');
  });

  it('scores figures so that above 1 means met for both kinds of target', () => {
    const [reads, , writes, fanOut] = rows();
    assert.equal(targetScore(reads!), 1.25);
    assert.equal(targetScore(writes!), 0.25);
    assert.ok(Math.abs(targetScore(fanOut!)! - 5 / 7) < 1e-9);
    assert.equal(targetScore(rows()[1]!), undefined);
  });

  it('puts the ratio to Redis on the rows of the same operation and concurrency only', () => {
    const withRatios = withRedisRatios(rows());
    assert.equal(withRatios[0]!.vsRedis, 0.5);
    assert.equal(withRatios[1]!.vsRedis, undefined, 'no Redis row at 1 concurrent');
    assert.equal(withRatios[2]!.vsRedis, 0.125);
    assert.equal(withRatios[3]!.vsRedis, undefined);
    assert.equal(withRatios[4]!.vsRedis, undefined, 'Redis is not compared with itself');
  });

  it('prints a table with each figure, its target and met/MISSED, and failed scenarios as FAILED without numbers', () => {
    const figures = withRedisRatios(rows());
    const outcomes: ScenarioOutcome[] = [
      { name: 'reads', status: 'ok', seconds: 1, figures: figures.filter((f) => f.scenario === 'reads') },
      { name: 'writes', status: 'ok', seconds: 1, figures: figures.filter((f) => f.scenario === 'writes') },
      { name: 'bootstrap', status: 'failed', reason: 'the node exited', seconds: 1, figures: [] },
      { name: 'avro', status: 'skipped', reason: 'no client yet', seconds: 0, figures: [] },
    ];
    const table = formatTable(outcomes, figures);
    const lines = table.split('\n');
    const readsLine = lines.find((line) => line.includes('HTTP GET hit, 64 concurrent'))!;
    assert.match(readsLine, /25,000 ops\/s/);
    assert.match(readsLine, /0\.50×/);
    assert.match(readsLine, /≥ 20,000 ops\/s/);
    assert.match(readsLine, /\| met +\| 0\.05 +\|$/, 'met, and the load from other processes meanwhile');
    assert.match(lines.find((line) => line.includes('HTTP POST'))!, /MISSED/);
    const failed = lines.find((line) => line.startsWith('| bootstrap'))!;
    assert.match(failed, /FAILED/);
    assert.match(failed, /the node exited/);
    assert.doesNotMatch(failed, /\d+ (ops|records)/);
    assert.match(lines.find((line) => line.startsWith('| avro'))!, /skipped/);
    assert.equal(new Set(lines.filter((line) => line.startsWith('|')).map((line) => line.length)).size, 1, 'columns are aligned');
  });

  it('formats numbers and targets for people', () => {
    assert.equal(formatNumber(1_234_567.8), '1,234,568');
    assert.equal(formatNumber(123.4), '123');
    assert.equal(formatNumber(12.34), '12.3');
    assert.equal(formatNumber(1.234), '1.23');
    assert.equal(formatNumber(0.01234), '0.012');
    assert.equal(describeTarget(atLeast20k), '≥ 20,000 ops/s');
    assert.equal(describeTarget(p99AtMost5), 'p99 ≤ 5.00 ms');
    assert.equal(fileStamp(new Date('2025-03-04T05:06:07.890Z')), '2025-03-04T05-06-07Z');
  });

  it('draws an SVG with one bar per targeted figure and per throughput row, text escaped', () => {
    const svg = renderChart(withRedisRatios(rows()), 'Run <1> & co');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.ok(svg.includes('Run &lt;1&gt; &amp; co'));
    assert.ok(svg.includes('GET &lt;peer&gt; &amp; &quot;hit&quot;'));
    assert.ok(!/<text[^>]*>[^<]*[<>&"][^<]*<\/text>/.test(svg.replace(/&(amp|lt|gt|quot);/g, '')), 'no raw markup characters in text');
    const bars = svg.match(/<rect x=/g) ?? [];
    assert.equal(bars.length, 3 + 5, '3 targeted figures and 5 throughput rows');
    assert.ok(svg.includes('#c62828') && svg.includes('#2e7d32'), 'missed and met colours');
  });
});

describe('bench: command line', () => {
  const parse = (args: string[]): BenchOptions => {
    const options = parseBenchArgs(args);
    assert.notEqual(options, 'help');
    return options as BenchOptions;
  };

  it('runs every scenario at full size by default and smaller with --quick', () => {
    const full = parse([]);
    assert.deepEqual(full.scenarios, SCENARIO_NAMES);
    assert.equal(full.records, 1_000_000);
    assert.deepEqual(full.concurrency, [1, 16, 64]);
    assert.equal(full.scenariosNamed, false);
    const quick = parse(['--quick']);
    assert.ok(quick.records < full.records && quick.durationMs < full.durationMs);
  });

  it('selects, skips and sizes scenarios', () => {
    const chosen = parse(['--scenarios', 'redis,reads', '--records', '5_000', '--concurrency', '64,1,64', '--duration', '1.5']);
    assert.deepEqual(chosen.scenarios, ['reads', 'redis'], 'in run order');
    assert.equal(chosen.scenariosNamed, true);
    assert.equal(chosen.records, 5000);
    assert.deepEqual(chosen.concurrency, [1, 64]);
    assert.equal(chosen.durationMs, 1500);
    assert.equal(parse(['--busy-retries', '3']).busyRetries, 3);
    assert.equal(parse(['--quick']).busyRetries, 0);
    assert.deepEqual(parse(['--skip', 'bootstrap,redis']).scenarios, ['store', 'node-keys', 'reads', 'writes', 'avro', 'c-generators', 'replication', 'fan-out']);
    assert.equal(parseBenchArgs(['--help']), 'help');
  });

  it('refuses what it cannot run, saying what to change', () => {
    assert.throws(() => parseBenchArgs(['--scenarios', 'nope']), (error: Error) => error instanceof BenchUsageError && /unknown scenario "nope"/.test(error.message));
    assert.throws(() => parseBenchArgs(['--records', '-3']), BenchUsageError);
    assert.throws(() => parseBenchArgs(['--concurrency', '0']), BenchUsageError);
    assert.throws(() => parseBenchArgs(['--max-error-ratio', '1']), BenchUsageError);
    assert.throws(() => parseBenchArgs(['--scenarios', 'reads', '--skip', 'redis']), BenchUsageError);
    assert.throws(() => parseBenchArgs(['--frobnicate']), BenchUsageError);
  });
});
