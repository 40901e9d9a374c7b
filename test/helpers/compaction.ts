import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { isReservedKey } from '../../src/log/reserved-keys';
import { fetchPartitionOffsets } from '../../src/log/topic-admin';
import { sleep, waitFor, withTimeout } from '../../src/retry/retry';
import type { RunningStack } from '../../src/stack/stack';
import { onTeardown } from './teardown';
import { uniqueName } from './unique';

/**
 * Real log compaction in tests: a broker whose cleaner looks for work often, a topic it cleans within seconds, and a
 * way to know that cleaning has really happened. The earliest offset does not move with compaction and the active
 * segment is never cleaned, so the only proof is to read the log again: superseded records gone, and, once
 * delete.retention.ms has passed and the cleaner has passed again, tombstones gone.
 */

/** Broker properties for startTestStack({ brokerProperties }): the cleaner looks for dirty logs every 200 ms. */
export const FAST_CLEANER_BROKER_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({ 'log.cleaner.backoff.ms': '200' });

export interface CompactingTopicOptions {
  readonly partitions: number;
  /** How long a tombstone stays once cleaned; the nodes' LAG_CHECK_INTERVAL_MS must stay well below it. */
  readonly deleteRetentionMs: number;
  /** A segment older than this is closed by the next record written, and becomes cleanable. */
  readonly segmentMs: number;
}

/**
 * Settings under which the cleaner compacts within seconds, valid on Kafka 3.9.1 and 4.x (4.0 raised segment.bytes'
 * minimum to 1 MiB; KIP-1030 plans a 1 min minimum for segment.ms only in 5.0).
 */
export function compactingTopicConfig(options: CompactingTopicOptions): Array<{ name: string; value: string }> {
  return [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'segment.ms', value: String(options.segmentMs) },
    // Kafka 4's minimum; a segment this large is closed by segment.ms long before it fills.
    { name: 'segment.bytes', value: '1048576' },
    { name: 'min.cleanable.dirty.ratio', value: '0.01' },
    { name: 'min.compaction.lag.ms', value: '0' },
    { name: 'delete.retention.ms', value: String(options.deleteRetentionMs) },
  ];
}

/** A Kafka client, admin and producer on `stack`, closed after the test. */
export async function compactionClients(stack: RunningStack): Promise<{ kafka: Kafka; admin: Admin; producer: Producer }> {
  const kafka = new Kafka({ clientId: 'compaction-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  onTeardown('compaction admin', () => admin.disconnect());
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  onTeardown('compaction producer', () => producer.disconnect());
  return { kafka, admin, producer };
}

export async function createCompactingTopic(admin: Admin, topic: string, options: CompactingTopicOptions): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: options.partitions, replicationFactor: 1, configEntries: compactingTopicConfig(options) }] });
}

/** One record as the log holds it now. */
export interface LoggedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Buffer | null;
  /** The key's bytes (reserved keys are not UTF-8) and the record's headers, for tests that read side records. */
  readonly rawKey: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | Array<Buffer | string> | undefined>>;
}

/** Keys of the tombstones waitForCleaning writes to close segments; they never name a key a test writes. */
export const ROLL_KEY_PREFIX = '__roll__';

/**
 * Every record of user keys in the topic, from each partition's earliest offset to its end now, read by a plain
 * consumer; the records nodes write for themselves under reserved keys (the key→partition pin, side keys) are left
 * out unless `reserved` asks for them.
 */
export async function readLog(kafka: Kafka, admin: Admin, topic: string, timeoutMs = 30_000, reserved = false): Promise<LoggedRecord[]> {
  const ends = await fetchPartitionOffsets(admin, topic);
  const next = new Map(ends.map(({ partition, low }) => [partition, low]));
  const records: LoggedRecord[] = [];
  const groupId = uniqueName('log-reader');
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  const moveTo = (partition: number, offset: number): void => void next.set(partition, Math.max(next.get(partition) ?? 0, offset));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => moveTo(payload.partition, Number(payload.lastOffset) + 1));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.find((e) => e.partition === batch.partition)?.high ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) >= end) break;
          if (m.key && isReservedKey(m.key) && !reserved) continue;
          const rawKey = m.key ? Buffer.from(m.key) : null;
          records.push({ partition: batch.partition, offset: Number(m.offset), key: m.key?.toString('utf8') ?? null, value: m.value, rawKey, headers: m.headers ?? {} });
          moveTo(batch.partition, Number(m.offset) + 1);
        }
      },
    });
    await waitFor(() => ends.every(({ partition, high }) => (next.get(partition) ?? 0) >= high), { timeoutMs, intervalMs: 50, description: `reading ${topic} to its end` });
    return records.filter((r) => r.offset < (ends.find((e) => e.partition === r.partition)?.high ?? 0));
  } finally {
    await withTimeout(consumer.disconnect(), 10_000, 'disconnecting the log reader').catch(() => undefined);
    await withTimeout(admin.deleteGroups([groupId]), 5_000, 'deleting the log reader group').catch(() => undefined);
  }
}

/** What cleaning has left to do in `records`: superseded records (a later record has the same key) and tombstones. */
export function cleaningLeft(records: readonly LoggedRecord[]): { superseded: number; tombstones: number; keys: number } {
  const data = records.filter((r) => r.key !== null && !r.key.startsWith(ROLL_KEY_PREFIX));
  const keys = new Set(data.map((r) => r.key));
  return { superseded: data.length - keys.size, tombstones: data.filter((r) => r.value === null).length, keys: keys.size };
}

/**
 * Waits until the cleaner has removed every superseded record of the topic, and with `tombstones` every tombstone
 * too. Each round waits segment.ms and writes a tombstone of a never-used key to every partition, which closes the
 * active segment (it is never cleaned) and adds dirty bytes, so the cleaner passes again; then reads the log.
 * Bounded by `timeoutMs`; the error says what was left.
 */
export async function waitForCleaning(options: {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly topic: string;
  readonly topicOptions: CompactingTopicOptions;
  readonly tombstones: boolean;
  readonly timeoutMs: number;
}): Promise<{ records: LoggedRecord[]; rounds: number }> {
  const { kafka, admin, producer, topic, topicOptions } = options;
  const deadline = Date.now() + options.timeoutMs;
  for (let round = 1; ; round++) {
    await sleep(topicOptions.segmentMs + 100);
    const roll = Array.from({ length: topicOptions.partitions }, (_, partition) => ({ key: `${ROLL_KEY_PREFIX}${partition}-${round}`, value: null, partition }));
    await producer.send({ topic, messages: roll });
    // The cleaner wakes every log.cleaner.backoff.ms (200 ms with FAST_CLEANER_BROKER_PROPERTIES).
    await sleep(1_000);
    const records = await readLog(kafka, admin, topic, Math.max(5_000, deadline - Date.now()));
    const left = cleaningLeft(records);
    if (left.superseded === 0 && (!options.tombstones || left.tombstones === 0)) return { records, rounds: round };
    if (Date.now() > deadline) {
      throw new Error(
        `the log cleaner did not finish on ${topic} within ${options.timeoutMs} ms (${round} rounds): ${left.superseded} superseded records` +
          (options.tombstones ? ` and ${left.tombstones} tombstones` : '') +
          ' left; is the stack started with FAST_CLEANER_BROKER_PROPERTIES and the topic with compactingTopicConfig?',
      );
    }
  }
}
