import assert from 'node:assert/strict';
import Redis, { type RedisOptions } from 'ioredis';
import { createClient } from 'redis';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startTestNode } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';

const TOKEN = 'client-token-0123456789abcdef';

function ioredis(port: number, options: RedisOptions = {}): Redis {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 2, ...options });
  onTeardown('ioredis client', () => client.disconnect());
  return client;
}

async function nodeRedis(port: number, options: { RESP?: 2 | 3; password?: string } = {}): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, ...options });
  client.on('error', () => undefined);
  onTeardown('node-redis client', () => client.destroy());
  await client.connect();
  return client;
}

describe('the Redis protocol with client libraries (ioredis 5, node-redis 5)', () => {
  it('ioredis: AUTH, set/get/del/mget, binary values, and a write visible over HTTP', async () => {
    const node = await startTestNode({ AUTH_TOKEN: TOKEN });
    // No ready check: its INFO would meet NOAUTH first, as with Redis.
    const refused = ioredis(node.respPort!, { enableReadyCheck: false });
    await refused.connect();
    await assert.rejects(refused.get('k'), /NOAUTH Authentication required/);

    const client = ioredis(node.respPort!, { password: TOKEN });
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

  it('ioredis: a pipeline of 1,000 commands keeps its order (each SET is read by the GET after it)', async () => {
    const node = await startTestNode();
    const client = ioredis(node.respPort!);
    await client.connect();
    const pipeline = client.pipeline();
    for (let i = 0; i < 500; i++) pipeline.set(`p${i % 50}`, `v${i}`).get(`p${i % 50}`);
    const results = await pipeline.exec();
    assert.equal(results!.length, 1_000);
    results!.forEach(([error, value], i) => {
      assert.equal(error, null);
      assert.equal(value, i % 2 === 0 ? 'OK' : `v${(i - 1) / 2}`, `reply ${i}`);
    });
  });

  it('ioredis: MULTI answers the documented error', async () => {
    const node = await startTestNode();
    const client = ioredis(node.respPort!);
    await client.connect();
    await assert.rejects(client.multi().set('a', '1').exec(), /(MULTI|EXEC) is not supported/);
    await assert.rejects(client.call('multi'), /ERR MULTI is not supported: Bitacora has no transactions/);
    assert.equal(await client.ping(), 'PONG', 'the connection is still usable');
  });

  for (const resp of [2, 3] as const) {
    it(`node-redis over RESP${resp}: AUTH, set/get/del/mget, binary values, a 1,000-command pipeline, MULTI refused`, async () => {
      const node = await startTestNode({ AUTH_TOKEN: TOKEN });
      const client = await nodeRedis(node.respPort!, { RESP: resp, password: TOKEN });
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
      if (resp === 3) {
        const hello = (await client.sendCommand(['HELLO', '3'])) as unknown;
        assert.ok(hello instanceof Map || typeof hello === 'object', 'HELLO 3 answers a map');
      }
    });
  }
});
