import assert from 'node:assert/strict';
import { BitacoraClientError } from '../../src/client/client-error';
import { createAvroClient, type AvroClient } from '../../src/client/avro-client';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startTestNode } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';

async function clientFor(addresses: string[], timeoutMs = 5_000): Promise<AvroClient> {
  const client = await createAvroClient({ addresses, timeoutMs });
  onTeardown('avro client', () => client.close());
  return client;
}

describe('Avro RPC on a real node', () => {
  it('sets, gets, removes and multi-gets with read-your-writes, agreeing with HTTP', async () => {
    const node = await startTestNode();
    const client = await clientFor([node.avroAddress]);
    const ack = await client.set('greeting', 'hola');
    assert.equal(ack.key, 'greeting');
    const entry = await client.get('greeting');
    assert.ok(entry);
    assert.equal(entry.value.toString(), 'hola');
    assert.equal(entry.offset, ack.offset);
    assert.equal(entry.partition, ack.partition);
    assert.equal(entry.source, 'local');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`)).json.value, 'hola');

    await httpRequest(`${node.httpUrl}/rpc${rpcQuery('from-http', 'x')}`, { method: 'POST' });
    const many = await client.multiGet(['greeting', 'absent', 'from-http']);
    assert.deepEqual(many.map((e) => e?.value.toString() ?? null), ['hola', null, 'x']);

    const removed = await client.remove('greeting');
    assert.ok(removed.offset > ack.offset);
    assert.equal(await client.get('greeting'), null);
  });

  it('writes several values with multiSet and counts present keys with exists, read back over HTTP', async () => {
    const node = await startTestNode({ MAX_VALUE_BYTES: '8' });
    const client = await clientFor([node.avroAddress]);
    const acks = await client.multiSet([
      ['a', 'uno'],
      ['b', Buffer.from([0, 255])],
    ]);
    assert.deepEqual(acks.map((ack) => ack.key), ['a', 'b']);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('a')}`)).json.value, 'uno');
    assert.equal(await client.exists(['a', 'b', 'nope', 'a']), 3);
    // Checked before anything is written: one value over the limit and neither key is written.
    await assert.rejects(
      client.multiSet([
        ['c', 'ok'],
        ['d', 'much too long'],
      ]),
      (e: unknown) => e instanceof BitacoraClientError && e.code === 'VALUE_TOO_LARGE',
    );
    assert.equal(await client.exists(['c', 'd']), 0);
  });

  it('keeps binary values intact', async () => {
    const node = await startTestNode();
    const client = await clientFor([node.avroAddress]);
    const bytes = Buffer.from([0, 255, 254, 128, 10, 13, 0]);
    await client.set('bin', bytes);
    assert.deepEqual((await client.get('bin'))!.value, bytes);
    const raw = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('bin')}`, { headers: { Accept: 'application/octet-stream' } });
    assert.deepEqual(raw.body, bytes);
  });

  it('answers bad input with the declared BadInput error and its stable code', async () => {
    const node = await startTestNode({ MAX_KEY_BYTES: '8', MAX_VALUE_BYTES: '4' });
    const client = await clientFor([node.avroAddress]);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => client.get(''), 'KEY_MISSING'],
      [() => client.get('much-too-long'), 'KEY_TOO_LARGE'],
      [() => client.set('k', 'too long'), 'VALUE_TOO_LARGE'],
      [() => client.multiGet(Array.from({ length: 1_001 }, (_, i) => `k${i}`)), 'TOO_MANY_KEYS'],
    ];
    for (const [call, code] of cases) {
      await assert.rejects(call(), (e: unknown) => e instanceof BitacoraClientError && e.kind === 'bad-input' && e.code === code && /MAX_|key|keys/.test(e.message), code);
    }
  });

  it('pipelines many concurrent calls on one connection', async () => {
    const node = await startTestNode();
    const client = await clientFor([node.avroAddress]);
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`k${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 300 }, (_, i) => client.get(`k${i}`)));
    values.forEach((entry, i) => assert.equal(entry?.value.toString(), `v${i}`));
  });

  it('fails over to another node when the one it used stops', async () => {
    const a = await startTestNode({ NODENAME: 'a' });
    const b = await startTestNode({ NODENAME: 'b', KAFKA_TOPIC: a.config.kafka.topic });
    const client = await clientFor([a.avroAddress, b.avroAddress]);
    await client.set('k', 'v');
    await a.stop();
    for (let i = 0; i < 10; i++) assert.equal((await client.get('k'))?.value.toString(), 'v');
    await client.set('k2', 'v2');
    assert.equal((await client.get('k2'))?.value.toString(), 'v2');
  });

  it('fails with a transport error naming the node when no node answers', async () => {
    const client = await clientFor(['127.0.0.1:1'], 1_000);
    await assert.rejects(client.get('k'), (e: unknown) => e instanceof BitacoraClientError && e.kind === 'transport' && e.message.includes('127.0.0.1:1'));
  });
});
