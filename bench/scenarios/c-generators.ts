import { execFile } from 'node:child_process';
import { READ_KEY_PREFIX, readyTimeoutMs, waitForPositions } from '../fixtures';
import { runRedisBenchmark, type RedisBenchmarkLine, type RedisBenchmarkRun } from '../c-tools/redis-benchmark';
import { type HeyResult, runHey } from '../c-tools/hey';
import { runWrk, type WrkResult } from '../c-tools/wrk';
import { benchKey, KEY_BYTES, VALUE_BYTES } from '../keys';
import { findRedisServer, REDIS_INSTALL_HINT, startRedis } from '../redis-server';
import { figure, type Figure, type Target } from '../report';
import { type Scenario, ScenarioSkipped, TARGET_CONCURRENCY } from './scenario';

/** redis-benchmark's -r keys are `key:` and 12 digits: the bench's 16-byte keys with the prefix `key:`. */
const REDIS_BENCHMARK_PREFIX = 'key:';
/** (connections, pipelined requests per connection) of every redis-benchmark run, as issue #17 lists them. */
const REDIS_SHAPES = [
  { clients: 1, pipeline: 1 },
  { clients: 16, pipeline: 1 },
  { clients: 64, pipeline: 1 },
  { clients: 64, pipeline: 16 },
] as const;
/**
 * Reads are run apart from writes, and before them: writes leave Kafka's log cleaner and the node's apply path busy
 * for a while on these two shared cores, and a read row right after them measured that (HTTP GET p99 at one
 * connection 5.75 ms after the pipelined MSETs, 2026-12-04T05-58-51Z).
 */
const READ_TESTS = ['get'] as const;
const WRITE_TESTS = ['set', 'mset'] as const;
const WRK_GET_CONNECTIONS = [1, 16, 64] as const;

const INSTALL_HINT = 'install Debian\'s redis-tools, wrk and hey (`sudo apt-get install -y redis-tools wrk hey`), or leave this scenario out with --skip c-generators';

/**
 * The C load generators people use, side by side in one run: redis-benchmark against redis-server and against a
 * node's Redis protocol, and wrk against a node's HTTP API. A Node generator saturates these two cores
 * before the node does; these do not, so their rows are what the ratios to redis-server are read from. Each read
 * row's ratio is to redis-server's GET of the same shape measured right before and right after it (Figure.redisBeside):
 * this machine's speed swings from one minute to the next, and Redis's own rows, measured minutes earlier, once
 * moved a ratio from 0.33× to 0.87× between two runs of the same build.
 */
