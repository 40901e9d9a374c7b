import { randomBytes } from 'node:crypto';
import { type Admin, type Kafka, Partitioners } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { WaitTimeoutError, withTimeout } from '../retry/retry';
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

/** How often a long pin scan says how far it got. */
const SCAN_PROGRESS_LOG_MS = 10_000;

/**
 * Reads partition 0 from its earliest offset up to its end now and returns the first pin record's count, or
 * undefined when there is none. Reads under a throwaway consumer group that commits nothing and is deleted after.
 * `stallMs` bounds each step and the time without progress, not the whole read: see scanForPin.
 */
export async function readPartitionPin(kafka: Kafka, admin: Admin, topic: string, stallMs: number, logger?: Logger): Promise<number | undefined> {
  return (await scanForPin(kafka, admin, topic, stallMs, logger)).keyPartitions;
}

/**
 * The first pin in partition 0, and the end offset the scan covered.
 *
 * A topic a node created holds its pin at its first offset, found in one fetch. A topic that held data before any
 * node pinned it holds the pin after that data, so every start reads partition 0 up to it (docs/architecture.md,
 * the caveat on reading the pin). That read is as long as the partition is, so it is bounded by progress, not by a
 * deadline: it fails only when no record arrived for `stallMs`, and says how far it got every 10 s. A deadline
 * would make a large adopted topic fail every start for good, which is a stall no one is told about.
 */
async function scanForPin(kafka: Kafka, admin: Admin, topic: string, stallMs: number, logger?: Logger): Promise<{ keyPartitions: number | undefined; end: number }> {
  const offsets = await withTimeout(fetchPartitionOffsets(admin, topic), stallMs, `reading the offsets of ${topic}`);
  const range = offsets.find((o) => o.partition === PIN_PARTITION);
  if (!range) throw new TopicError(`topic ${topic} has no partition ${PIN_PARTITION}`);
  if (range.high <= range.low) return { keyPartitions: undefined, end: range.high };
  const groupId = `bitacora-pin-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  let found: number | undefined;
  let position = range.low;
  let lastProgressAt = Date.now();
  let settle!: (error?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  const reached = (next: number): void => {
    if (next > position) {
      position = next;
      lastProgressAt = Date.now();
    }
    if (next >= range.high) settle();
  };
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgressAt > stallMs) {
      settle(new WaitTimeoutError(`reading partition ${PIN_PARTITION} of ${topic} for its key→partition pin made no progress for ${stallMs} ms at offset ${position} of ${range.high}`));
    }
  }, Math.min(1_000, stallMs));
  const progress = setInterval(() => {
    logger?.info({ topic, partition: PIN_PARTITION, offset: position, end: range.high }, 'still reading partition 0 for the key→partition pin (the topic held data before a node pinned it)');
  }, SCAN_PROGRESS_LOG_MS);
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition === PIN_PARTITION) reached(Number(payload.lastOffset) + 1);
  });
  // Only partition 0 is read: the others are paused before their first fetch.
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const others = (payload.memberAssignment[topic] ?? []).filter((partition) => partition !== PIN_PARTITION);
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
  });
  try {
    await withTimeout(consumer.connect(), stallMs, 'connecting the pin reader');
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== PIN_PARTITION || found !== undefined) return;
        for (const record of batch.messages) {
          if (record.key?.equals(PARTITION_PIN_KEY)) {
            found = decodePin(record.value);
            if (found !== undefined) return settle();
          }
          reached(Number(record.offset) + 1);
        }
      },
    });
    await finished;
    return { keyPartitions: found, end: range.high };
  } finally {
    clearInterval(watchdog);
    clearInterval(progress);
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
  const stallMs = options.timeoutMs;
  const scan = await scanForPin(kafka, admin, topic, stallMs, logger);
  if (scan.keyPartitions !== undefined) return scan.keyPartitions;
  const current = (await fetchPartitionOffsets(admin, topic)).length;
  let written: number;
  // The record names its partition; naming the partitioner keeps kafkajs from warning about its v2 default.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await withTimeout(producer.connect(), stallMs, 'connecting the pin writer');
  try {
    const [result] = await withTimeout(producer.send({ topic, acks: -1, messages: [{ key: PARTITION_PIN_KEY, value: encodePin(current), partition: PIN_PARTITION }] }), stallMs, 'writing the pin record');
    written = Number(result?.baseOffset ?? -1);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  // Nothing was appended between the end the scan covered and this pin: it is the first (the usual case, and
  // always so for a topic this node just created). Otherwise another node may have pinned first: read it back.
  const first = written === scan.end ? current : await readPartitionPin(kafka, admin, topic, stallMs, logger);
  if (first === undefined) throw new TopicError(`the key→partition pin written to partition ${PIN_PARTITION} of ${topic} could not be read back`);
  logger.info({ topic, keyPartitions: first }, 'pinned the key→partition map of the topic');
  return first;
}
