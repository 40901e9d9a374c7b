import assert from 'node:assert/strict';
import { parseHeyCsv } from '../../bench/c-tools/hey';
import { parseRedisBenchmarkCsv } from '../../bench/c-tools/redis-benchmark';
import { parseWrkOutput, wrkScript } from '../../bench/c-tools/wrk';
import { figure, withRedisRatios } from '../../bench/report';

describe('bench: the C load generators', () => {
  it('reads redis-benchmark --csv (Redis 7), and refuses an output without results', () => {
    const output = [
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
      '"SET","34722.22","0.351","0.040","0.215","0.727","3.159","31.887"',
      '"MSET (10 keys)","20345.88","0.695","0.064","0.407","2.575","4.255","31.839"',
    ].join('\n');
    const lines = parseRedisBenchmarkCsv(output);
    assert.deepEqual(lines[0], { test: 'SET', rps: 34722.22, avgMs: 0.351, p50Ms: 0.215, p95Ms: 0.727, p99Ms: 3.159, maxMs: 31.887 });
    assert.equal(lines[1]!.test, 'MSET (10 keys)');
    assert.throws(() => parseRedisBenchmarkCsv('Could not connect to Redis at 127.0.0.1:1: Connection refused\n'), /no result/);
  });

  it('reads the JSON line its wrk script prints, in milliseconds', () => {
    const result = parseWrkOutput('Running 2s test\nBENCH_JSON {"requests":40000,"duration_us":2000000,"non2xx":3,"socket_errors":1,"p50_us":800,"p99_us":3500,"max_us":9000}\n', 'wrk ...');
    assert.equal(result.rps, 20_000);
    assert.equal(result.p50Ms, 0.8);
    assert.equal(result.p99Ms, 3.5);
    assert.equal(result.non2xx, 3);
    assert.equal(result.socketErrors, 1);
    assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n', 'wrk ...'), /no result/);
  });

  it("reads hey's CSV: percentiles of every request's time, the rate from the last request's end, and non-2xx answers", () => {
    const rows = ['response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset'];
    // 100 requests of 0.1 ms, started 0.1 ms apart; one took 0.9 ms and one was answered 404.
    for (let i = 0; i < 100; i++) rows.push(`${i === 42 ? '0.0009' : '0.0001'},0.0000,0.0000,0.0000,0.0001,0.0000,${i === 7 ? 404 : 200},${(i * 0.0001).toFixed(4)}`);
    const result = parseHeyCsv(`${rows.join('\n')}\n`, 'hey ...');
    assert.equal(result.requests, 100);
    assert.equal(result.non2xx, 1);
    assert.equal(result.p50Ms, 0.1);
    assert.equal(result.p99Ms, 0.1);
    assert.equal(result.maxMs, 0.9);
    assert.ok(Math.abs(result.seconds - 0.0100) < 1e-9, String(result.seconds));
    assert.ok(Math.abs(result.rps - 10_000) < 1e-6, String(result.rps));
    const slow = parseHeyCsv(`${[rows[0], ...rows.slice(1).map((row, i) => (i >= 98 ? row.replace(/^0\.0001/, '0.0007') : row))].join('\n')}\n`, 'hey ...');
    assert.equal(slow.p99Ms, 0.7, 'the 99th of 100 requests');
    assert.throws(() => parseHeyCsv('Get "http://127.0.0.1:1/": dial tcp: connection refused\n', 'hey ...'), /no result/);
  });

  it('writes a GET and a POST script over the bench key format', () => {
    assert.match(wrkScript('get'), /wrk\.format\("GET", "\/rpc\?key=" \.\. key\)/);
    assert.match(wrkScript('post'), /wrk\.format\("POST", "\/rpc\?key=" \.\. key \.\. "&value=" \.\. value\)/);
    assert.match(wrkScript('get'), /local width = 16 - #prefix/);
  });

  it('compares a row with Redis measured by the same kind of generator at the same pipeline depth', () => {
    const row = (system: 'redis' | 'bitacora', value: number, generator: 'node' | 'c', pipeline = 1) =>
      figure({ scenario: 's', label: `${system} ${generator} ${pipeline}`, value, unit: 'ops/s', system, operation: 'get', concurrency: 64, generator, pipeline });
    const rows = withRedisRatios([row('redis', 100, 'node'), row('redis', 200, 'c'), row('redis', 1_000, 'c', 16), row('bitacora', 50, 'node'), row('bitacora', 100, 'c'), row('bitacora', 500, 'c', 16)]);
    assert.deepEqual(rows.filter((r) => r.system === 'bitacora').map((r) => r.vsRedis), [0.5, 0.5, 0.5]);
  });

  it("takes a row's ratio against Redis measured beside it when it has one, and against Redis's row otherwise", () => {
    const row = (system: 'redis' | 'bitacora', value: number, redisBeside?: number) =>
      figure({ scenario: 's', label: `${system} ${value}`, value, unit: 'ops/s', system, operation: 'get', concurrency: 64, generator: 'c', redisBeside, target: system === 'bitacora' ? { field: 'vsRedis', op: '>=', value: 0.8, unit: '× Redis' } : undefined });
    const [, beside, apart] = withRedisRatios([row('redis', 100_000), row('bitacora', 45_000, 50_000), row('bitacora', 45_000)]);
    assert.equal(beside!.vsRedis, 0.9);
    assert.equal(beside!.met, true);
    assert.equal(apart!.vsRedis, 0.45);
    assert.equal(apart!.met, false);
  });
});
