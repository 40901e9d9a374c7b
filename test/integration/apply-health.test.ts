import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Producer } from 'kafkajs';
import { readTopicDigest } from '../../src/log/topic-digest';
import { fetchPartitionOffsets } from '../../src/log/topic-admin';
import { silentLogger } from '../../src/logging/logger';
import type { BitacoraNode } from '../../src/node/create-node';
import { waitFor } from '../../src/retry/retry';
import { findFreePort } from '../../src/stack/free-port';
import { digestDifferences } from '../../src/store/content-digest';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { foreignAdmin, foreignKafka, foreignProducer } from '../helpers/kafka-client';
import { startNodeProcess } from '../helpers/node-process';
import { sample, sampleSum, scrape } from '../helpers/prometheus';
import { sharedStack } from '../helpers/shared-stack';
import { onTeardown } from '../helpers/teardown';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { uniqueName } from '../helpers/unique';
import { EXIT_CODES } from '../../src/errors/error-codes';

/** Fast lag checks, so a test sees the broker's end within a fraction of a second. */
const FAST_CHECKS = { LAG_CHECK_INTERVAL_MS: '200' };

async function ready(node: BitacoraNode | string): Promise<{ status: number; json: any }> {
  const url = typeof node === 'string' ? node : node.httpUrl;
  return httpRequest(`${url}/health/ready`);
}

async function writeForeign(producer: Producer, topic: string, messages: Array<{ key: string; value: string | null; partition?: number }>): Promise<void> {
  await producer.send({ topic, messages });
}

