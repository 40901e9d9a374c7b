import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BitacoraNode } from '../../src/node/create-node';
import {
  cleaningLeft,
  compactionClients,
  createCompactingTopic,
  FAST_CLEANER_BROKER_PROPERTIES,
  readLog,
  waitForCleaning,
  type CompactingTopicOptions,
} from '../helpers/compaction';
import { waitForConvergence } from '../helpers/convergence';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { onTeardown } from '../helpers/teardown';
import { startTestNode } from '../helpers/test-node';
import { startTestStack } from '../helpers/test-stack';
import { uniqueName } from '../helpers/unique';

describe('real log compaction', function () {
  this.timeout(240_000);

  it('a fresh node started after the cleaner removed superseded records and tombstones equals the topic and the nodes that lived through it', async () => {
    const stack = await startTestStack({ brokerProperties: FAST_CLEANER_BROKER_PROPERTIES });
    onTeardown('compaction stack', () => stack.stop());
    // The extra properties come last, so they win over the stack's own log.cleaner.backoff.ms=1000.
    const properties = await readFile(path.join(stack.dir, 'kafka-1.properties'), 'utf8');
    assert.equal([...properties.matchAll(/^log\.cleaner\.backoff\.ms=(\d+)$/gm)].at(-1)?.[1], '200');
    const { kafka, admin, producer } = await compactionClients(stack);
    const topic = uniqueName('compacted');
    const topicOptions: CompactingTopicOptions = { partitions: 2, deleteRetentionMs: 2_000, segmentMs: 300 };
    await createCompactingTopic(admin, topic, topicOptions);
    // Lag checks well below delete.retention.ms, so nodes that keep up are never suspected of missing a delete.
    const env = { KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2', LAG_CHECK_INTERVAL_MS: '200' };
    const a = await startTestNode({ ...env, NODENAME: uniqueName('old-a') }, { stack });
    const b = await startTestNode({ ...env, NODENAME: uniqueName('old-b') }, { stack });

    // Writes, overwrites and deletes through the nodes; `expected` is what the topic must hold in the end.
    const expected = new Map<string, string>();
    const write = async (node: BitacoraNode, key: string, value: string | null): Promise<void> => {
      const answer = await httpRequest(`${node.httpUrl}/rpc${rpcQuery(key, value ?? undefined)}`, { method: value === null ? 'DELETE' : 'POST' });
      assert.equal(answer.status, 200, `${value === null ? 'DELETE' : 'POST'} ${key}: ${answer.body.toString()}`);
      if (value === null) expected.delete(key);
      else expected.set(key, value);
    };
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 40; i++) await write(round % 2 ? a : b, `k${i}`, `v${i}-round${round}`);
    }
    for (let i = 0; i < 12; i++) await write(b, `k${i}`, null);
    for (let i = 0; i < 3; i++) await write(a, `k${i}`, `v${i}-again`);
    const written = 3 * 40 + 12 + 3;

    const firstPass = await waitForCleaning({ kafka, admin, producer, topic, topicOptions, tombstones: false, timeoutMs: 60_000 });
    assert.equal(cleaningLeft(firstPass.records).superseded, 0);
    const cleaned = await waitForCleaning({ kafka, admin, producer, topic, topicOptions, tombstones: true, timeoutMs: 90_000 });
    const left = cleaningLeft(cleaned.records);
    assert.deepEqual(left, { superseded: 0, tombstones: 0, keys: expected.size });
    const logged = cleaned.records.filter((r) => !r.key?.startsWith('__roll__'));
    assert.ok(logged.length < written, `the log still holds ${logged.length} of the ${written} records written`);
    assert.deepEqual(new Map(logged.map((r) => [r.key, r.value?.toString('utf8')])), expected);

    const fresh = await startTestNode({ ...env, NODENAME: uniqueName('fresh') }, { stack });
    for (const [key, value] of expected) assert.equal(fresh.store.get(key)?.value.toString(), value, key);
    assert.equal(fresh.store.size, expected.size);
    await waitForConvergence({ nodes: [a.httpUrl, b.httpUrl, fresh.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
    for (const node of [a, b, fresh]) {
      const ready = await httpRequest(`${node.httpUrl}/health/ready`);
      assert.equal(ready.status, 200, `${node.config.nodeName}: ${ready.json.reason}`);
    }
    // Reading the log again changes nothing: the check above did not race a cleaner still at work.
    assert.deepEqual(cleaningLeft(await readLog(kafka, admin, topic)), left);
  });
});