export const cGeneratorsScenario: Scenario = {
  name: 'c-generators',
  fixtures: ['single'],
  async run(context) {
    const [redisServer, redisBenchmark, wrk, hey] = await Promise.all([findRedisServer(), which('redis-benchmark'), which('wrk'), which('hey')]);
    if (!redisServer) throw new ScenarioSkipped(REDIS_INSTALL_HINT);
    const missing = [['redis-benchmark', redisBenchmark], ['wrk', wrk], ['hey', hey]].find(([, found]) => !found);
    if (missing || !redisBenchmark || !wrk || !hey) throw new ScenarioSkipped(`${missing?.[0]} is not on the PATH: ${INSTALL_HINT}`);
    const { options } = context;
    const requests = options.quick ? 20_000 : 200_000;
    const figures: Figure[] = [];

    const redisRuns: RedisBenchmarkRun[] = [];
    const respRuns: RedisBenchmarkRun[] = [];
    /** redis-server's GET runs right beside each Bitacora read row (see Figure.redisBeside). */
    const besideRuns: RedisBenchmarkRun[] = [];
    type Shape = (typeof REDIS_SHAPES)[number];
    const benchmark = async (port: number, shape: Shape, tests: readonly string[]): Promise<RedisBenchmarkRun> => {
      const run = await runRedisBenchmark(redisBenchmark, {
        port,
        ...shape,
        // One connection gets a tenth of the requests: it runs an order of magnitude slower.
        requests: shape.clients === 1 ? Math.max(2_000, requests / 10) : requests,
        tests,
        keyspace: options.keys,
        dataSize: VALUE_BYTES,
        timeoutMs: 300_000,
      });
      context.log(`  ${run.command}: ${run.lines.map((line) => `${line.test} ${Math.round(line.rps).toLocaleString('en-US')}/s p99 ${line.p99Ms} ms`).join(', ')}`);
      return run;
    };
    const benchmarkShapes = async (port: number, system: 'redis' | 'bitacora', runs: RedisBenchmarkRun[], tests: readonly string[]): Promise<void> => {
      for (const shape of REDIS_SHAPES) {
        const run = await benchmark(port, shape, tests);
        runs.push(run);
        figures.push(...run.lines.map((line) => redisBenchmarkFigure(line, shape, system)));
      }
    };

    // redis-server first, alone: the single node is loaded but idle meanwhile. It then stays up, idle, for the runs
    // beside each Bitacora read row.
    const redis = await startRedis(redisServer, context.resources, context.logDir);
    /** redis-server's GET rate at `shape`, measured right before and right after `measure`, averaged. */
    const besideRedis = async <T>(shape: Shape, measure: () => Promise<T>): Promise<{ result: T; redis: number }> => {
      const rate = async (): Promise<number> => {
        const run = await benchmark(redis.port, shape, READ_TESTS);
        besideRuns.push(run);
        return run.lines[0]!.rps;
      };
      const before = await rate();
      const result = await measure();
      return { result, redis: (before + (await rate())) / 2 };
    };
    const wrkRuns: WrkResult[] = [];
    const seconds = Math.max(2, Math.round(options.durationMs / 1000));
    const { node, topic, respPort } = await context.fixtures.single();
    // One wrk thread, as redis-benchmark is one thread: on two cores a second generator thread takes the core the
    // node would otherwise have. The 64-connection GET is also run with two threads, for the record.
    const wrkRun = async (script: 'get' | 'post', connections: number, threads = 1): Promise<WrkResult> => {
      const result = await runWrk(wrk, {
        baseUrl: node.url,
        connections,
        threads,
        durationSeconds: seconds,
        script,
        keyPrefix: script === 'get' ? READ_KEY_PREFIX : 'w',
        keys: options.keys,
        valueBytes: VALUE_BYTES,
        timeoutMs: (seconds + 60) * 1000,
      });
      wrkRuns.push(result);
      context.log(`  ${result.command}: ${Math.round(result.rps).toLocaleString('en-US')}/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms, ${result.non2xx} non-2xx, ${result.socketErrors} socket errors`);
      if (result.non2xx > 0 || result.socketErrors > 0) throw new Error(`${result.command}: ${result.non2xx} non-2xx answers and ${result.socketErrors} socket errors: the figure would not be of successful requests`);
      return result;
    };
    try {
      context.log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}; preloading ${options.keys} keys for redis-benchmark`);
      await redis.preload(REDIS_BENCHMARK_PREFIX, options.keys);
      await benchmarkShapes(redis.port, 'redis', redisRuns, READ_TESTS);
      await benchmarkShapes(redis.port, 'redis', redisRuns, WRITE_TESTS);

      // The same runs against the node's Redis protocol, over the same keys (written to its topic first), each with
      // redis-server's GET of the same shape right before and after it.
      const preload = await context.fixtures.fill(topic, options.keys, REDIS_BENCHMARK_PREFIX);
      await waitForPositions(node.url, preload.endOffsets, readyTimeoutMs(options.keys));
      context.log(`node ${node.name}: RESP on 127.0.0.1:${respPort}, ${options.keys} keys of redis-benchmark's format loaded`);
      for (const shape of REDIS_SHAPES) {
        const { result: run, redis: redisBeside } = await besideRedis(shape, () => benchmark(respPort, shape, READ_TESTS));
        respRuns.push(run);
        figures.push(...run.lines.map((line) => redisBenchmarkFigure(line, shape, 'bitacora', redisBeside)));
      }

      for (const connections of WRK_GET_CONNECTIONS) {
        const { result, redis: redisBeside } = await besideRedis({ clients: connections, pipeline: 1 }, () => wrkRun('get', connections));
        figures.push(
          figure({
            scenario: 'c-generators',
            label: `HTTP GET hit (wrk), ${connections} connections`,
            value: result.rps,
            unit: 'ops/s',
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
            system: 'bitacora',
            operation: 'get',
            generator: 'c',
            pipeline: 1,
            concurrency: connections,
            redisBeside,
            target: connections === TARGET_CONCURRENCY ? { field: 'vsRedis', op: '>=', value: 0.6, unit: '× Redis' } : undefined,
            note: [
              besideNote(redisBeside),
              connections === 1 ? "wrk's latency figures at one connection disagree with its own rate here (see bench/c-tools/hey.ts): the p99 target is read from hey's row" : undefined,
            ]
              .filter(Boolean)
              .join('; '),
          }),
        );
      }
    } finally {
      await redis.stop();
    }
    // One connection's latency from hey, which times every request itself: one key of the loaded set, read again and again.
    const heyRuns: HeyResult[] = [];
    const latency = await runHey(hey, {
      url: `${node.url}/rpc?key=${encodeURIComponent(benchKey(READ_KEY_PREFIX, Math.floor(options.keys / 2)))}`,
      connections: 1,
      durationSeconds: seconds,
      timeoutMs: (seconds + 60) * 1000,
    });
    heyRuns.push(latency);
    context.log(`  ${latency.command}: ${Math.round(latency.rps).toLocaleString('en-US')}/s p50 ${latency.p50Ms.toFixed(2)} ms p99 ${latency.p99Ms.toFixed(2)} ms, mean × rate ${((latency.meanMs * latency.rps) / 1000).toFixed(2)}, ${latency.non2xx} non-2xx`);
    if (latency.non2xx > 0) throw new Error(`${latency.command}: ${latency.non2xx} non-2xx answers: the figure would not be of successful requests`);
    figures.push(
      figure({
        scenario: 'c-generators',
        label: 'HTTP GET hit (hey), 1 connection',
        value: latency.rps,
        unit: 'ops/s',
        p50Ms: latency.p50Ms,
        p99Ms: latency.p99Ms,
        system: 'bitacora',
        // No operation: a row without one is not compared with Redis's (hey has no Redis counterpart).
        pipeline: 1,
        concurrency: 1,
        target: { field: 'p99Ms', op: '<=', value: 0.5, unit: 'ms' },
        note: "hey times every request itself (0.1 ms resolution); not compared with Redis's rows",
      }),
    );
    const twoThreads = await wrkRun('get', TARGET_CONCURRENCY, 2);
    figures.push(
      figure({
        scenario: 'c-generators',
        label: `HTTP GET hit (wrk -t 2), ${TARGET_CONCURRENCY} connections`,
        value: twoThreads.rps,
        unit: 'ops/s',
        p50Ms: twoThreads.p50Ms,
        p99Ms: twoThreads.p99Ms,
        system: 'bitacora',
        operation: 'get',
        generator: 'c',
        pipeline: 1,
        concurrency: TARGET_CONCURRENCY,
        note: 'the same run with two wrk threads: on two cores the generator then competes with the node for both',
      }),
    );
    // Then the writes, RESP's and HTTP's, once every read row is measured.
    await benchmarkShapes(respPort, 'bitacora', respRuns, WRITE_TESTS);
    const writes = await wrkRun('post', TARGET_CONCURRENCY);
    figures.push(
      figure({
        scenario: 'c-generators',
        label: `HTTP POST, read-your-writes (wrk), ${TARGET_CONCURRENCY} connections`,
        value: writes.rps,
        unit: 'writes/s',
        p50Ms: writes.p50Ms,
        p99Ms: writes.p99Ms,
        system: 'bitacora',
        operation: 'set',
        generator: 'c',
        pipeline: 1,
        concurrency: TARGET_CONCURRENCY,
        target: { field: 'value', op: '>=', value: 25_000, unit: 'writes/s' },
      }),
    );
    return { figures, details: { keys: options.keys, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, redisBenchmark: redisRuns, redisBeside: besideRuns, resp: respRuns, wrk: wrkRuns, hey: heyRuns } };
  },
};