describe('apply path failures are visible and bounded', () => {
  it('turns unready (503, DOWN, metric) when the store refuses a record, restarts its consumer, and recovers without applying anything twice', async () => {
    // The store refuses "poison" three times: the node fails, restarts its consumer (waits of ~1, 2, 4 s), and
    // applies it on the fourth attempt.
    const node = await startTestNode({ ...FAST_CHECKS, FANOUT: 'never', TEST_HOOK_REFUSE_KEY: 'poison', TEST_HOOK_REFUSE_TIMES: '3', APPLY_RESTARTS: '5' });
    const topic = node.config.kafka.topic;
    const producer = await foreignProducer();
    const before = Array.from({ length: 30 }, (_, i) => ({ key: `before-${i}`, value: `b${i}` }));
    const after = Array.from({ length: 30 }, (_, i) => ({ key: `after-${i}`, value: `a${i}` }));
    await writeForeign(producer, topic, [...before, { key: 'poison', value: 'p' }, ...after]);

    const failed = await waitFor(async () => {
      const answer = await ready(node);
      return answer.status === 503 && answer.json.apply?.failure ? answer : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, description: 'readiness to report the apply failure' });
    assert.equal(failed.json.ready, false);
    assert.equal(failed.json.apply.failure.kind, 'apply_error');
    assert.match(failed.json.reason, /apply path failed.*applying partition \d+ offset \d+ failed: the store refused key "poison"/);
    assert.equal((await httpRequest(`${node.httpUrl}/health`)).body.toString(), 'DOWN');
    assert.equal((await httpRequest(`${node.httpUrl}/health`)).status, 500);
    const metrics = await scrape(node.httpUrl);
    assert.equal(sample(metrics, 'bitacora_apply_failed'), 1);
    assert.equal(sample(metrics, 'bitacora_ready'), 0);
    assert.ok(sample(metrics, 'bitacora_apply_failures_total', { kind: 'apply_error' })! >= 1);
    // No false 404: a miss while the apply path is failed cannot prove absence.
    const miss = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('never-written')}`);
    assert.equal(miss.status, 503);
    assert.equal(miss.json.error.code, 'NOT_READY');
    assert.match(miss.json.error.message, /cannot apply the topic/);

    await waitFor(async () => (await ready(node)).status === 200, { timeoutMs: 30_000, intervalMs: 100, description: 'the node to recover' });
    const recovered = (await ready(node)).json;
    assert.equal(recovered.apply.failure, undefined);
    assert.equal(recovered.apply.failures.apply_error, 3);
    assert.equal(recovered.apply.restarts, 3);
    assert.equal(node.store.get('poison')?.value.toString(), 'p');
    for (const { key, value } of [...before, ...after]) assert.equal(node.store.get(key)?.value.toString(), value, key);
    // Each record applied once: 61 records, whatever the restarts re-fetched.
    assert.equal(node.applyCounters.applied, 61);
    const afterRecovery = await scrape(node.httpUrl);
    assert.equal(sample(afterRecovery, 'bitacora_apply_failed'), 0);
    assert.equal(sample(afterRecovery, 'bitacora_consumer_restarts_total'), 3);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('never-written')}`)).status, 404);
    const stack = await sharedStack();
    const fromTopic = await readTopicDigest({ brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000, logger: silentLogger() });
    assert.deepEqual(digestDifferences(fromTopic.partitions, (await httpRequest(`${node.httpUrl}/debug/digest`)).json.partitions), []);
  });

  it('exits non-zero, after logging the failure, when the record keeps failing past APPLY_RESTARTS (node process)', async () => {
    const env = await testNodeEnv({ ...FAST_CHECKS, TEST_HOOK_REFUSE_KEY: 'poison', APPLY_RESTARTS: '1' });
    const node = await startNodeProcess(env, await findFreePort());
    const producer = await foreignProducer();
    await writeForeign(producer, env.KAFKA_TOPIC!, [{ key: 'fine', value: '1' }, { key: 'poison', value: 'p' }]);
    const failed = await waitFor(async () => {
      const answer = await ready(node.url);
      return answer.status === 503 && answer.json.apply?.failure ? answer : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, description: 'the node process to report the apply failure' });
    assert.equal(failed.json.apply.failure.kind, 'apply_error');
    const exit = await Promise.race([node.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000).unref())]);
    assert.ok(exit, 'the node did not exit within 30 s of failing for good');
    assert.equal(exit.code, EXIT_CODES.failed);
    const log = await readFile(node.logFile, 'utf8');
    assert.match(log, /apply path failed: applying partition \d+ offset \d+ failed/);
    assert.match(log, /the apply path cannot follow the log/);
    assert.match(log, /"level":60/, 'a fatal log line');
  });

  it('reports a consumer that stops moving as a stall, restarts it, and recovers', async () => {
    const node = await startTestNode({ ...FAST_CHECKS, APPLY_STALL_TIMEOUT_MS: '1000' });
    node.logConsumer!.pause();
    const producer = await foreignProducer();
    await writeForeign(producer, node.config.kafka.topic, Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    const stalled = await waitFor(async () => {
      const answer = await ready(node);
      return answer.json.apply?.failure?.kind === 'stall' ? answer : undefined;
    }, { timeoutMs: 20_000, intervalMs: 50, description: 'readiness to report the stall' });
    assert.equal(stalled.status, 503);
    assert.match(stalled.json.reason, /partition \d+ has stayed at offset \d+ for \d+ ms while Kafka holds records up to \d+/);
    // The restarted consumer is not paused: the node catches up by itself.
    await waitFor(async () => (await ready(node)).status === 200, { timeoutMs: 30_000, intervalMs: 100, description: 'the node to recover from the stall' });
    assert.equal(node.store.size, 20);
    const report = (await ready(node)).json;
    assert.ok(report.apply.failures.stall >= 1);
    assert.ok(report.apply.restarts >= 1);
  });
});

