import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import Redis from 'ioredis';
import RedisParser from 'redis-parser';
import { AccessToken } from '../../src/access/access-token';
import { BitacoraError } from '../../src/errors/bitacora-error';
import { silentLogger } from '../../src/logging/logger';
import type { BackendInfo, RespBackend } from '../../src/resp/resp-backend';
import { RespServer } from '../../src/resp/resp-server';
import { ScanSnapshots } from '../helpers/scan-snapshots';
import { multibulk } from '../helpers/resp-fuzz-cases';
import { onTeardown } from '../helpers/teardown';

/** An in-memory backend whose writes settle when the test says: the server's logic without Kafka. */
class MemoryBackend implements RespBackend {
  readonly data = new Map<string, Buffer>();
  loading = false;
  /** Writes wait for this many ms, so later commands would overtake them if the server let them. */
  writeDelayMs = 5;
  private readonly scans = new ScanSnapshots();

  get(key: Buffer): Buffer | null {
    const value = this.data.get(key.toString());
    if (value === undefined && this.loading) throw new BitacoraError('NOT_READY', 'this node is still loading the topic');
    return value ?? null;
  }
  mget(keys: readonly Buffer[]): Array<Buffer | null> {
    return keys.map((k) => this.get(k));
  }
  exists(keys: readonly Buffer[]): number {
    return keys.filter((k) => this.get(k) !== null).length;
  }
  async set(key: Buffer, value: Buffer): Promise<void> {
    await new Promise((r) => setTimeout(r, this.writeDelayMs));
    this.data.set(key.toString(), Buffer.from(value));
  }
  async mset(pairs: ReadonlyArray<readonly [Buffer, Buffer]>): Promise<void> {
    await Promise.all(pairs.map(([k, v]) => this.set(k, v)));
  }
  async del(keys: readonly Buffer[]): Promise<number> {
    await new Promise((r) => setTimeout(r, this.writeDelayMs));
    return keys.filter((k) => this.data.delete(k.toString())).length;
  }
  size(): number {
    return this.data.size;
  }
  scan(cursor: string, count: number): { cursor: string; keys: readonly string[] } {
    return this.scans.page(cursor, count, () => this.data.keys(), (k) => this.data.has(k));
  }
  keys(): Iterable<string> {
    return this.data.keys();
  }
  info(): BackendInfo {
    return { loading: this.loading, keys: this.data.size, approximateBytes: 0, hits: 0, misses: 0, partitions: [] };
  }
}

async function startServer(options: { token?: string; protectedMode?: boolean; host?: string; maxInFlight?: number } = {}): Promise<{ backend: MemoryBackend; server: RespServer; port: number }> {
  const backend = new MemoryBackend();
  const server = new RespServer({
    backend,
    logger: silentLogger(),
    nodeName: 'unit',
    version: '0.0.0',
    limits: { maxKeyBytes: 64, maxValueBytes: 1_024, maxInFlightPerConnection: options.maxInFlight ?? 16 },
    token: options.token ? new AccessToken(options.token) : undefined,
    protectedMode: options.protectedMode ?? true,
  });
  const { port } = await server.listen(0, options.host ?? '127.0.0.1');
  onTeardown('resp server', () => server.close());
  return { backend, server, port };
}

/** Sends raw bytes, half-closes, and returns every reply until the server closes the connection. */
function exchange(port: number, bytes: Buffer, host = '127.0.0.1'): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const replies: unknown[] = [];
    const parser = new RedisParser({
      returnReply: (r: unknown) => replies.push(r),
      returnError: (e: Error) => replies.push(e),
      returnFatalError: reject,
    });
    const socket = net.connect(port, host, () => socket.end(bytes));
    const timer = setTimeout(() => reject(new Error(`no close within 5 s; replies: ${JSON.stringify(replies)}`)), 5_000);
    socket.on('data', (chunk: Buffer) => parser.execute(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(replies);
    });
  });
}

const message = (reply: unknown): string => (reply instanceof Error ? reply.message : String(reply));

