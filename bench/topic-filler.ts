import { fork } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { ensurePartitionPin } from '../src/log/key-partition-pin';
import { createKeyPartitioner } from '../src/log/key-partitioner';
import { silentLogger } from '../src/logging/logger';
import { benchKey, benchValue, VALUE_BYTES } from './keys';
import type { Resources } from './resources';

/**
 * Fills a topic with `count` records `benchKey(keyPrefix, i)` = `benchValue(key)` (16-byte keys, 100-byte values, or
 * the last `valueBytes` of them),
 * straight to Kafka with kafkajs, in big batches, several in flight, from a process of its own. Each record goes to
 * the partition a node computes for its key (Kafka's murmur2), so the nodes' partition bookkeeping holds.
 */
export interface FillSpec {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly count: number;
  readonly keyPrefix: string;
  /** Value bytes per record (default VALUE_BYTES, 100); at most VALUE_BYTES. */
  readonly valueBytes?: number;
}

export interface FillResult {
  readonly records: number;
  readonly ms: number;
  /** Per partition, the end offset after the fill: a node has everything once its positions reach these. */
  readonly endOffsets: readonly { readonly partition: number; readonly high: number }[];
}

type FillReply = { readonly type: 'filled'; readonly result: FillResult } | { readonly type: 'error'; readonly message: string };

const BATCH_RECORDS = 5_000;
const BATCHES_IN_FLIGHT = 4;

/** Creates the topic (compacted) when missing and produces the records. */
export async function fillTopic(spec: FillSpec): Promise<FillResult> {
  const kafka = new Kafka({ clientId: 'bitacora-bench-filler', brokers: [...spec.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  try {
    await producer.connect();
    const existing = await admin.listTopics();
    if (!existing.includes(spec.topic)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: spec.topic, numPartitions: spec.partitions, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      });
      // Pinned first, by the nodes' own code, as a topic a node creates is: a node then finds the pin in one fetch,
      // not after a read of the whole of partition 0 (what a topic filled before any node pinned it costs every start).
      await ensurePartitionPin({ kafka, admin, topic: spec.topic, timeoutMs: 30_000, logger: silentLogger() });
    }
    const partitionOf = createKeyPartitioner(spec.topic, spec.partitions);
    // The tail of benchValue: its head is the key itself, the same for neighbouring keys once cut short.
    const valueStart = VALUE_BYTES - Math.min(VALUE_BYTES, spec.valueBytes ?? VALUE_BYTES);
    const started = performance.now();
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < spec.count) {
        const from = next;
        const to = Math.min(spec.count, from + BATCH_RECORDS);
        next = to;
        const messages = [];
        for (let i = from; i < to; i++) {
          const key = Buffer.from(benchKey(spec.keyPrefix, i));
          messages.push({ key, value: Buffer.from(benchValue(key.toString()).slice(valueStart)), partition: partitionOf(key) });
        }
        await producer.send({ topic: spec.topic, messages, acks: 1, compression: CompressionTypes.None });
      }
    };
    await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, sender));
    const ms = performance.now() - started;
    const offsets = await admin.fetchTopicOffsets(spec.topic);
    return { records: spec.count, ms, endOffsets: offsets.map((o) => ({ partition: o.partition, high: Number(o.high) })) };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Runs fillTopic() in a child process, so producing never competes with the benchmark's own thread. */
export async function fillTopicInChild(spec: FillSpec, resources: Resources, timeoutMs: number): Promise<FillResult> {
  const child = fork(__filename, [], { execArgv: ['--require', 'tsx/cjs'], cwd: path.join(__dirname, '..'), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  resources.track(child, 'topic-filler');
  const release = resources.add(`topic filler for ${spec.topic}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  try {
    return await new Promise<FillResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`filling ${spec.topic} with ${spec.count} records took over ${timeoutMs} ms`)), timeoutMs);
      child.once('message', (reply: FillReply) => {
        clearTimeout(timer);
        if (reply.type === 'filled') resolve(reply.result);
        else reject(new Error(`filling ${spec.topic}: ${reply.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the topic filler exited with code ${code} before answering`));
      });
      child.send(spec);
    });
  } finally {
    await release();
  }
}

if (require.main === module) {
  process.once('message', (spec: FillSpec) => {
    const reply = (message: FillReply): void => {
      process.send?.(message, undefined, undefined, () => process.disconnect?.());
    };
    fillTopic(spec).then(
      (result) => reply({ type: 'filled', result }),
      (error: unknown) => {
        process.exitCode = 1;
        reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      },
    );
  });
}