describe('lag is measured against the broker', () => {
  it('stays true while the consumer is paused and records are produced: readiness, /stats and bitacora_partition_lag', async () => {
    const node = await startTestNode({ ...FAST_CHECKS, KAFKA_TOPIC_PARTITIONS: '3' });
    node.logConsumer!.pause();
    const producer = await foreignProducer();
    const perPartition = [7, 0, 12];
    const messages = perPartition.flatMap((count, partition) => Array.from({ length: count }, (_, i) => ({ key: `p${partition}-${i}`, value: 'v', partition })));
    await writeForeign(producer, node.config.kafka.topic, messages);
    await node.logConsumer!.checkEnds();
    const lags = (await ready(node)).json.partitions.map((p: { lag: number }) => p.lag);
    assert.deepEqual(lags, perPartition);
    // Partition 0 starts with the node's key→partition pin, applied before the pause.
    const ends = [8, 0, 12];
    const stats = (await httpRequest(`${node.httpUrl}/stats`)).json;
    assert.deepEqual(stats.partitions.map((p: { end: number }) => p.end), ends);
    const metrics = await scrape(node.httpUrl);
    assert.deepEqual([0, 1, 2].map((p) => sample(metrics, 'bitacora_partition_lag', { partition: String(p) })), perPartition);
    assert.equal(sampleSum(metrics, 'bitacora_partition_end_offset'), 20);
    node.logConsumer!.resume();
    await waitFor(async () => sampleSum(await scrape(node.httpUrl), 'bitacora_partition_lag') === 0, { timeoutMs: 20_000, intervalMs: 100, description: 'lag to fall to 0' });
    assert.equal(node.store.size, 19);
  });

  it('takes the last stable offset as the end: an open transaction of another producer makes no node unready or lagging', async () => {
    const topic = uniqueName('txn');
    const first = await startTestNode({ ...FAST_CHECKS, KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1', APPLY_STALL_TIMEOUT_MS: '1000' });
    const producer = await foreignProducer();
    await writeForeign(producer, topic, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }]);
    const transactional = (await foreignKafka()).producer({ transactionalId: uniqueName('txn-producer'), idempotent: true, maxInFlightRequests: 1 });
    await transactional.connect();
    onTeardown('transactional producer', () => transactional.disconnect());
    const transaction = await transactional.transaction();
    onTeardown('open transaction', () => transaction.abort().catch(() => undefined));
    await transaction.send({ topic, messages: [{ key: 'open-1', value: 'x' }, { key: 'open-2', value: 'y' }] });

    // kafkajs' admin asks ListOffsets with READ_COMMITTED: the end stops where the open transaction begins (after the
    // node's key→partition pin and the three records).
    const admin = await foreignAdmin();
    assert.deepEqual((await fetchPartitionOffsets(admin, topic)).map((o) => o.high), [4]);

    const second = await startTestNode({ ...FAST_CHECKS, KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '1', APPLY_STALL_TIMEOUT_MS: '1000' });
    // Longer than the stall timeout, several lag checks.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    for (const node of [first, second]) {
      const answer = await ready(node);
      assert.equal(answer.status, 200, `${node.config.nodeName}: ${answer.json.reason}`);
      assert.deepEqual(answer.json.partitions.map((p: { end: number; lag: number }) => [p.end, p.lag]), [[4, 0]]);
      assert.equal(answer.json.apply.failures.stall, 0);
      assert.equal(node.store.size, 3);
      assert.equal(node.store.get('open-1'), undefined);
    }
    await transaction.commit();
    await waitFor(() => second.store.get('open-2') !== undefined, { timeoutMs: 10_000, description: 'the committed transaction to be applied' });
  });
});

describe('deletes a node may have missed', () => {
  it("turns unready, with the partitions named and a metric, when a partition stays behind longer than the topic's delete.retention.ms", async () => {
    const topic = uniqueName('short-retention');
    const admin = await foreignAdmin();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'delete.retention.ms', value: '1000' }] }],
    });
    const node = await startTestNode({ ...FAST_CHECKS, KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '2' });
    assert.equal((await ready(node)).json.deletes.deleteRetentionMs, 1000);
    const producer = await foreignProducer();
    // A partition the map holds nothing of cannot have missed a delete: give partition 1 a value first.
    await writeForeign(producer, topic, [{ key: 'held', value: '0', partition: 1 }]);
    await waitFor(() => node.store.get('held') !== undefined, { timeoutMs: 10_000, description: 'the first record to be applied' });
    node.logConsumer!.pause();
    await writeForeign(producer, topic, [{ key: 'x', value: '1', partition: 1 }]);
    const flagged = await waitFor(async () => {
      const answer = await ready(node);
      return answer.json.deletes.maybeMissed.length > 0 ? answer : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100, description: 'the node to flag deletes it may have missed' });
    assert.equal(flagged.status, 503);
    assert.deepEqual(flagged.json.deletes.maybeMissed, [1]);
    assert.match(flagged.json.reason, /partition\(s\) 1 stayed behind the log longer than the topic's delete\.retention\.ms \(1000 ms\).*restart the node/);
    const metrics = await scrape(node.httpUrl);
    assert.equal(sample(metrics, 'bitacora_partition_deletes_maybe_missed', { partition: '1' }), 1);
    assert.equal(sample(metrics, 'bitacora_partition_deletes_maybe_missed', { partition: '0' }), 0);
    // Catching up does not clear it: the map may hold a deleted key until the node rebuilds it.
    node.logConsumer!.resume();
    await waitFor(() => node.store.get('x') !== undefined, { timeoutMs: 10_000, description: 'the record to be applied' });
    await node.logConsumer!.checkEnds();
    assert.equal((await ready(node)).status, 503);
    assert.equal((await httpRequest(`${node.httpUrl}/health`)).body.toString(), 'DOWN');
  });
});
