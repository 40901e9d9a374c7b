import path from 'node:path';
import { parseArgs } from 'node:util';

/** Every scenario, in the order a run takes them (nodes a scenario shares with the next are kept between them). */
export const SCENARIO_NAMES = ['store', 'bootstrap', 'node-keys', 'reads', 'writes', 'avro', 'redis', 'c-generators', 'replication', 'fan-out'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** How a run is shaped; built from the command line by parseBenchArgs(), frozen. */
export interface BenchOptions {
  readonly scenarios: readonly ScenarioName[];
  /** True when the scenarios were named on the command line: a scenario that cannot run then fails the run. */
  readonly scenariosNamed: boolean;
  readonly quick: boolean;
  /** Records in the bootstrap topic. */
  readonly records: number;
  /** Keys preloaded for the read scenarios (HTTP, Avro and Redis alike). */
  readonly keys: number;
  readonly concurrency: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly replicationRate: number;
  readonly replicationDurationMs: number;
  readonly pollIntervalMs: number;
  readonly fanOutConcurrency: readonly number[];
  readonly fanOutKeys: number;
  readonly maxErrorRatio: number;
  /** How often a measurement disturbed by other processes on the machine is taken again. */
  readonly busyRetries: number;
  /** Where <timestamp>.json and <timestamp>.svg are written. */
  readonly outDir: string;
  /** Run every node with --cpu-prof; the profiles go next to the results. */
  readonly cpuProf: boolean;
  /** The store scenario also loads 50,000,000 entries (several GB of memory). */
  readonly big: boolean;
  /** Key counts of the node-keys scenario's topics, one node each. */
  readonly nodeKeys: readonly number[];
}

export const USAGE = `usage: npm run bench -- [options]

Starts its own Kafka + ZooKeeper and cache nodes, runs the scenarios with load from a separate process, prints a
table and writes bench/results/<timestamp>.json and .svg.

  --quick                     small sizes and short runs (about a minute)
  --scenarios a,b             only these: ${SCENARIO_NAMES.join(', ')}
  --skip a,b                  all but these
  --records N                 records in the bootstrap topic (default 1000000; quick 100000)
  --keys N                    keys preloaded for reads (default 100000; quick 10000)
  --concurrency 1,16,64       requests in flight for reads and writes (quick: 1,64)
  --warmup S                  seconds of warm-up before each measurement (default 3; quick 0.5)
  --duration S                measured seconds of each run (default 10; quick 1.5)
  --replication-rate N        writes per second in the replication scenario (default 500)
  --replication-duration S    measured seconds of the replication scenario (default 20; quick 3)
  --poll-ms N                 how often the replication scenario polls the other nodes (default 2)
  --fanout-concurrency 1,16   requests in flight for fan-out (quick: 1)
  --max-error-ratio R         a run fails when more than this share of requests fail (default 0.001)
  --busy-retries N            measure again, up to N times, when other processes used over 0.2 cores
                              meanwhile; the least disturbed attempt is kept (default 1; quick 0)
  --out DIR                   results folder (default bench/results)
  --big                       the store scenario also loads 50,000,000 keys (about 5 GB of memory, minutes), and
                              node-keys also runs at 10,000,000 and 50,000,000 keys (about 5 and 20 minutes)
  --node-keys N,M             key counts of the node-keys scenario (default 100000; quick 10000;
                              big 100000,10000000,50000000)
  --cpu-prof                  profile every node (node --cpu-prof); .cpuprofile files go to <out>/profiles-<run>/
  --help
`;

/** A command line that cannot be run: the message says what to change. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

const ROOT = path.join(__dirname, '..');

/** Parses `npm run bench -- ...` arguments; throws BenchUsageError on anything it cannot use. */
export function parseBenchArgs(args: readonly string[]): BenchOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new BenchUsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const quick = v.quick ?? false;
  if (v.scenarios !== undefined && v.skip !== undefined) throw new BenchUsageError('give --scenarios or --skip, not both');
  const named = v.scenarios !== undefined;
  const skipped = v.skip !== undefined ? scenarioList('--skip', v.skip) : [];
  const chosen = named ? scenarioList('--scenarios', v.scenarios!) : SCENARIO_NAMES.filter((name) => !skipped.includes(name));
  if (chosen.length === 0) throw new BenchUsageError('no scenario left to run');
  const options: BenchOptions = {
    scenarios: SCENARIO_NAMES.filter((name) => chosen.includes(name)),
    scenariosNamed: named,
    quick,
    records: integer('--records', v.records, quick ? 100_000 : 1_000_000, 1, 100_000_000),
    keys: integer('--keys', v.keys, quick ? 10_000 : 100_000, 1, 10_000_000),
    concurrency: integerList('--concurrency', v.concurrency, quick ? [1, 64] : [1, 16, 64]),
    warmupMs: seconds('--warmup', v.warmup, quick ? 0.5 : 3, 0),
    durationMs: seconds('--duration', v.duration, quick ? 1.5 : 10, 0.1),
    replicationRate: integer('--replication-rate', v['replication-rate'], 500, 1, 100_000),
    replicationDurationMs: seconds('--replication-duration', v['replication-duration'], quick ? 3 : 20, 0.1),
    pollIntervalMs: integer('--poll-ms', v['poll-ms'], 2, 1, 1_000),
    fanOutConcurrency: integerList('--fanout-concurrency', v['fanout-concurrency'], quick ? [1] : [1, 16]),
    fanOutKeys: quick ? 5_000 : 20_000,
    maxErrorRatio: ratioOption('--max-error-ratio', v['max-error-ratio'], 0.001),
    busyRetries: integer('--busy-retries', v['busy-retries'], quick ? 0 : 1, 0, 10),
    outDir: path.resolve(ROOT, v.out ?? 'bench/results'),
    cpuProf: v['cpu-prof'] ?? false,
    big: v.big ?? false,
    nodeKeys:
      v['node-keys'] === undefined
        ? quick
          ? [10_000]
          : v.big
            ? [100_000, 10_000_000, 50_000_000]
            : [100_000]
        : [...new Set(v['node-keys'].split(',').map((item) => integer('--node-keys', item.trim(), 0, 1, 100_000_000)))].sort((a, b) => a - b),
  };
  return Object.freeze(options);
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      scenarios: { type: 'string' },
      skip: { type: 'string' },
      records: { type: 'string' },
      keys: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      'replication-rate': { type: 'string' },
      'replication-duration': { type: 'string' },
      'poll-ms': { type: 'string' },
      'fanout-concurrency': { type: 'string' },
      'max-error-ratio': { type: 'string' },
      'busy-retries': { type: 'string' },
      out: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      big: { type: 'boolean' },
      'node-keys': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function scenarioList(flag: string, raw: string): ScenarioName[] {
  const names = raw.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new BenchUsageError(`${flag}: unknown scenario "${name}"; the scenarios are ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  return names as ScenarioName[];
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new BenchUsageError(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function integerList(flag: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const values = raw.split(',').map((item) => integer(flag, item.trim(), 0, 1, 4_096));
  if (values.length === 0) throw new BenchUsageError(`${flag} needs at least one number`);
  return [...new Set(values)].sort((a, b) => a - b);
}

function seconds(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > 3_600) throw new BenchUsageError(`${flag} must be a number of seconds from ${min} to 3600, got "${raw}"`);
  return Math.round(value * 1000);
}

function ratioOption(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value >= 1) throw new BenchUsageError(`${flag} must be a number from 0 to below 1, got "${raw}"`);
  return value;
}