describe('RESP server (in-memory backend, no Kafka)', () => {
  it('runs a pipelined SET, GET, DEL, GET in order although writes settle later', async () => {
    const { port } = await startServer();
    const replies = await exchange(port, Buffer.concat([multibulk('SET', 'k', 'v1'), multibulk('SET', 'k', 'v2'), multibulk('GET', 'k'), multibulk('DEL', 'k'), multibulk('GET', 'k')]));
    assert.deepEqual(replies, ['OK', 'OK', 'v2', 1, null]);
  });

  it('answers a pipeline far past the in-flight cap, in order', async () => {
    const { port } = await startServer({ maxInFlight: 4 });
    const frames: Buffer[] = [];
    for (let i = 0; i < 300; i++) frames.push(i % 3 === 2 ? multibulk('GET', `k${i - 1}`) : multibulk('SET', `k${i}`, `v${i}`));
    const replies = await exchange(port, Buffer.concat(frames));
    assert.equal(replies.length, 300);
    replies.forEach((reply, i) => assert.equal(reply, i % 3 === 2 ? `v${i - 1}` : 'OK', `reply ${i}`));
  });

  it('writes earlier replies, then the protocol error, then closes', async () => {
    const { port } = await startServer();
    const replies = await exchange(port, Buffer.concat([multibulk('PING'), Buffer.from('*1\r\n*1\r\n'), multibulk('PING')]));
    assert.equal(replies.length, 2);
    assert.equal(replies[0], 'PONG');
    assert.equal(message(replies[1]), "ERR Protocol error: expected '$', got '*'");
  });

  it('speaks RESP3 after HELLO 3: a map, and _ for null', async () => {
    const { port } = await startServer();
    const socket = net.connect(port, '127.0.0.1');
    onTeardown('socket', () => socket.destroy());
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.end(Buffer.concat([multibulk('HELLO', '3'), multibulk('GET', 'absent'), multibulk('CONFIG', 'GET', 'save')]));
    await new Promise((resolve) => socket.on('close', resolve));
    const text = Buffer.concat(received).toString();
    assert.match(text, /^%8\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$5\r\n7\.2\.0\r\n\$5\r\nproto\r\n:3\r\n/);
    assert.ok(text.endsWith('_\r\n%1\r\n$4\r\nsave\r\n$0\r\n\r\n'), JSON.stringify(text.slice(-60)));
  });

  it('asks for the token before anything but AUTH, HELLO, QUIT and RESET', async () => {
    const token = 'unit-token-0123456789';
    const { port } = await startServer({ token });
    const replies = await exchange(
      port,
      Buffer.concat([multibulk('GET', 'k'), multibulk('HELLO', '3'), multibulk('AUTH', 'wrong'), multibulk('AUTH', 'other', token), multibulk('AUTH', 'default', token), multibulk('PING'), multibulk('RESET'), multibulk('PING')]),
    );
    assert.deepEqual(replies.map(message), [
      'NOAUTH Authentication required.',
      replies[1] instanceof Error ? (replies[1] as Error).message : 'not an error',
      'WRONGPASS invalid username-password pair or user is disabled.',
      'WRONGPASS invalid username-password pair or user is disabled.',
      'OK',
      'PONG',
      'RESET',
      'NOAUTH Authentication required.',
    ]);
    assert.match(message(replies[1]), /^NOAUTH HELLO must be called with the client already authenticated/);
  });

  it('reports loading:1 and answers -LOADING while loading, so ioredis waits for ready', async () => {
    const { port, backend } = await startServer();
    backend.loading = true;
    const replies = await exchange(port, Buffer.concat([multibulk('INFO', 'persistence'), multibulk('GET', 'absent')]));
    assert.match(message(replies[0]), /loading:1/);
    assert.match(message(replies[1]), /^LOADING NOT_READY: /);
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    onTeardown('ioredis', () => client.disconnect());
    let ready = false;
    client.on('ready', () => (ready = true));
    void client.connect().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ready, false, 'ioredis waits while loading:1');
    backend.loading = false;
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    assert.equal(await client.get('absent'), null);
  });

  it('refuses clients from other hosts in protected mode, and accepts them with a token or RESP_PROTECTED_MODE=no', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    assert.ok(external, 'this test needs a non-loopback IPv4 interface');
    const guarded = await startServer({ host: '0.0.0.0' });
    const refused = await exchange(guarded.port, multibulk('PING'), external);
    assert.match(message(refused[0]), /^DENIED Bitacora is running in protected mode/);
    assert.deepEqual(await exchange(guarded.port, multibulk('PING')), ['PONG'], 'loopback is accepted');
    const open = await startServer({ host: '0.0.0.0', protectedMode: false });
    assert.deepEqual(await exchange(open.port, multibulk('PING'), external), ['PONG']);
    const withToken = await startServer({ host: '0.0.0.0', token: 'unit-token-0123456789' });
    assert.deepEqual((await exchange(withToken.port, multibulk('PING'), external)).map(message), ['NOAUTH Authentication required.']);
  });

  it('answers SCAN with every key once across pages, and an unknown cursor with an error', async () => {
    const { port, backend } = await startServer();
    for (let i = 0; i < 95; i++) backend.data.set(`s:${i}`, Buffer.from('x'));
    const client = new Redis({ host: '127.0.0.1', port });
    onTeardown('ioredis', () => client.disconnect());
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', 's:*', 'COUNT', 7);
      seen.push(...keys);
      cursor = next;
      backend.data.set(`late:${seen.length}`, Buffer.from('y'));
    } while (cursor !== '0');
    assert.deepEqual(seen.sort(), [...Array(95).keys()].map((i) => `s:${i}`).sort());
    await assert.rejects(client.scan('12345678901'), /ERR BAD_REQUEST: invalid cursor/);
  });
});
