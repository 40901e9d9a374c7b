import assert from 'node:assert/strict';
import Redis, { type RedisOptions } from 'ioredis';
import Redis6 from 'ioredis6';
import { createClient } from 'redis';
import { createClient as createClient6 } from 'redis6';
import { createAvroClient } from '../../src/client/avro-client';
import { findFreePort } from '../../src/stack/free-port';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { preloadTopic } from '../helpers/kafka-client';
import { startTestNode } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';
import { uniqueName } from '../helpers/unique';

const TOKEN = 'client-token-0123456789abcdef';

function ioredis(port: number, options: RedisOptions = {}, Client: typeof Redis = Redis): Redis {
  const client = new Client({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 2, ...options });
  // Connection errors (a node restarting) are expected here; a command's own error still rejects it.
  client.on('error', () => undefined);
  onTeardown('ioredis client', () => client.disconnect());
  return client;
}

async function nodeRedis(
  port: number,
  options: { RESP?: 2 | 3; password?: string } = {},
  create: typeof createClient = createClient,
): Promise<ReturnType<typeof createClient>> {
  const client = create({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, ...options });
  client.on('error', () => undefined);
  onTeardown('node-redis client', () => client.destroy());
  await client.connect();
  return client;
}

/** ioredis 5 speaks RESP2; ioredis 6 says HELLO 3 first. */
const IOREDIS: ReadonlyArray<readonly [string, typeof Redis]> = [
  ['ioredis 5 (RESP2)', Redis],
  ['ioredis 6 (RESP3)', Redis6 as unknown as typeof Redis],
];
/** node-redis 5 over RESP2 and RESP3, and node-redis 6 with its default (RESP3). */
const NODE_REDIS: ReadonlyArray<readonly [string, typeof createClient, 2 | 3 | undefined]> = [
  ['node-redis 5 over RESP2', createClient, 2],
  ['node-redis 5 over RESP3', createClient, 3],
  ['node-redis 6 with its default protocol', createClient6 as unknown as typeof createClient, undefined],
];

