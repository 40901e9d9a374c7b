import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { sharedStack } from './shared-stack';
import { onTeardown } from './teardown';

/** A Kafka client of the test's own, standing for "any other producer": it shares nothing with the node. */
export async function foreignKafka(): Promise<Kafka> {
  const stack = await sharedStack();
  return new Kafka({ clientId: 'foreign-test-client', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
}

export async function foreignProducer(): Promise<Producer> {
  const producer = (await foreignKafka()).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  onTeardown('foreign producer', () => producer.disconnect());
  return producer;
}

export async function foreignAdmin(): Promise<Admin> {
  const admin = (await foreignKafka()).admin();
  await admin.connect();
  onTeardown('foreign admin', () => admin.disconnect());
  return admin;
}

/**
 * How many records clients wrote to a topic a node created: the sum of the end offsets of its partitions, less the
 * key→partition pin the node wrote first (src/log/key-partition-pin.ts).
 */
export async function recordsInTopic(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, o) => sum + Number(o.high), 0) - 1;
}

/**
 * Creates a compacted topic of `partitions` and fills it with `total` records `k<i>` = valueOf(i), written by the
 * foreign producer in batches, as a loaded cluster's topic would be.
 */
export async function preloadTopic(topic: string, total: number, valueOf: (i: number) => string, partitions = 3): Promise<void> {
  const admin = await foreignAdmin();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
  });
  const producer = await foreignProducer();
  for (let start = 0; start < total; start += 10_000) {
    const count = Math.min(10_000, total - start);
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${start + i}`, value: valueOf(start + i) })) });
  }
}
