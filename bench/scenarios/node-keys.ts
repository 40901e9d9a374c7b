import { readyTimeoutMs } from '../fixtures';
import { runRedisBenchmark, type RedisBenchmarkRun } from '../c-tools/redis-benchmark';
import { runWrk, type WrkResult } from '../c-tools/wrk';
import { KEY_BYTES } from '../keys';
import type { GcPhase, ProbePauses, ProbeTimings } from '../node-probe';
import { figure, type Figure } from '../report';
import { which } from './c-generators';
import { type Scenario, ScenarioSkipped, TARGET_CONCURRENCY } from './scenario';

/** Issue #14's size for the store rows. */
const VALUE_BYTES = 10;
/** redis-benchmark's -r keys are `key:` and 12 digits, which wrk's script writes too: one topic serves both. */
const KEY_PREFIX = 'key:';

interface SizeRun {
  readonly keys: number;
  readonly fillMs: number;
  readonly timings: ProbeTimings;
  readonly pauses: ProbePauses;
  readonly wrk: WrkResult;
  readonly resp: RedisBenchmarkRun;
}

/**
 * Reads through a whole node at two key counts (issue #14): a fresh probe node loads a topic of N keys (16-byte keys,
 * 10-byte values), then wrk (HTTP GET, random keys) and redis-benchmark (RESP GET, random keys) run at 64
 * connections against it. 100,000 keys by default; 10,000,000 and 50,000,000 as well with `--big` (filling and loading
 * them takes minutes), or the counts `--node-keys` names. The load's time and longest event-loop pause come from inside the node (bench/node-probe.ts).
 */
export const nodeKeysScenario: Scenario = {
  name: 'node-keys',
  fixtures: [],
  async run(context) {
    const [redisBenchmark, wrk] = await Promise.all([which('redis-benchmark'), which('wrk')]);
    if (!redisBenchmark || !wrk) throw new ScenarioSkipped(`${redisBenchmark ? 'wrk' : 'redis-benchmark'} is not on the PATH: install Debian's redis-tools and wrk, or leave this scenario out with --skip node-keys`);
    const { options, fixtures, runId } = context;
    const sizes = options.nodeKeys;
    const seconds = Math.max(2, Math.round(options.durationMs / 1000));
    const runs: SizeRun[] = [];
    for (const keys of sizes) {
      const topic = `bench-${runId}-node-keys-${keys}`;
      const fill = await fixtures.fill(topic, keys, KEY_PREFIX, VALUE_BYTES);
      // The bench topic has no key→partition pin, so a starting node reads all of partition 0 looking for one, within
      // KAFKA_CONNECT_TIMEOUT_MS: 30 s was too short for the 16.7 M records of partition 0 at 50 M keys.
      const connectTimeoutMs = Math.min(600_000, 30_000 + Math.round(keys / 100));
      const { node, respPort } = await fixtures.startNode(`node-keys-${keys}`, topic, 'probe', { KAFKA_CONNECT_TIMEOUT_MS: String(connectTimeoutMs) });
      try {
        const timeoutMs = readyTimeoutMs(keys);
        const { timings } = await node.ask({ type: 'timings', timeoutMs }, 'timings', timeoutMs + 5_000);
        if (timings.entries !== keys) throw new Error(`the node holds ${timings.entries} entries once ready, expected ${keys}; see ${node.logFile}`);
        context.log(`  node ready with ${keys.toLocaleString('en-US')} keys in ${((timings.readyAt - timings.startCalledAt) / 1000).toFixed(1)} s`);
        const wrkGets = (durationSeconds: number): Promise<WrkResult> =>
          runWrk(wrk, {
            baseUrl: node.url,
            connections: TARGET_CONCURRENCY,
            threads: 2,
            durationSeconds,
            script: 'get',
            keyPrefix: KEY_PREFIX,
            keys,
            valueBytes: VALUE_BYTES,
            timeoutMs: (durationSeconds + 60) * 1000,
          });
        // A warm-up run, not kept: the first seconds of a fresh node include compiling its read path.
        if (options.warmupMs > 0) await wrkGets(Math.max(1, Math.round(options.warmupMs / 1000)));
        const wrkRun = await wrkGets(seconds);
        context.log(`  ${wrkRun.command}: ${Math.round(wrkRun.rps).toLocaleString('en-US')}/s p99 ${wrkRun.p99Ms.toFixed(2)} ms, ${wrkRun.non2xx} non-2xx`);
        if (wrkRun.non2xx > 0 || wrkRun.socketErrors > 0) throw new Error(`${wrkRun.command}: ${wrkRun.non2xx} non-2xx answers and ${wrkRun.socketErrors} socket errors: the figure would not be of hits`);
        const resp = await runRedisBenchmark(redisBenchmark, {
          port: respPort,
          clients: TARGET_CONCURRENCY,
          pipeline: 1,
          requests: options.quick ? 20_000 : 200_000,
          tests: ['get'],
          keyspace: keys,
          dataSize: VALUE_BYTES,
          timeoutMs: 300_000,
        });
        context.log(`  ${resp.command}: ${resp.lines.map((line) => `${Math.round(line.rps).toLocaleString('en-US')}/s p99 ${line.p99Ms} ms`).join(', ')}`);
        const { pauses } = await node.ask({ type: 'pauses' }, 'pauses', 10_000);
        runs.push({ keys, fillMs: fill.ms, timings, pauses, wrk: wrkRun, resp });
      } finally {
        await node.stop();
      }
    }
    return { details: { keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, runs: runs.map(({ wrk: w, resp, ...rest }) => ({ ...rest, wrk: { ...w, raw: undefined }, resp })) }, figures: runs.flatMap(figuresOf) };
  },
};

