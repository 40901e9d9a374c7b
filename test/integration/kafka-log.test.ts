import assert from 'node:assert/strict';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { createNode } from '../../src/node/create-node';
import { waitFor } from '../../src/retry/retry';
import { foreignAdmin, foreignProducer, preloadTopic } from '../helpers/kafka-client';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';
import { uniqueName } from '../helpers/unique';

describe('the Kafka log as the source of truth', () => {
  it('creates a missing topic, compacted, with the configured partitions', async () => {
    const node = await startTestNode({ KAFKA_TOPIC_PARTITIONS: '4' });
    const admin = await foreignAdmin();
    const metadata = await admin.fetchTopicMetadata({ topics: [node.config.kafka.topic] });
    assert.equal(metadata.topics[0].partitions.length, 4);
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: node.config.kafka.topic, configNames: ['cleanup.policy'] }] });
    assert.equal(configs.resources[0].configEntries[0].configValue, 'compact');
  });

  it('serves values and tombstones written by a foreign producer', async () => {
    const node = await startTestNode();
    const producer = await foreignProducer();
    await producer.send({
      topic: node.config.kafka.topic,
      messages: [
        { key: 'from-outside', value: 'kcat was here' },
        { key: 'doomed', value: 'soon gone' },
      ],
    });
    await producer.send({ topic: node.config.kafka.topic, messages: [{ key: 'doomed', value: null }] });
    const read = await waitFor(
      async () => {
        const answer = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('from-outside')}`);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 10_000, description: 'the foreign value to be served' },
    );
    assert.equal(read.json.value, 'kcat was here');
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc${rpcQuery('doomed')}`)).status === 404, {
      timeoutMs: 10_000,
      description: 'the foreign tombstone to delete the key',
    });
  });

  it('skips and counts records it cannot decode, and goes on', async () => {
    const node = await startTestNode({ MAX_VALUE_BYTES: '10' });
    const producer = await foreignProducer();
    const topic = node.config.kafka.topic;
    await producer.send({
      topic,
      messages: [
        // Kafka refuses null keys on a compacted topic; an empty key is the nearest a producer can get.
        { key: Buffer.alloc(0), value: 'empty key', partition: 0 },
        { key: Buffer.from([0xff, 0xfe, 0xfd]), value: 'bad key', partition: 0 },
        { key: 'huge', value: 'x'.repeat(100), partition: 0 },
        { key: 'after', value: 'fine', partition: 0 },
      ],
    });
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc${rpcQuery('after')}`)).status === 200, {
      timeoutMs: 10_000,
      description: 'the record after the bad ones',
    });
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('huge')}`)).status, 404);
    assert.deepEqual(node.applyCounters.skipped, { null_key: 1, invalid_key: 1, key_too_large: 0, value_too_large: 1 });
    assert.equal(node.applyCounters.applied, 1);
  });

  it('gives back the same contents after a restart', async () => {
    const env = await testNodeEnv();
    const first = createNode(loadNodeConfig(env), silentLogger());
    onTeardown('first node', () => first.stop());
    await first.start();
    await first.whenReady(30_000);
    for (let i = 0; i < 50; i++) {
      const answer = await httpRequest(`${first.httpUrl}/rpc${rpcQuery(`key-${i}`, `value-${i}`)}`, { method: 'POST' });
      assert.equal(answer.status, 200);
    }
    await httpRequest(`${first.httpUrl}/rpc${rpcQuery('key-7')}`, { method: 'DELETE' });
    await first.stop();

    const second = createNode(loadNodeConfig(env), silentLogger());
    onTeardown('second node', () => second.stop());
    await second.start();
    await second.whenReady(30_000);
    assert.equal(second.store.size, 49);
    for (let i = 0; i < 50; i++) {
      const answer = await httpRequest(`${second.httpUrl}/rpc${rpcQuery(`key-${i}`)}`);
      if (i === 7) assert.equal(answer.status, 404);
      else assert.equal(answer.json.value, `value-${i}`);
    }
  });

  it('refuses to start on a topic that is not compacted, saying what to change', async () => {
    const topic = uniqueName('deleting');
    const admin = await foreignAdmin();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] });
    const node = createNode(loadNodeConfig(await testNodeEnv({ KAFKA_TOPIC: topic })), silentLogger());
    onTeardown('refused node', () => node.stop());
    await assert.rejects(node.start(), /cleanup\.policy=delete.*cleanup\.policy=compact.*KAFKA_TOPIC/);
    assert.equal(node.status, 'failed');
  });

  it('is not ready while loading a large topic, answers a miss with 503 then, and is ready once caught up', async () => {
    const topic = uniqueName('large');
    const total = 300_000;
    const value = 'v'.repeat(100);
    await preloadTopic(topic, total, () => value);
    const node = createNode(loadNodeConfig(await testNodeEnv({ KAFKA_TOPIC: topic })), silentLogger());
    onTeardown('loading node', () => node.stop());
    await node.start();
    // Held in its loading state while the test looks, so the check does not race the machine's speed.
    node.logConsumer!.pause();

    const early = await httpRequest(`${node.httpUrl}/health/ready`);
    const miss = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('not-there')}`);
    assert.equal(early.status, 503, 'ready before loading 300,000 records');
    assert.equal(early.json.ready, false);
    assert.ok(early.json.partitions.some((p: { position: number; endAtStart: number }) => p.position < p.endAtStart));
    assert.equal(miss.status, 503);
    assert.equal(miss.json.error.code, 'NOT_READY');
    assert.equal((await httpRequest(`${node.httpUrl}/health`)).body.toString(), 'DOWN');

    node.logConsumer!.resume();
    await node.whenReady(60_000);
    const ready = await httpRequest(`${node.httpUrl}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(ready.json.ready, true);
    assert.equal(node.store.size, total);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('not-there')}`)).status, 404);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k123456')}`)).json.value, value);
    assert.equal((await httpRequest(`${node.httpUrl}/health`)).body.toString(), 'OK');
  });
});