describe('the Redis protocol with client libraries (ioredis 5 and 6, node-redis 5 and 6)', () => {
  for (const [label, Client] of IOREDIS) {
    it(`${label}: AUTH, set/get/del/mget, binary values, and a write visible over HTTP`, async () => {
      const node = await startTestNode({ AUTH_TOKEN: TOKEN });
      // No ready check: its INFO would meet NOAUTH first, as with Redis. ioredis 6's HELLO 3 meets NOAUTH at once
      // and the client reports it as a connection error; ioredis 5's first command meets it.
      const refused = ioredis(node.respPort!, { enableReadyCheck: false, retryStrategy: () => null }, Client);
      const errors: string[] = [];
      refused.on('error', (error: Error) => errors.push(error.message));
      const answer = await refused
        .connect()
        .then(() => refused.get('k'))
        .then(
          (value) => `answered ${String(value)}`,
          (error: Error) => error.message,
        );
      assert.ok([answer, ...errors].some((m) => /^NOAUTH /.test(m)), `expected NOAUTH, got ${answer}; ${errors.join('; ')}`);

      const client = ioredis(node.respPort!, { password: TOKEN }, Client);
      await client.connect();
      assert.equal(await client.set('greeting', 'hola'), 'OK');
      assert.equal(await client.get('greeting'), 'hola');
      const http = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(http.json.value, 'hola');
      const bytes = Buffer.from([0, 255, 13, 10, 128, 0]);
      await client.set('bin', bytes);
      assert.deepEqual(await client.getBuffer('bin'), bytes);
      assert.deepEqual(await client.mget('greeting', 'absent', 'bin'), ['hola', null, bytes.toString()]);
      assert.equal(await client.del('greeting', 'absent'), 1);
      assert.equal(await client.get('greeting'), null);
      assert.equal(await client.exists('bin', 'bin'), 2);
    });

    it(`${label}: a pipeline of 1,000 commands keeps its order (each SET is read by the GET after it)`, async () => {
      const node = await startTestNode();
      const client = ioredis(node.respPort!, {}, Client);
      await client.connect();
      const pipeline = client.pipeline();
      for (let i = 0; i < 500; i++) pipeline.set(`p${i % 50}`, `v${i}`).get(`p${i % 50}`);
      const results = await pipeline.exec();
      assert.equal(results!.length, 1_000);
      results!.forEach(([error, value], i) => {
        assert.equal(error, null);
        assert.equal(value, i % 2 === 0 ? 'OK' : `v${(i - 1) / 2}`, `reply ${i}`);
      });
      const metrics = (await httpRequest(`${node.httpUrl}/metrics`)).body.toString();
      assert.match(metrics, /^bitacora_requests_total\{[^}]*interface="resp",operation="set",outcome="ok"[^}]*\} 500$/m);
      assert.match(metrics, /^bitacora_requests_total\{[^}]*interface="resp",operation="get",outcome="ok"[^}]*\} 500$/m);
      assert.match(metrics, /^bitacora_open_connections\{[^}]*interface="resp"[^}]*\} 1$/m);
    });

    it(`${label}: MULTI answers the documented error`, async () => {
      const node = await startTestNode();
      const client = ioredis(node.respPort!, {}, Client);
      await client.connect();
      await assert.rejects(client.multi().set('a', '1').exec(), /(MULTI|EXEC) is not supported/);
      await assert.rejects(client.call('multi'), /ERR MULTI is not supported: Bitacora has no transactions/);
      assert.equal(await client.ping(), 'PONG', 'the connection is still usable');
    });
  }

  for (const [label, create, resp] of NODE_REDIS) {
    it(`${label}: AUTH, set/get/del/mget, binary values, a 1,000-command pipeline, MULTI refused`, async () => {
      const node = await startTestNode({ AUTH_TOKEN: TOKEN });
      const client = await nodeRedis(node.respPort!, { ...(resp ? { RESP: resp } : {}), password: TOKEN }, create);
      assert.equal(await client.set('k', 'v'), 'OK');
      assert.equal(await client.get('k'), 'v');
      assert.deepEqual(await client.mGet(['k', 'absent']), ['v', null]);
      assert.equal(await client.del(['k', 'absent']), 1);
      assert.equal(await client.get('k'), null);
      const bytes = Buffer.from([1, 0, 255, 254]);
      await client.set('bin', bytes);
      const raw = await client.withTypeMapping({ [36 /* RESP_TYPES.BLOB_STRING */]: Buffer }).get('bin');
      assert.deepEqual(raw, bytes);
      const replies = await Promise.all(Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? client.set(`q${i % 20}`, `v${i}`) : client.get(`q${(i - 1) % 20}`))));
      replies.forEach((reply, i) => assert.equal(reply, i % 2 === 0 ? 'OK' : `v${i - 1}`, `reply ${i}`));
      await assert.rejects(client.multi().set('a', '1').exec(), /(MULTI|EXEC) is not supported/);
      assert.equal(await client.ping(), 'PONG');
      if (resp !== 2) {
        const hello = (await client.sendCommand(['HELLO', '3'])) as unknown;
        assert.ok(hello instanceof Map || typeof hello === 'object', 'HELLO 3 answers a map');
      }
    });
  }

  it('a write over RESP reads at once on its node and moments later on another; bytes written over HTTP read the same over RESP and Avro', async () => {
    const a = await startTestNode();
    const b = await startTestNode({ KAFKA_TOPIC: a.config.kafka.topic });
    const onA = ioredis(a.respPort!);
    const onB = ioredis(b.respPort!);
    await Promise.all([onA.connect(), onB.connect()]);
    await onA.set('shared', 'from-a');
    assert.equal(await onA.get('shared'), 'from-a');
    const deadline = Date.now() + 10_000;
    while ((await onB.get('shared')) !== 'from-a') {
      assert.ok(Date.now() < deadline, 'node b did not see the write within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const bytes = Buffer.from([0, 1, 2, 255, 254, 13, 10]);
    const posted = await httpRequest(`${a.httpUrl}/rpc${rpcQuery('http-bytes')}`, { method: 'POST', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(posted.status, 200);
    assert.deepEqual(await onA.getBuffer('http-bytes'), bytes);
    const avro = await createAvroClient({ addresses: [a.avroAddress], timeoutMs: 5_000 });
    onTeardown('avro client', () => avro.close());
    assert.deepEqual((await avro.get('http-bytes'))?.value, bytes);
  });

  it('ioredis reconnects after the node restarts on the same port, and reads what was written before', async () => {
    const port = await findFreePort();
    const first = await startTestNode({ RESP_PORT: String(port) });
    const client = ioredis(port, { maxRetriesPerRequest: 50, retryStrategy: (times) => Math.min(times * 100, 500) });
    await client.connect();
    await client.set('survives', 'the restart');
    await first.stop();
    const second = await startTestNode({ RESP_PORT: String(port), KAFKA_TOPIC: first.config.kafka.topic });
    assert.equal(second.respPort, port);
    assert.equal(await client.get('survives'), 'the restart');
    assert.equal(client.status, 'ready');
  });

  it('node-redis (RESP3) reconnects after the node restarts on the same port', async () => {
    const port = await findFreePort();
    const first = await startTestNode({ RESP_PORT: String(port) });
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: (retries) => (retries > 100 ? new Error('gave up') : 100) }, RESP: 3 });
    client.on('error', () => undefined);
    onTeardown('node-redis client', () => client.destroy());
    await client.connect();
    await client.set('survives', 'node-redis');
    await first.stop();
    await startTestNode({ RESP_PORT: String(port), KAFKA_TOPIC: first.config.kafka.topic });
    const deadline = Date.now() + 15_000;
    while (!client.isReady) {
      assert.ok(Date.now() < deadline, 'node-redis did not reconnect within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await client.get('survives'), 'node-redis');
  });

  it('ioredis\'s ready check waits while a node loads (INFO loading:1, reads answer -LOADING), and the client is ready once the node is', async () => {
    const topic = uniqueName('resp-loading');
    await preloadTopic(topic, 20_000, (i) => `value-${i}`);
    const node = await startTestNode({ KAFKA_TOPIC: topic }, { waitReady: false });
    // Held in its loading state, as in the fan-out test, so "while it loads" does not depend on the machine's speed.
    node.logConsumer!.pause();
    const client = ioredis(node.respPort!, { enableReadyCheck: true, enableOfflineQueue: true });
    let readyAt: number | undefined;
    client.on('ready', () => (readyAt = Date.now()));
    void client.connect().catch(() => undefined);
    const raw = ioredis(node.respPort!, { enableReadyCheck: false });
    await raw.connect();
    assert.match(await raw.info('persistence'), /loading:1/);
    await assert.rejects(raw.get('k19999'), /LOADING NOT_READY/);
    // ioredis polls INFO and holds commands meanwhile: a GET sent now is answered only once the node is ready.
    const queued = client.get('k19999');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(readyAt, undefined, 'ioredis must not be ready while the node loads');
    const resumedAt = Date.now();
    node.logConsumer!.resume();
    assert.equal(await queued, 'value-19999');
    assert.ok(readyAt !== undefined && readyAt >= resumedAt, 'ready only after the node caught up');
    assert.match(await raw.info('persistence'), /loading:0/);
  });
});
