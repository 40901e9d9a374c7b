import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { runLoad, startLoadProcess } from '../../bench/load-generator';
import { LoadFailedError } from '../../bench/load/closed-loop';
import type { ClosedLoopSpec, OperationSpec, ReplicationSpec } from '../../bench/load/load-spec';
import { encodeCommand, parseReply, RespError } from '../../bench/load/resp-client';

/** A port nothing listens on: bound by the OS, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An HTTP server for the test, closed afterwards. */
async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function closedLoop(operation: OperationSpec, overrides: Partial<ClosedLoopSpec> = {}): ClosedLoopSpec {
  return { job: 'closed-loop', operation, concurrency: 4, warmupMs: 50, durationMs: 300, requestTimeoutMs: 2_000, maxErrorRatio: 0.001, ...overrides };
}

const keys = { prefix: 'r', count: 100, order: 'random' } as const;

describe('bench: load generator', function () {
  this.timeout(20_000);
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('measures a closed loop: completed requests, a rate and percentiles', async () => {
    const server = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ key: 'k', value: 'v', source: req.url?.includes('key=r') ? 'local' : 'none' }));
    });
    closers.push(server.close);
    const result = await runLoad(closedLoop({ kind: 'http-get', urls: [server.url], keys, expectStatus: 200 }));
    assert.equal(result.job, 'closed-loop');
    if (result.job !== 'closed-loop') return;
    assert.ok(result.completed > 0, 'requests completed');
    assert.equal(result.failed, 0);
    assert.ok(result.opsPerSecond > 0);
    assert.ok(result.windowMs >= 250 && result.windowMs < 1_000, `window ${result.windowMs} ms`);
    assert.ok(result.latency.p50Ms > 0 && result.latency.p50Ms <= result.latency.p99Ms && result.latency.p99Ms <= result.latency.maxMs);
    assert.ok(result.attempted >= result.completed, 'warm-up requests are attempted but not counted');
  });

  it('rejects instead of reporting zeros when nothing listens (in this process)', async () => {
    const port = await closedPort();
    await assert.rejects(runLoad(closedLoop({ kind: 'http-get', urls: [`http://127.0.0.1:${port}`], keys, expectStatus: 200 })), (error: Error) => {
      assert.ok(error instanceof LoadFailedError, error.message);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('fails the load generator process, with its reason, when nothing listens', async () => {
    const port = await closedPort();
    const generator = startLoadProcess(closedLoop({ kind: 'http-set', urls: [`http://127.0.0.1:${port}`], keyPrefix: 'w' }));
    closers.push(() => generator.stop());
    await assert.rejects(generator.result, (error: Error) => error instanceof LoadFailedError && /requests failed.*ECONNREFUSED/.test(error.message));
  });

  it('counts answers other than the expected one as failures, beyond the threshold', async () => {
    let served = 0;
    const server = await serve((_req, res) => {
      served++;
      res.statusCode = served % 50 === 0 ? 404 : 200; // 2% misses
      res.end('{}');
    });
    closers.push(server.close);
    await assert.rejects(runLoad(closedLoop({ kind: 'http-get', urls: [server.url], keys, expectStatus: 200 })), /answered 404, expected 200/);
  });

  it('tolerates failures under the threshold and reports them', async () => {
    let served = 0;
    const server = await serve((_req, res) => {
      served++;
      res.statusCode = served === 5 ? 503 : 200;
      res.end('{}');
    });
    closers.push(server.close);
    const result = await runLoad(closedLoop({ kind: 'http-get', urls: [server.url], keys, expectStatus: 200 }, { maxErrorRatio: 0.1 }));
    assert.equal(result.job === 'closed-loop' && result.failed, 1);
  });

  it('checks where a fan-out answer came from', async () => {
    const server = await serve((_req, res) => res.end(JSON.stringify({ value: 'v', source: 'local' })));
    closers.push(server.close);
    await assert.rejects(
      runLoad(closedLoop({ kind: 'http-get', urls: [server.url], keys, expectStatus: 200, expectSource: 'peer:' })),
      /source local, expected peer:/,
    );
  });

  it('fails a write run whose acknowledged writes do not read back', async () => {
    const server = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.method === 'POST' ? '{"partition":0,"offset":1}' : '{"value":"something else"}');
    });
    closers.push(server.close);
    await assert.rejects(runLoad(closedLoop({ kind: 'http-set', urls: [server.url], keyPrefix: 'w' })), /read-your-writes failed/);
  });

  it('fails a Redis GET run on misses', async () => {
    const server = net.createServer((socket) => socket.on('data', (chunk) => socket.write('$-1\r\n'.repeat(chunk.toString().split('*2\r\n').length - 1))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    await assert.rejects(runLoad(closedLoop({ kind: 'redis-get', port, keys })), /expected a value/);
  });

  it('times replication until every observer has applied a write, and fails when one never does', async () => {
    let next = 0;
    let frozen = false;
    const server = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        res.end(JSON.stringify({ partition: 0, offset: next++ }));
      } else {
        res.end(JSON.stringify({ partitions: [{ partition: 0, position: frozen ? 0 : next }] }));
      }
    });
    closers.push(server.close);
    const spec: ReplicationSpec = {
      job: 'replication',
      writeUrl: server.url,
      observerUrls: [server.url, server.url],
      ratePerSecond: 200,
      warmupMs: 50,
      durationMs: 300,
      pollIntervalMs: 2,
      keyPrefix: 'p',
      requestTimeoutMs: 2_000,
      replicationTimeoutMs: 300,
      maxInFlight: 8,
      maxErrorRatio: 0.001,
    };
    const result = await runLoad(spec);
    assert.equal(result.job, 'replication');
    if (result.job !== 'replication') return;
    assert.ok(result.writesMeasured > 20, `${result.writesMeasured} writes measured`);
    assert.ok(result.replication.p99Ms >= 0 && result.replication.p99Ms < 200);
    assert.ok(result.pollPeriodMs > 0);

    frozen = true;
    await assert.rejects(runLoad(spec), /not applied by every observer/);
  });
});

describe('bench: RESP', () => {
  it('encodes commands as arrays of bulk strings', () => {
    assert.equal(encodeCommand(['SET', 'k', Buffer.from('v1')]).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n');
  });

  it('parses every reply type, and waits for a reply cut in two', () => {
    assert.deepEqual(parseReply(Buffer.from('+OK\r\n'), 0), { reply: 'OK', next: 5 });
    assert.deepEqual(parseReply(Buffer.from(':42\r\n'), 0), { reply: 42, next: 5 });
    assert.deepEqual(parseReply(Buffer.from('$-1\r\n'), 0), { reply: null, next: 5 });
    assert.equal(String(parseReply(Buffer.from('$5\r\nhello\r\n'), 0)?.reply), 'hello');
    assert.equal(parseReply(Buffer.from('$5\r\nhel'), 0), undefined);
    assert.equal(parseReply(Buffer.from('+O'), 0), undefined);
    const array = parseReply(Buffer.from('*2\r\n$1\r\na\r\n:7\r\n'), 0);
    assert.deepEqual((array?.reply as unknown[]).map(String), ['a', '7']);
    const error = parseReply(Buffer.from('-ERR wrong\r\n'), 0)?.reply;
    assert.ok(error instanceof RespError && error.message === 'ERR wrong');
    assert.throws(() => parseReply(Buffer.from('?\r\n'), 0), /not a RESP reply/);
  });
});