function figuresOf(run: SizeRun): Figure[] {
  const n = run.keys.toLocaleString('en-US');
  const get = run.resp.lines[0]!;
  const loadMs = run.timings.readyAt - run.timings.startCalledAt;
  const sizes = `${n} keys of ${KEY_BYTES} B, ${VALUE_BYTES}-byte values`;
  return [
    figure({
      scenario: 'node-keys',
      label: `HTTP GET hit (wrk), ${TARGET_CONCURRENCY} connections, ${n} keys`,
      value: run.wrk.rps,
      unit: 'ops/s',
      p50Ms: run.wrk.p50Ms,
      p99Ms: run.wrk.p99Ms,
      system: 'bitacora',
      generator: 'c',
      concurrency: TARGET_CONCURRENCY,
      note: `${sizes}, random keys; ${run.wrk.command}`,
    }),
    figure({
      scenario: 'node-keys',
      label: `RESP GET hit (redis-benchmark), ${TARGET_CONCURRENCY} connections, ${n} keys`,
      value: get.rps,
      unit: 'ops/s',
      p50Ms: get.p50Ms,
      p99Ms: get.p99Ms,
      system: 'bitacora',
      generator: 'c',
      concurrency: TARGET_CONCURRENCY,
      note: `${sizes}, random keys; ${run.resp.command}`,
    }),
    figure({
      scenario: 'node-keys',
      label: `node start() to ready, ${n} keys`,
      value: (run.keys * 1000) / loadMs,
      unit: 'records/s',
      system: 'bitacora',
      note: `${(loadMs / 1000).toFixed(1)} s from createNode().start(), Kafka connection and group join included; longest event-loop pause ${run.pauses.startMs.toFixed(0)} ms starting (to the first record), ${run.pauses.loadMs.toFixed(0)} ms loading, ${run.pauses.serveMs.toFixed(0)} ms serving the runs above; longest GC ${gcNote(run.pauses.gc.start)} starting, ${gcNote(run.pauses.gc.load)} loading, ${gcNote(run.pauses.gc.serve)} serving`,
    }),
  ];
}

/** "412 ms major (of 3,100 ms in 210 GCs)": the longest collection of a phase, its kind, and the phase's GC total. */
function gcNote(phase: GcPhase): string {
  return `${phase.longestMs.toFixed(0)} ms ${phase.longestKind} (of ${phase.totalMs.toFixed(0)} ms in ${phase.count} GCs)`;
}
