import assert from 'node:assert/strict';
import net from 'node:net';
import express from 'express';
import { HttpServer } from '../../src/http/http-server';
import { silentLogger } from '../../src/logging/logger';
import { fakeCommands } from '../helpers/fake-command-deps';
import { isClosed, RawHttpConnection } from '../helpers/raw-http';
import { onTeardown } from '../helpers/teardown';

/**
 * The fast path's waits and its part in a stop, on real sockets against the HTTP server over the command layer's
 * in-memory fakes (the integration tests run it on a real node; these need bounds shorter than a node's).
 */
async function startServer(timeouts: { requestMs?: number; keepAliveMs?: number } = {}) {
  const fake = fakeCommands();
  const server = new HttpServer({ commands: fake.commands, app: express(), logger: silentLogger(), timeouts });
  const { port } = await server.listen(0, '127.0.0.1');
  onTeardown('HTTP server', () => server.close(1_000));
  const open = async (): Promise<RawHttpConnection> => {
    const connection = await RawHttpConnection.open(port);
    onTeardown('raw HTTP connection', () => connection.destroy());
    return connection;
  };
  return { server, fake, open, port };
}

const get = (key: string): string => `GET /rpc?key=${key} HTTP/1.1\r\nHost: t\r\n\r\n`;
const request = (key: string): Buffer => Buffer.from(get(key));

describe('HTTP fast path: timeouts and stops', () => {
  const cutOff = [
    ['a body', 'the request timeout', 'POST /rpc?key=slow HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc'],
    ['a head', 'the headers timeout (at most the request timeout)', 'GET /rpc?key=slow HTTP/1.1\r\nHo'],
  ] as const;
  for (const [what, bound, bytes] of cutOff) {
    it(`answers 408 and closes when ${what} stops arriving for ${bound}`, async () => {
      const { open } = await startServer({ requestMs: 300 });
      const raw = await open();
      const startedAt = Date.now();
      raw.write(Buffer.from(bytes));
      const answer = await raw.read({ head: false, timeoutMs: 5_000 });
      assert.ok(!isClosed(answer), 'a 408 before the close');
      assert.equal(answer.status, 408);
      assert.ok(Date.now() - startedAt >= 250, `answered after ${Date.now() - startedAt} ms, before the timeout`);
      assert.equal(await raw.waitClosed(2_000), true);
    });
  }

  it('closes a connection idle for the keep-alive timeout, and not one that keeps asking', async () => {
    const { open } = await startServer({ keepAliveMs: 400 });
    const idle = await open();
    const busy = await open();
    idle.write(request('a'));
    assert.ok(!isClosed(await idle.read({ head: false, timeoutMs: 2_000 })));
    for (let i = 0; i < 8; i++) {
      busy.write(request('b'));
      const answer = await busy.read({ head: false, timeoutMs: 2_000 });
      assert.ok(!isClosed(answer));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(idle.isEnded, true, 'the idle connection closed after 400 ms');
    assert.equal(busy.isEnded, false, 'the connection in use stays open');
  });

  it('on stop, closes idle connections at once and answers the awaited write first, with Connection: close', async () => {
    const { server, fake, open } = await startServer();
    const idle = await open();
    idle.write(request('a'));
    await idle.read({ head: false, timeoutMs: 2_000 });
    let release!: () => void;
    fake.state.holdWrites = new Promise<void>((resolve) => (release = resolve));
    const busy = await open();
    busy.write(Buffer.from('POST /rpc?key=k&value=v HTTP/1.1\r\nHost: t\r\n\r\n'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = server.close(5_000);
    assert.equal(await idle.waitClosed(1_000), true, 'the idle connection closed at once');
    assert.equal(busy.isEnded, false, 'the busy one waits for its answer');
    release();
    const answer = await busy.read({ head: false, timeoutMs: 2_000 });
    assert.ok(!isClosed(answer));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('connection'), 'close');
    assert.equal(await busy.waitClosed(2_000), true);
    await closed;
    assert.equal(fake.map.get('k')?.value.toString(), 'v');
  });

  it('stops reading a client that sends requests without reading the answers, and serves it all once it reads', async () => {
    const { server, fake, port } = await startServer();
    const requests = 100_000;
    const client = net.connect(port, '127.0.0.1');
    onTeardown('raw client', () => client.destroy());
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    // 3.5 MB of GETs, their answers about 27 MB: far more than the kernel's buffers on both sides hold.
    client.write(Buffer.from(get('missing').repeat(requests)));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const servedUnread = fake.recorded.length;
    assert.ok(servedUnread < requests / 2, `${servedUnread} of ${requests} answered while the client read nothing`);
    let answers = 0;
    let tail = '';
    const marker = 'HTTP/1.1 404 ';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${answers} answers within 30 s`)), 30_000);
      client.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString('latin1');
        for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) answers++;
        tail = text.slice(-marker.length + 1);
        if (answers === requests) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(fake.recorded.length, requests);
    // Reads end anywhere in a stream of pipelined requests: the fast path waited for each cut head's rest.
    assert.equal(server.handOffs.shape, 0);
  });
});
