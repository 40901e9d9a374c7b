import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../../src/retry/retry';
import type { RunningStack } from '../../src/stack/stack';
import { DEFAULT_KAFKA_VERSION } from '../../src/stack/stack-versions';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { onTeardown } from '../helpers/teardown';
import { startTestNode } from '../helpers/test-node';
import { startTestStack } from '../helpers/test-stack';
import { uniqueName } from '../helpers/unique';

/**
 * The whole suite runs on the default Kafka (4.x); this keeps the previous line, 3.9.1, honest with a smoke run on
 * a stack of its own: write, read, delete, a foreign record, fan-out, and one fault.
 */
describe('Kafka 3.9.1 (smoke run on the previous release line)', function () {
  this.timeout(180_000);
  let stack: RunningStack;

  before(async function () {
    this.timeout(240_000);
    stack = await startTestStack({ kafkaVersion: '3.9.1' });
  });
  after(async () => stack?.stop());

  it('runs the Kafka it was asked for, not the default', () => {
    assert.equal(stack.kafkaVersion, '3.9.1');
    assert.notEqual(DEFAULT_KAFKA_VERSION, '3.9.1');
  });

  it('writes, reads and deletes; serves a foreign record; a node that has not loaded asks its peer', async () => {
    const topic = uniqueName('smoke3');
    const a = await startTestNode({ KAFKA_TOPIC: topic }, { stack });
    const write = await httpRequest(`${a.httpUrl}/rpc${rpcQuery('smoke', 'v1')}`, { method: 'POST' });
    assert.equal(write.status, 200);
    assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery('smoke')}`)).json.value, 'v1');

    const foreign = new Kafka({ clientId: 'smoke-foreign', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await foreign.connect();
    onTeardown('foreign producer', () => foreign.disconnect());
    await foreign.send({ topic, messages: [{ key: 'from-kafka', value: 'foreign' }] });
    await waitFor(async () => (await httpRequest(`${a.httpUrl}/rpc${rpcQuery('from-kafka')}`)).json?.value === 'foreign', {
      timeoutMs: 10_000,
      description: 'the foreign record to be served',
    });

    const b = await startTestNode({ KAFKA_TOPIC: topic }, { stack, waitReady: false });
    b.logConsumer!.pause();
    await waitFor(() => (b.membership?.peers().length ?? 0) >= 1, { timeoutMs: 10_000, description: 'b to see its peer' });
    const fromPeer = await httpRequest(`${b.httpUrl}/rpc${rpcQuery('smoke')}`);
    assert.equal(fromPeer.status, 200);
    assert.equal(fromPeer.json.value, 'v1');
    assert.equal(fromPeer.json.source, `peer:${a.config.nodeName}`);
    b.logConsumer!.resume();

    assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery('smoke')}`, { method: 'DELETE' })).status, 200);
    assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery('smoke')}`)).status, 404);
    await b.whenReady(30_000);
    await waitFor(async () => (await httpRequest(`${b.httpUrl}/rpc${rpcQuery('smoke')}`)).status === 404, {
      timeoutMs: 10_000,
      description: 'b to apply the delete',
    });
  });

  it('a killed broker comes back and writes resume on the same node', async () => {
    const node = await startTestNode({ KAFKA_TOPIC: uniqueName('smoke3-fault'), PRODUCE_TIMEOUT_MS: '3000' }, { stack });
    const broker = stack.kafka[0]!;
    await broker.kill('SIGKILL');
    const during = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('during', 'x')}`, { method: 'POST' });
    assert.equal(during.status, 503, 'a write with no broker answers 503');
    assert.equal(during.json.error.code, 'KAFKA_UNAVAILABLE');
    await broker.start();
    let status = 0;
    await waitFor(
      async () => {
        status = (await httpRequest(`${node.httpUrl}/rpc${rpcQuery('after', 'y')}`, { method: 'POST' })).status;
        return status === 200;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: `a write to succeed after the broker restarted (last status ${status})` },
    );
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('after')}`)).json.value, 'y');
  });
});
