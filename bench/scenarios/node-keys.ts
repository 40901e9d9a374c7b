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
  /** The process's memory after two full GCs once loaded and read from, and before the node started. */
  readonly memory: { readonly loaded: NodeJS.MemoryUsage; readonly baseline: NodeJS.MemoryUsage };
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
      const { node, respPort } = await fixtures.startNode(`node-keys-${keys}`, topic, 'probe');
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
        // Last, after the reads: the probe's two full GCs pause the node.
        const memory = await node.ask({ type: 'memory' }, 'memory', 120_000);
        if (!memory.baseline) throw new Error('the probe sent no baseline memory (taken before its node started)');
        runs.push({ keys, fillMs: fill.ms, timings, pauses, wrk: wrkRun, resp, memory: { loaded: memory.memory, baseline: memory.baseline } });
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
    figure({
      scenario: 'node-keys',
      label: `longest event-loop pause loading, ${n} keys`,
      value: run.pauses.loadMs,
      unit: 'ms',
      system: 'bitacora',
      target: { field: 'value', op: '<=', value: 1_000, unit: 'ms' },
      note: `from the first record in the map to ready (monitorEventLoopDelay, 10 ms resolution); longest GC meanwhile ${gcNote(run.pauses.gc.load)}`,
    }),
    figure({
      scenario: 'node-keys',
      label: `node memory per entry above key+value, RSS, ${n} keys`,
      value: perEntry(run.memory.loaded.rss - run.memory.baseline.rss),
      unit: 'B',
      system: 'bitacora',
      target: { field: 'value', op: '<=', value: 60, unit: 'B' },
      note: `after two full GCs, against the same process before its node started (${mib(run.memory.baseline.rss)} RSS then, ${mib(run.memory.loaded.rss)} loaded), so a node's fixed costs count too; ${KEY_BYTES + VALUE_BYTES} B of key and value per entry`,
    }),
    figure({
      scenario: 'node-keys',
      label: `node memory per entry above key+value, heap + external, ${n} keys`,
      value: perEntry(run.memory.loaded.heapUsed + run.memory.loaded.external - run.memory.baseline.heapUsed - run.memory.baseline.external),
      unit: 'B',
      system: 'bitacora',
      note: `heap used ${mib(run.memory.loaded.heapUsed)}, external ${mib(run.memory.loaded.external)} loaded`,
    }),
  ];

  function perEntry(bytes: number): number {
    return bytes / run.keys - KEY_BYTES - VALUE_BYTES;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** "412 ms major (of 3,100 ms in 210 GCs)": the longest collection of a phase, its kind, and the phase's GC total. */
function gcNote(phase: GcPhase): string {
  return `${phase.longestMs.toFixed(0)} ms ${phase.longestKind} (of ${phase.totalMs.toFixed(0)} ms in ${phase.count} GCs)`;
}
