import assert from 'node:assert/strict';
import { waitFor } from '../../src/retry/retry';
import { foreignProducer } from '../helpers/kafka-client';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startTestNode } from '../helpers/test-node';
import { uniqueName } from '../helpers/unique';

describe('three nodes on one topic', () => {
  it('a write on one node is readable there at once and on the others moments later; a foreign write on all', async () => {
    const topic = uniqueName('cluster');
    const nodes = [];
    for (let i = 0; i < 3; i++) nodes.push(await startTestNode({ KAFKA_TOPIC: topic }));
    const [a, b, c] = nodes;

    for (let i = 0; i < 20; i++) {
      const written = await httpRequest(`${a.httpUrl}/rpc${rpcQuery(`key-${i}`, `value-${i}`)}`, { method: 'POST' });
      assert.equal(written.status, 200);
      assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery(`key-${i}`)}`)).json.value, `value-${i}`, 'read-your-writes on the writer');
    }
    for (const node of [b, c]) {
      await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc${rpcQuery('key-19')}`)).json?.value === 'value-19', {
        timeoutMs: 10_000,
        description: `${node.config.nodeName} to apply the writes`,
      });
      for (let i = 0; i < 20; i++) assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery(`key-${i}`)}`)).json.value, `value-${i}`);
    }

    const producer = await foreignProducer();
    await producer.send({ topic, messages: [{ key: 'foreign', value: 'from a Java client, say' }] });
    for (const node of nodes) {
      await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc${rpcQuery('foreign')}`)).json?.value === 'from a Java client, say', {
        timeoutMs: 10_000,
        description: `${node.config.nodeName} to serve the foreign write`,
      });
    }
    // A write on another node wins over the earlier one everywhere: Kafka's order decides.
    await httpRequest(`${c.httpUrl}/rpc${rpcQuery('key-0', 'newer')}`, { method: 'POST' });
    for (const node of nodes) {
      await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc${rpcQuery('key-0')}`)).json?.value === 'newer', {
        timeoutMs: 10_000,
        description: `${node.config.nodeName} to serve the newer value`,
      });
    }
  });
});
