import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { retry } from '../retry/retry';

/** The topic cannot serve as Bitacora's log (for example it is not compacted); the message says what to change. */
export class TopicError extends Error {
  override name = 'TopicError';
}

export interface PartitionOffsets {
  readonly partition: number;
  /** The earliest offset still in the log. */
  readonly low: number;
  /**
   * The last stable offset: the end a read_committed consumer (a node) can reach. Without open transactions it is
   * the high watermark, the offset the next record will get; an open transaction holds it at its first record.
   */
  readonly high: number;
}

/**
 * Creates the topic, compacted, when it is missing; refuses a topic that exists but is not compacted, since a
 * node rebuilds its whole map from the log and a deleting topic would lose keys.
 */
export async function ensureCompactedTopic(
  admin: Admin,
  options: { topic: string; partitions: number; replicationFactor: number | undefined },
): Promise<{ created: boolean; deleteRetentionMs: number }> {
  const existing = await admin.listTopics();
  let created = false;
  if (!existing.includes(options.topic)) {
    const cluster = await admin.describeCluster();
    const replicationFactor = options.replicationFactor ?? Math.min(3, cluster.brokers.length);
    if (replicationFactor > cluster.brokers.length) {
      throw new TopicError(
        `KAFKA_REPLICATION_FACTOR is ${replicationFactor} but only ${cluster.brokers.length} broker(s) are live: lower KAFKA_REPLICATION_FACTOR or start more brokers`,
      );
    }
    created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: options.topic,
          numPartitions: options.partitions,
          replicationFactor,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) },
          ],
        },
      ],
    });
  }
  // On a cluster of several brokers, the one asked may learn of a topic just created a moment after the others.
  const { policy, deleteRetentionMs } = await retry(() => compactionSettings(admin, options.topic), {
    maxAttempts: 20,
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    maxElapsedMs: 10_000,
    isRetriable: (error) => (error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION',
  });
  if (!policy.split(',').map((p) => p.trim()).includes('compact')) {
    throw new TopicError(
      `topic "${options.topic}" has cleanup.policy=${policy}, but Bitacora needs a compacted topic (every node rebuilds its map from the whole log): ` +
        `set cleanup.policy=compact on it, or point KAFKA_TOPIC at another topic`,
    );
  }
  return { created, deleteRetentionMs };
}

/** Kafka's default delete.retention.ms (one day), for a broker that does not report it. */
const DEFAULT_DELETE_RETENTION_MS = 86_400_000;

/** The topic's cleanup.policy, and its delete.retention.ms: how long a tombstone stays once the cleaner has passed it. */
async function compactionSettings(admin: Admin, topic: string): Promise<{ policy: string; deleteRetentionMs: number }> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'delete.retention.ms'] }],
  });
  const entries = described.resources[0]?.configEntries ?? [];
  const value = (name: string): string | undefined => entries.find((e) => e.configName === name)?.configValue;
  const retention = Number(value('delete.retention.ms'));
  return { policy: value('cleanup.policy') ?? 'delete', deleteRetentionMs: Number.isFinite(retention) && retention >= 0 ? retention : DEFAULT_DELETE_RETENTION_MS };
}

/**
 * Earliest and end offsets of every partition of the topic. The end is the last stable offset: kafkajs' admin sends
 * ListOffsets (v2 and later) with the isolation level its cluster was built with, and an admin's has none, so the
 * request's own default applies, READ_COMMITTED (kafkajs src/protocol/requests/listOffsets/index.js), and the broker
 * answers with the LSO. test/integration/apply-health.test.ts checks it against an open transaction.
 */
export async function fetchPartitionOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}
