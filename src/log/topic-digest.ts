import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { NODE_CONFIG_DEFAULTS } from '../config/node-config';
import type { Logger } from '../logging/logger';
import { createKafkaClient } from './kafka-client';
import { withTimeout } from '../retry/retry';
import { digestPartitions, type PartitionDigest } from '../store/content-digest';
import { EntryStore } from '../store/entry-store';
import { createKeyPartitioner } from './key-partitioner';
import { KeyMerge } from './key-merge';
import { readPartitionPin } from './key-partition-pin';
import { PartitionPositions } from './partition-positions';
import { applyBatch, newApplyCounters } from './record-applier';
import { fetchPartitionOffsets } from './topic-admin';

/** The topic's own contents as digests, comparable with a node's GET /debug/digest. */
export interface TopicDigest {
  readonly topic: string;
  /** Per partition; `position` is the end offset the replay stopped at (the end when it started). */
  readonly partitions: PartitionDigest[];
}

export interface TopicDigestOptions {
  /** A client built like the nodes' (same brokers and security settings)... */
  readonly kafka?: Kafka;
  /** ...or the brokers to build a plain one for. */
  readonly brokers?: readonly string[];
  readonly topic: string;
  /** The nodes' MAX_KEY_BYTES / MAX_VALUE_BYTES: records over them are skipped by nodes, so by the replay too. Defaults: the nodes' defaults. */
  readonly limits?: { readonly maxKeyBytes: number; readonly maxValueBytes: number };
  /** Bounds the whole replay. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Replays the topic from its earliest offsets up to the end offsets it has when called, through the very
 * decoder and applier a node uses, into a fresh map, and digests it. A node whose positions equal these and whose
 * digests match holds exactly what the log says. Reads under a throwaway consumer group that commits nothing
 * and is deleted afterwards.
 */
export async function readTopicDigest(options: TopicDigestOptions): Promise<TopicDigest> {
  const { topic, logger } = options;
  const limits = options.limits ?? { maxKeyBytes: NODE_CONFIG_DEFAULTS.maxKeyBytes, maxValueBytes: NODE_CONFIG_DEFAULTS.maxValueBytes };
  const kafka = options.kafka ?? createKafkaClient({ clientId: 'bitacora-digest', brokers: options.brokers ?? [], logger });
  const deadline = Date.now() + options.timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const admin = kafka.admin();
  await withTimeout(admin.connect(), left(), 'connecting to Kafka to read the topic digest');
  const groupId = `bitacora-digest-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  try {
    const offsets = await withTimeout(fetchPartitionOffsets(admin, topic), left(), `reading the end offsets of ${topic}`);
    const ends = new Map(offsets.map((entry) => [entry.partition, entry.high]));
    // The nodes' key→partition map; a topic no node has pinned yet maps keys as a node would pin it: by its count now.
    const keyPartitions = (await readPartitionPin(kafka, admin, topic, left())) ?? offsets.length;
    const canonicalPartition = createKeyPartitioner(topic, keyPartitions);
    const merge = new KeyMerge();
    const store = new EntryStore();
    const positions = new PartitionPositions();
    positions.initialize(offsets);
    if (!positions.isReady()) {
      const done = new Promise<void>((resolve) => positions.onReady(resolve));
      // As in the node: batches of control records only never reach eachBatch, yet the position moves past them.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic !== topic) return;
        const end = ends.get(payload.partition) ?? 0;
        positions.advance(payload.partition, Math.min(Number(payload.lastOffset) + 1, end));
      });
      await withTimeout(consumer.connect(), left(), 'connecting the digest consumer');
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const counters = newApplyCounters();
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0;
          // Records written after the replay began are left out, so the digest describes one cut of the log.
          const records = batch.messages.filter((record) => Number(record.offset) < end);
          const lastOffset = Math.min(Number(batch.lastOffset()), end - 1);
          applyBatch(batch.partition, records, lastOffset, { store, positions, limits, counters, merge, canonicalPartition });
        },
      });
      await withTimeout(done, left(), `replaying ${topic} up to its end offsets`);
      logger.debug({ topic, entries: store.size, skipped: counters.skipped }, 'topic replayed for its digest');
    }
    const cut = offsets.map(({ partition, high }) => ({ partition, position: high }));
    return { topic, partitions: digestPartitions(store, cut) };
  } finally {
    await withTimeout(consumer.disconnect(), 10_000, 'disconnecting the digest consumer').catch(() => undefined);
    await withTimeout(admin.deleteGroups([groupId]), 5_000, 'deleting the digest consumer group').catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