/** One redis-benchmark test line as a row; operations other than GET and SET (MSET) are shown but not compared. */
function redisBenchmarkFigure(line: RedisBenchmarkLine, shape: { clients: number; pipeline: number }, system: 'redis' | 'bitacora', redisBeside?: number): Figure {
  const test = line.test.split(' ')[0]!.toLowerCase();
  const pipelined = shape.pipeline > 1 ? `, -P ${shape.pipeline}` : '';
  return figure({
    target: system === 'bitacora' ? respTarget(test, shape) : undefined,
    scenario: 'c-generators',
    label: `${system === 'redis' ? 'Redis' : 'RESP'} ${line.test} (redis-benchmark), ${shape.clients} connections${pipelined}`,
    value: line.rps,
    unit: 'ops/s',
    p50Ms: line.p50Ms,
    p99Ms: line.p99Ms,
    system,
    operation: test === 'get' || test === 'set' || test === 'mset' ? test : undefined,
    generator: 'c',
    pipeline: shape.pipeline,
    concurrency: shape.clients,
    redisBeside,
    note: redisBeside === undefined ? undefined : besideNote(redisBeside),
  });
}

/** Where a row's ratio to Redis comes from when Redis was measured beside it. */
function besideNote(redisBeside: number): string {
  return `the ratio is to redis-server's ${Math.round(redisBeside).toLocaleString('en-US')}/s, its GET of the same shape measured right before and right after this row`;
}

/** Issue #17's RESP targets: GET ≥ 0.8× Redis at 64 connections, ≥ 0.5× with -P 16, p99 ≤ 0.5 ms alone; SET ≥ 25,000/s at 64. */
function respTarget(test: string, shape: { clients: number; pipeline: number }): Target | undefined {
  if (test === 'get' && shape.clients === TARGET_CONCURRENCY) return { field: 'vsRedis', op: '>=', value: shape.pipeline > 1 ? 0.5 : 0.8, unit: '× Redis' };
  if (test === 'get' && shape.clients === 1) return { field: 'p99Ms', op: '<=', value: 0.5, unit: 'ms' };
  if (test === 'set' && shape.clients === TARGET_CONCURRENCY && shape.pipeline === 1) return { field: 'value', op: '>=', value: 25_000, unit: 'writes/s' };
  return undefined;
}

/** The executable `name` resolves to on the PATH, or undefined. */
export function which(name: string): Promise<string | undefined> {
  return new Promise((resolve) => execFile('which', [name], (error, stdout) => resolve(error ? undefined : stdout.trim() || undefined)));
}
