import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel, type ICustomPartitioner, type Producer } from 'kafkajs';
import { createKeyPartitioner } from '../../src/log/key-partitioner';
import { readPartitionPin } from '../../src/log/key-partition-pin';
import { waitFor } from '../../src/retry/retry';
import type { BitacoraNode } from '../../src/node/create-node';
import { readLog } from '../helpers/compaction';
import { localValue, waitForConvergence } from '../helpers/convergence';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { foreignAdmin, foreignKafka, foreignProducer } from '../helpers/kafka-client';
import { sharedStack } from '../helpers/shared-stack';
import { onTeardown } from '../helpers/teardown';
import { startTestNode } from '../helpers/test-node';
import { uniqueName } from '../helpers/unique';

const run = promisify(execFile);

/** The bound docs/architecture.md states for consuming partitions added to a live topic. */
const NEW_PARTITIONS_BOUND_MS = 10_000;

async function write(node: BitacoraNode, key: string, value: string | null): Promise<void> {
  const answer = await httpRequest(`${node.httpUrl}/rpc${rpcQuery(key, value ?? undefined)}`, { method: value === null ? 'DELETE' : 'POST' });
  assert.equal(answer.status, 200, `${value === null ? 'DELETE' : 'POST'} ${key} on ${node.config.nodeName}: ${answer.body.toString()}`);
}

/** Waits until every node's own map holds `expected` (null: absent) for every key. */
async function waitForValues(nodes: readonly BitacoraNode[], expected: ReadonlyMap<string, string | null>, what: string, timeoutMs = 15_000): Promise<void> {
  let wrong: string[] = [];
  await waitFor(
    async () => {
      wrong = [];
      for (const node of nodes) {
        for (const [key, value] of expected) {
          const held = await localValue(node.httpUrl, key);
          if (held !== value) wrong.push(`${node.config.nodeName} holds ${JSON.stringify(held)} for ${key}, expected ${JSON.stringify(value)}`);
        }
      }
      return wrong.length === 0;
    },
    { timeoutMs, intervalMs: 200, description: `${what}` },
  ).catch((error: Error) => assert.fail(`${error.message}: ${wrong.slice(0, 8).join('; ')}`));
}

/** Writes records with kcat (librdkafka's default partitioner, consistent_random: CRC32 of the key), stamped by its clock. */
async function kcatProduce(brokers: readonly string[], topic: string, records: ReadonlyArray<readonly [string, string | null]>): Promise<void> {
  const input = records.map(([key, value]) => `${key}:${value ?? ''}`).join('\n') + '\n';
  // -Z: an empty value is sent as NULL, a tombstone.
  const child = execFile('kcat', ['-P', '-b', brokers.join(','), '-t', topic, '-K:', '-Z', '-X', 'partitioner=consistent_random'], { timeout: 20_000 });
  const done = new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`))));
  });
  child.stdin!.end(input);
  await done;
}

/** Sarama's default partitioner: FNV-1a (32 bits) of the key, as a signed int, made positive, modulo the partitions. */
const fnv1aPartitioner: ICustomPartitioner = () => ({ partitionMetadata, message }) => {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(message.key as Buffer | string)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  const partition = (hash | 0) % partitionMetadata.length;
  return partition < 0 ? -partition : partition;
};

async function fnvProducer(): Promise<Producer> {
  const producer = (await foreignKafka()).producer({ allowAutoTopicCreation: false, createPartitioner: fnv1aPartitioner });
  await producer.connect();
  onTeardown('FNV-1a producer', () => producer.disconnect());
  return producer;
}

/** Records of the topic outside their key's canonical partition under its pin, counted from the log itself. */
async function misroutedInLog(topic: string): Promise<number> {
  const kafka = await foreignKafka();
  const admin = await foreignAdmin();
  const pinned = await readPartitionPin(kafka, admin, topic, 20_000);
  assert.ok(pinned, 'the topic has a key→partition pin');
  const canonical = createKeyPartitioner(topic, pinned);
  const records = await readLog(kafka, admin, topic);
  return records.filter((r) => r.key !== null && canonical(Buffer.from(r.key)) !== r.partition).length;
}

describe('one value per key, whatever partitioner wrote it and however many partitions the topic has', function () {
  this.timeout(180_000);

  before(async () => {
    await run('kcat', ['-V']).catch(() => assert.fail('kcat is missing: apt-get install -y kcat'));
  });

  it('partitions added to a live topic move no key; later writes win; new partitions are consumed within the bound', async () => {
    const stack = await sharedStack();
    const topic = uniqueName('grown');
    const env = { KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '3' };
    const a = await startTestNode(env);
    const b = await startTestNode(env);
    const expected = new Map<string, string | null>();
    for (let i = 0; i < 30; i++) {
      await write(a, `key-${i}`, `old-${i}`);
      expected.set(`key-${i}`, `old-${i}`);
    }
    await waitForValues([a, b], expected, 'both nodes to hold the first writes');

    const admin = await foreignAdmin();
    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
    const grownAt = Date.now();
    // A record in each new partition (any producer may write there): both nodes serve them within the bound.
    const producer = await foreignProducer();
    for (const partition of [3, 4, 5]) await producer.send({ topic, messages: [{ key: `in-new-${partition}`, value: `p${partition}`, partition }] });
    for (const partition of [3, 4, 5]) expected.set(`in-new-${partition}`, `p${partition}`);
    await waitForValues([a, b], new Map([...expected].filter(([key]) => key.startsWith('in-new-'))), 'both nodes to consume the new partitions', NEW_PARTITIONS_BOUND_MS - (Date.now() - grownAt));

    // A restarted A (a fresh map) reads the pin: keys stay where they were, so its overwrites supersede the old values on B too.
    await a.stop();
    const a2 = await startTestNode(env);
    assert.equal(await localValue(a2.httpUrl, 'key-7'), 'old-7');
    for (let i = 0; i < 30; i++) {
      await write(a2, `key-${i}`, `new-${i}`);
      expected.set(`key-${i}`, `new-${i}`);
      assert.equal(await localValue(a2.httpUrl, `key-${i}`), `new-${i}`, 'read-your-writes');
    }
    const fresh = await startTestNode(env);
    await waitForValues([a2, b, fresh], expected, 'every node to serve the overwrites');
    // Every record of a user key the nodes wrote is in its pinned partition, none in the new ones.
    assert.equal(a2.applyCounters.misrouted, 3, 'only the three records written straight into the new partitions');
    await waitForConvergence({ nodes: [a2.httpUrl, b.httpUrl, fresh.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });
});
