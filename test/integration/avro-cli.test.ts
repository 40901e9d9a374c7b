import assert from 'node:assert/strict';
import { findFreePort } from '../../src/stack/free-port';
import { runBitacora, startNodeProcess } from '../helpers/node-process';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { createAvroClient } from '../../src/client/avro-client';
import { onTeardown } from '../helpers/teardown';

describe('bitacora get/set/del/mget', () => {
  it('sets, gets, deletes, multi-gets, multi-sets and counts through addresses, with exit codes', async () => {
    const node = await startTestNode();
    const env = { AVRO_ADDRESSES: node.avroAddress };
    assert.equal((await runBitacora(['set', 'color', 'azul'], env)).code, 0);
    assert.deepEqual(await runBitacora(['get', 'color'], env), { code: 0, stdout: 'azul\n', stderr: '' });
    assert.deepEqual(await runBitacora(['get', 'nothing'], env), { code: 1, stdout: '', stderr: '' });
    assert.deepEqual(await runBitacora(['mget', 'color', 'nothing'], env), { code: 1, stdout: 'azul\n\n', stderr: '' });
    assert.equal((await runBitacora(['mset', 'size', 'L', 'shape', 'round'], env)).code, 0);
    assert.deepEqual(await runBitacora(['exists', 'size', 'shape'], env), { code: 0, stdout: '2\n', stderr: '' });
    assert.deepEqual(await runBitacora(['exists', 'size', 'nothing'], env), { code: 1, stdout: '1\n', stderr: '' });
    assert.equal((await runBitacora(['mset', 'size', 'L', 'odd'], env)).code, 2, 'mset wants pairs');
    assert.equal((await runBitacora(['del', 'color'], env)).code, 0);
    assert.equal((await runBitacora(['get', 'color'], env)).code, 1);
  });

  it('finds the nodes through ZooKeeper', async () => {
    const node = await startTestNode();
    const env = { ZOOKEEPER_HOST: node.config.zookeeper.connectString, KAFKA_TOPIC: node.config.kafka.topic };
    assert.equal((await runBitacora(['set', 'found', 'via zk'], env)).code, 0);
    assert.equal((await runBitacora(['get', 'found'], env)).stdout, 'via zk\n');
  });

  it('says what is wrong, with a non-zero exit, when it cannot work', async () => {
    const unreachable = await runBitacora(['get', 'k'], { AVRO_ADDRESSES: '127.0.0.1:1', CLIENT_TIMEOUT_MS: '500' });
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /127\.0\.0\.1:1.*AVRO_ADDRESSES/s);
    const usage = await runBitacora(['set', 'only-a-key'], {});
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: bitacora get KEY/);
    const node = await startTestNode({ MAX_VALUE_BYTES: '3' });
    const tooLarge = await runBitacora(['set', 'k', 'four'], { AVRO_ADDRESSES: node.avroAddress });
    assert.equal(tooLarge.code, 2, 'bad input is the catalogue\'s exit code 2');
    assert.match(tooLarge.stderr, /VALUE_TOO_LARGE: .*MAX_VALUE_BYTES \(3\)/);
  });
});

describe('Avro client fail-over', () => {
  it('keeps answering when the node it used is killed with SIGKILL', async () => {
    const a = await startTestNode({ NODENAME: 'survivor' });
    const victimAvroPort = await findFreePort();
    const victim = await startNodeProcess(await testNodeEnv({ NODENAME: 'victim', KAFKA_TOPIC: a.config.kafka.topic, AVRO_PORT: String(victimAvroPort) }), await findFreePort());
    const client = await createAvroClient({ addresses: [`127.0.0.1:${victimAvroPort}`, a.avroAddress], timeoutMs: 5_000 });
    onTeardown('client', () => client.close());
    for (let i = 0; i < 20; i++) await client.set(`k${i}`, `v${i}`);
    victim.child.kill('SIGKILL');
    await victim.exited;
    for (let i = 0; i < 20; i++) assert.equal((await client.get(`k${i}`))?.value.toString(), `v${i}`);
    await client.set('after', 'kill');
    assert.equal((await client.get('after'))?.value.toString(), 'kill');
  });
});
