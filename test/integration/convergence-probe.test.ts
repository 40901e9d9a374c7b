import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { NOT_CONVERGED_EXIT_CODE, runDigestCommand } from '../../src/cli/digest-command';
import { readTopicDigest } from '../../src/log/topic-digest';
import { silentLogger } from '../../src/logging/logger';
import type { BitacoraNode } from '../../src/node/create-node';
import { waitFor } from '../../src/retry/retry';
import { digestDifferences } from '../../src/store/content-digest';
import { foreignAdmin, foreignProducer } from '../helpers/kafka-client';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { sharedStack } from '../helpers/shared-stack';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { uniqueName } from '../helpers/unique';

async function caughtUp(node: BitacoraNode): Promise<void> {
  const admin = await foreignAdmin();
  const ends = await admin.fetchTopicOffsets(node.config.kafka.topic);
  await waitFor(() => ends.every((end) => node.positions.position(end.partition) >= Number(end.high)), {
    timeoutMs: 20_000,
    description: `${node.config.nodeName} to apply up to the end offsets`,
  });
}

async function runDigest(args: string[], env: Record<string, string>): Promise<{ code: number; report: any }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const code = await runDigestCommand(args, env, out);
  return { code, report: JSON.parse(text) };
}

describe('convergence probe: GET /debug/digest and `bitacora digest`', () => {
  it('gives the same per-partition digest from a node and from a replay of the topic', async () => {
    const env = await testNodeEnv({ MAX_VALUE_BYTES: '64', KAFKA_TOPIC_PARTITIONS: '4' });
    const node = await startTestNode(env);
    for (let i = 0; i < 60; i++) {
      const answer = await httpRequest(`${node.httpUrl}/rpc${rpcQuery(`key-${i % 25}`, `value-${i}`)}`, { method: 'POST' });
      assert.equal(answer.status, 200);
    }
    for (const i of [3, 7, 11]) assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery(`key-${i}`)}`, { method: 'DELETE' })).status, 200);
    // What other producers may write: the node skips these, and so must the replay.
    const producer = await foreignProducer();
    await producer.send({
      topic: node.config.kafka.topic,
      messages: [
        { key: 'key-0', value: 'x'.repeat(65) },
        { key: Buffer.from([0xff, 0xfe]), value: 'undecodable key' },
        { key: 'foreign', value: Buffer.from([0, 1, 2, 255]) },
      ],
    });
    await caughtUp(node);
    const fromNode = (await httpRequest(`${node.httpUrl}/debug/digest`)).json;
    const stack = await sharedStack();
    const fromTopic = await readTopicDigest({ brokers: stack.kafkaBrokers, topic: node.config.kafka.topic, limits: node.config.limits, timeoutMs: 30_000, logger: silentLogger() });
    assert.equal(fromNode.node, node.config.nodeName);
    assert.equal(fromNode.partitions.length, 4);
    assert.deepEqual(digestDifferences(fromTopic.partitions, fromNode.partitions), []);
    const keys = fromTopic.partitions.reduce((sum, p) => sum + p.keys, 0);
    // 25 keys written, 3 deleted, key-0 superseded by a value over the limit (dropped), plus "foreign".
    assert.equal(keys, 25 - 3 - 1 + 1);
    assert.equal(keys, node.store.size);
  });

  it('says which nodes have converged to the topic, and which have not', async () => {
    const env = await testNodeEnv();
    const leader = await startTestNode(env);
    const lagging = await startTestNode({ ...env, NODENAME: uniqueName('lagging') });
    for (let i = 0; i < 10; i++) await httpRequest(`${leader.httpUrl}/rpc${rpcQuery(`k${i}`, `v${i}`)}`, { method: 'POST' });
    await caughtUp(lagging);
    const converged = await runDigest(['--nodes', `${leader.httpUrl},${lagging.httpUrl}`], env);
    assert.equal(converged.code, 0, JSON.stringify(converged.report));
    assert.equal(converged.report.converged, true);

    lagging.logConsumer!.pause();
    for (let i = 0; i < 5; i++) await httpRequest(`${leader.httpUrl}/rpc${rpcQuery(`k${i}`, `changed-${i}`)}`, { method: 'POST' });
    const apart = await runDigest(['--nodes', `${leader.httpUrl},${lagging.httpUrl}`], env);
    assert.equal(apart.code, NOT_CONVERGED_EXIT_CODE);
    const byNode = new Map(apart.report.nodes.map((n: any) => [n.node, n]));
    assert.equal((byNode.get(leader.config.nodeName) as any).converged, true);
    assert.equal((byNode.get(lagging.config.nodeName) as any).converged, false);
    assert.match((byNode.get(lagging.config.nodeName) as any).differences.join('\n'), /position/);

    lagging.logConsumer!.resume();
    await caughtUp(lagging);
    assert.equal((await runDigest(['--nodes', lagging.httpUrl], env)).code, 0);
  });
});
