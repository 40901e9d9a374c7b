import { randomBytes } from 'node:crypto';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { withTimeout } from '../retry/retry';
import { PARTITION_PIN_KEY } from './reserved-keys';
import { TopicError, fetchPartitionOffsets } from './topic-admin';

/** The partition that holds the pin record. */
export const PIN_PARTITION = 0;

/**
 * The key→partition map is pinned by a control record in partition 0: its key PARTITION_PIN_KEY (never valid
 * UTF-8, so never a user key), its value `{"keyPartitions":N}`. A key's canonical partition is murmur2(key) mod N
 * forever, so partitions added later never move a key (they are capacity for a later migration to a new topic).
 * Nodes and `bitacora digest` read it before anything else.
 */
export function encodePin(keyPartitions: number): Buffer {
  return Buffer.from(JSON.stringify({ keyPartitions }), 'utf8');
}

/** The pinned count in a pin record's value, or undefined when the value is not a pin a node would write. */
export function decodePin(value: Buffer | null): number | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as { keyPartitions?: unknown };
    const count = parsed.keyPartitions;
    return typeof count === 'number' && Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads partition 0 from its earliest offset up to its end now and returns the first pin record's count, or
 * undefined when there is none. Reads under a throwaway consumer group that commits nothing and is deleted after.
 */
export async function readPartitionPin(kafka: Kafka, admin: Admin, topic: string, timeoutMs: number): Promise<number | undefined> {
  return (await scanForPin(kafka, admin, topic, timeoutMs)).keyPartitions;
}

/** The first pin in partition 0, and the end offset the scan covered. */
async function scanForPin(kafka: Kafka, admin: Admin, topic: string, timeoutMs: number): Promise<{ keyPartitions: number | undefined; end: number }> {
  const deadline = Date.now() + timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const offsets = await withTimeout(fetchPartitionOffsets(admin, topic), left(), `reading the offsets of ${topic}`);
  const range = offsets.find((o) => o.partition === PIN_PARTITION);
  if (!range) throw new TopicError(`topic ${topic} has no partition ${PIN_PARTITION}`);
  if (range.high <= range.low) return { keyPartitions: undefined, end: range.high };
  const groupId = `bitacora-pin-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  let found: number | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const reached = (next: number): void => {
    if (next >= range.high) done();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === PIN_PARTITION) reached(Number(payload.lastOffset) + 1);
  });
  // Only partition 0 is read: the others are paused before their first fetch.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const others = (payload.memberAssignment[topic] ?? []).filter((partition) => partition !== PIN_PARTITION);
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
  });
  try {
    await withTimeout(consumer.connect(), left(), 'connecting the pin reader');
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== PIN_PARTITION || found !== undefined) return;
        for (const record of batch.messages) {
          if (record.key?.equals(PARTITION_PIN_KEY)) {
            found = decodePin(record.value);
            if (found !== undefined) return done();
          }
          reached(Number(record.offset) + 1);
        }
      },
    });
    await withTimeout(finished, left(), `reading partition ${PIN_PARTITION} of ${topic} for its key→partition pin`);
    return { keyPartitions: found, end: range.high };
  } finally {
    await withTimeout(consumer.disconnect(), 10_000, 'disconnecting the pin reader').catch(() => undefined);
    await withTimeout(admin.deleteGroups([groupId]), 5_000, 'deleting the pin reader group').catch(() => undefined);
  }
}

/**
 * The topic's pinned partition count for keys. A topic without a pin (created elsewhere, or by a node of an
 * older version) gets one now, with its current partition count, and the first pin in partition 0 is read back, so
 * two nodes writing one at once agree on the first.
 */
export async function ensurePartitionPin(options: {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}): Promise<number> {
  const { kafka, admin, topic, logger } = options;
  const deadline = Date.now() + options.timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const scan = await scanForPin(kafka, admin, topic, left());
  if (scan.keyPartitions !== undefined) return scan.keyPartitions;
  const current = (await fetchPartitionOffsets(admin, topic)).length;
  let written: number;
  // The record names its partition; naming the partitioner keeps kafkajs from warning about its v2 default.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await withTimeout(producer.connect(), left(), 'connecting the pin writer');
  try {
    const [result] = await withTimeout(producer.send({ topic, acks: -1, messages: [{ key: PARTITION_PIN_KEY, value: encodePin(current), partition: PIN_PARTITION }] }), left(), 'writing the pin record');
    written = Number(result?.baseOffset ?? -1);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  // Nothing was appended between the end the scan covered and this pin: it is the first (the usual case, and
  // always so for a topic this node just created). Otherwise another node may have pinned first: read it back.
  const first = written === scan.end ? current : await readPartitionPin(kafka, admin, topic, left());
  if (first === undefined) throw new TopicError(`the key→partition pin written to partition ${PIN_PARTITION} of ${topic} could not be read back`);
  logger.info({ topic, keyPartitions: first }, 'pinned the key→partition map of the topic');
  return first;
}
