import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type ICustomPartitioner, type Producer } from 'kafkajs';
import { createKeyPartitioner } from '../../src/log/key-partitioner';
import { decodeSideKey, readSideHeaders } from '../../src/log/side-keys';
import { ensureDebianPackage } from '../helpers/debian-package';
import { readPartitionPin } from '../../src/log/key-partition-pin';
import type { Kafka, Admin } from 'kafkajs';
import { waitFor } from '../../src/retry/retry';
import type { BitacoraNode } from '../../src/node/create-node';
import {
  cleaningLeft,
  compactionClients,
  createCompactingTopic,
  FAST_CLEANER_BROKER_PROPERTIES,
  readLog,
  waitForCleaning,
  type CompactingTopicOptions,
} from '../helpers/compaction';
import { localValue, waitForConvergence } from '../helpers/convergence';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { foreignAdmin, foreignKafka, foreignProducer } from '../helpers/kafka-client';
import { sampleSum, scrape } from '../helpers/prometheus';
import { sharedStack } from '../helpers/shared-stack';
import { onTeardown } from '../helpers/teardown';
import { startTestNode } from '../helpers/test-node';
import { startTestStack } from '../helpers/test-stack';
import { uniqueName } from '../helpers/unique';

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

/** A side record as the log holds it (src/log/side-keys.ts). */
interface LoggedSide {
  readonly partition: number;
  readonly source: number;
  readonly key: string;
  readonly sourceOffset: number;
  readonly deleted: boolean;
  /** A Kafka tombstone (a node DEL's), not a marker. */
  readonly tombstone: boolean;
}

async function sidesInLog(kafka: Kafka, admin: Admin, topic: string): Promise<LoggedSide[]> {
  const records = await readLog(kafka, admin, topic, 30_000, true);
  return records.flatMap((r) => {
    const side = r.rawKey ? decodeSideKey(r.rawKey) : undefined;
    if (!side) return [];
    const { sourceOffset, deleted } = readSideHeaders(r.headers, r.value);
    return [{ partition: r.partition, source: side.source, key: side.key.toString('utf8'), sourceOffset, deleted, tombstone: r.value === null }];
  });
}

/**
 * Waits until the log holds a side record copying the last of `wanted` (source partition, key, source offset) of
 * each key and source partition (the cleaner may have dropped side records a later one superseded). With
 * `restated`, the side key's last record must be a deletion marker (not a tombstone) covering that offset.
 */
async function waitForMirrors(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  wanted: ReadonlyArray<{ source: number; key: string; offset: number }>,
  options: { timeoutMs?: number; restated?: boolean } = {},
): Promise<LoggedSide[]> {
  let sides: LoggedSide[] = [];
  let missing: string[] = [];
  const last = [...new Map(wanted.map((w) => [`${w.source}/${w.key}`, w])).values()];
  const done = (w: (typeof last)[number]): boolean => {
    const mine = sides.filter((s) => s.source === w.source && s.key === w.key);
    if (!options.restated) return mine.some((s) => s.sourceOffset === w.offset);
    const latest = mine.at(-1);
    return latest !== undefined && latest.sourceOffset === w.offset && latest.deleted && !latest.tombstone;
  };
  await waitFor(
    async () => {
      sides = await sidesInLog(kafka, admin, topic);
      missing = last.filter((w) => !done(w)).map((w) => `${w.key}@${w.source}:${w.offset}`);
      return missing.length === 0;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 500, description: options.restated ? 'the hidden values to be restated as deletion markers' : 'the records outside their canonical partition to be mirrored' },
  ).catch((error: Error) => assert.fail(`${error.message}; not ${options.restated ? 'restated' : 'mirrored'}: ${missing.slice(0, 8).join(', ')}`));
  return sides;
}

/** The source partitions a node mirrors, as its /stats says. */
async function mirroring(node: BitacoraNode): Promise<string[]> {
  const stats = await httpRequest(`${node.httpUrl}/stats`);
  const partitions = (stats.json.mirror?.partitions ?? {}) as Record<string, string>;
  return Object.entries(partitions).filter(([, state]) => state === 'mirroring').map(([p]) => p).sort();
}

/** A stack whose cleaner runs within seconds, a 3-partition compacting topic on it, and a starter for its nodes. */
async function compactionCluster(name: string, deleteRetentionMs = 2_000) {
  const stack = await startTestStack({ brokerProperties: FAST_CLEANER_BROKER_PROPERTIES });
  onTeardown('compaction stack', () => stack.stop());
  const clients = await compactionClients(stack);
  const topic = uniqueName(name);
  const topicOptions: CompactingTopicOptions = { partitions: 3, deleteRetentionMs, segmentMs: 300 };
  await createCompactingTopic(clients.admin, topic, topicOptions);
  const env = { KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '3', LAG_CHECK_INTERVAL_MS: '200' };
  const startNode = (nodeName: string): Promise<BitacoraNode> => startTestNode({ ...env, NODENAME: uniqueName(nodeName) }, { stack });
  const canonical = (key: string): number => createKeyPartitioner(topic, 3)(Buffer.from(key));
  return { ...clients, stack, topic, topicOptions, startNode, canonical };
}

describe('one value per key, whatever partitioner wrote it and however many partitions the topic has', function () {
  this.timeout(180_000);

  before(async () => {
    // kcat is the foreign producer partitioning like librdkafka: installed here when missing, as CI starts without it.
    await ensureDebianPackage('kcat', ['/usr/bin/kcat']);
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

  it('kcat (librdkafka) and an FNV-1a producer writing keys the nodes write, in both orders: latest value everywhere, converged, misrouted counted', async () => {
    const stack = await sharedStack();
    const topic = uniqueName('foreign');
    const env = { KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '3' };
    const a = await startTestNode(env);
    const b = await startTestNode(env);
    const fnv = await fnvProducer();
    const keys = (prefix: string): string[] => Array.from({ length: 8 }, (_, i) => `${prefix}-${i}`);
    const expected = new Map<string, string | null>();
    const viaNode = async (node: BitacoraNode, list: string[], value: (key: string) => string | null): Promise<void> => {
      for (const key of list) {
        await write(node, key, value(key));
        expected.set(key, value(key));
      }
    };
    const viaKcat = async (list: string[], value: (key: string) => string | null): Promise<void> => {
      await kcatProduce(stack.kafkaBrokers, topic, list.map((key) => [key, value(key)] as const));
      for (const key of list) expected.set(key, value(key));
    };
    const viaFnv = async (list: string[], value: (key: string) => string | null): Promise<void> => {
      await fnv.send({ topic, messages: list.map((key) => ({ key, value: value(key) })) });
      for (const key of list) expected.set(key, value(key));
    };

    // Node first, then the foreign producer: the foreign value is the latest.
    await viaNode(a, keys('nk'), (key) => `node-${key}`);
    await viaKcat(keys('nk'), (key) => `kcat-${key}`);
    await viaNode(b, keys('nf'), (key) => `node-${key}`);
    await viaFnv(keys('nf'), (key) => `fnv-${key}`);
    await waitForValues([a, b], expected, 'the foreign values to replace the node values');
    // A node started now, between the two phases, replays both.
    const c = await startTestNode(env);
    // Foreign first, then the node: the node's value is the latest.
    await viaKcat(keys('kn'), (key) => `kcat-${key}`);
    await viaFnv(keys('fn'), (key) => `fnv-${key}`);
    await waitForValues([a, b, c], expected, 'the foreign values to reach every node');
    await viaNode(c, keys('kn'), (key) => `node-${key}`);
    await viaNode(a, keys('fn'), (key) => `node-${key}`);
    await viaNode(b, keys('nk'), (key) => `node-again-${key}`);
    // Deletes both ways: a node deletes keys a foreign producer wrote last; kcat deletes keys a node wrote last.
    await viaNode(a, keys('nf').slice(0, 4), () => null);
    await viaKcat(keys('kn').slice(0, 4), () => null);
    await viaKcat(keys('nf').slice(4), (key) => `kcat-late-${key}`);
    const d = await startTestNode(env);
    const nodes = [a, b, c, d];
    await waitForValues(nodes, expected, 'every node to serve the latest value of every key');

    const misrouted = await misroutedInLog(topic);
    assert.ok(misrouted > 0, 'some foreign records landed outside their canonical partition');
    for (const node of [c, d]) assert.equal(node.applyCounters.misrouted, misrouted, `${node.config.nodeName} counted every misrouted record`);
    const stats = await httpRequest(`${d.httpUrl}/stats`);
    assert.equal(stats.json.recordsMisrouted, misrouted);
    assert.equal(sampleSum(await scrape(d.httpUrl), 'bitacora_records_misrouted_total'), misrouted);
    await waitForConvergence({ nodes: nodes.map((n) => n.httpUrl), brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });

  it('a foreign producer whose clock runs 55 minutes ahead cannot make a later node write lose', async () => {
    // Kafka 4 refuses a record stamped more than message.timestamp.after.max.ms (1 hour by default) ahead of the
    // broker; 55 minutes stays under that default, so the topic keeps the settings a node gives it.
    const skewMs = 55 * 60_000;
    const stack = await sharedStack();
    const topic = uniqueName('fast-clock');
    const env = { KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '3' };
    const a = await startTestNode(env);
    const b = await startTestNode(env);
    const canonical = createKeyPartitioner(topic, 3);
    const producer = await foreignProducer();
    const expected = new Map<string, string | null>();
    for (let i = 0; i < 6; i++) {
      const key = `skewed-${i}`;
      // Half land outside the key's canonical partition, half in it.
      const partition = i % 2 === 0 ? (canonical(Buffer.from(key)) + 1) % 3 : canonical(Buffer.from(key));
      await producer.send({ topic, messages: [{ key, value: 'from the future', partition, timestamp: String(Date.now() + skewMs) }] });
      expected.set(key, 'from the future');
    }
    await waitForValues([a, b], expected, 'both nodes to serve the fast-clock values');
    for (let i = 0; i < 6; i++) {
      const key = `skewed-${i}`;
      await write(i % 2 ? a : b, key, i < 4 ? `node-${i}` : null);
      expected.set(key, i < 4 ? `node-${i}` : null);
      assert.equal(await localValue((i % 2 ? a : b).httpUrl, key), expected.get(key), 'read-your-writes');
    }
    const fresh = await startTestNode(env);
    await waitForValues([a, b, fresh], expected, 'every node to serve the later node writes');
    const entry = fresh.store.get('skewed-0')!;
    assert.ok(entry.timestamp > Date.now() + skewMs - 60_000, 'the node write was stamped after the foreign one (hybrid logical clock)');
    await waitForConvergence({ nodes: [a.httpUrl, b.httpUrl, fresh.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });

  it('deletes through a node and by foreign producers, then real compaction past delete.retention.ms: no key comes back on a fresh node', async function () {
    this.timeout(300_000);
    const { kafka, admin, producer, stack, topic, topicOptions, startNode, canonical } = await compactionCluster('compacted-keys');
    const a = await startNode('old-a');
    const b = await startNode('old-b');
    const fnv = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: fnv1aPartitioner });
    await fnv.connect();
    onTeardown('FNV-1a producer', () => fnv.disconnect());
    const keys = (prefix: string): string[] => Array.from({ length: 12 }, (_, i) => `${prefix}-${i}`);
    const expected = new Map<string, string | null>();

    // Foreign values (many outside their canonical partition), then deleted through a node: the node tombstones the
    // key in every partition holding a value of it.
    await fnv.send({ topic, messages: keys('fnv').map((key) => ({ key, value: `fnv-${key}` })) });
    await kcatProduce(stack.kafkaBrokers, topic, keys('kcat').map((key) => [key, `kcat-${key}`] as const));
    const foreign = [...keys('fnv'), ...keys('kcat')];
    for (const key of foreign) expected.set(key, key.startsWith('fnv') ? `fnv-${key}` : `kcat-${key}`);
    await waitForValues([a, b], expected, 'the foreign values to reach both nodes');
    for (const key of foreign.filter((_, i) => i % 2 === 0)) {
      await write(a, key, null);
      expected.set(key, null);
    }
    // Node values, deleted by a foreign producer that routes the key like the node (its tombstone supersedes the value
    // in the same partition), and foreign values deleted by the same producer (same partition again).
    for (const key of keys('node')) {
      await write(b, key, `node-${key}`);
      expected.set(key, `node-${key}`);
    }
    await producer.send({ topic, messages: keys('node').slice(0, 6).map((key) => ({ key, value: null, partition: canonical(key) })) });
    await kcatProduce(stack.kafkaBrokers, topic, keys('kcat').filter((_, i) => i % 2 === 1).slice(0, 3).map((key) => [key, null] as const));
    for (const key of keys('node').slice(0, 6)) expected.set(key, null);
    for (const key of keys('kcat').filter((_, i) => i % 2 === 1).slice(0, 3)) expected.set(key, null);
    await waitForValues([a, b], expected, 'the deletes to reach both nodes');
    assert.ok(a.applyCounters.misrouted > 0, 'some foreign records landed outside their canonical partition');

    const cleaned = await waitForCleaning({ kafka, admin, producer, topic, topicOptions, tombstones: true, timeoutMs: 120_000 });
    assert.deepEqual(cleaningLeft(cleaned.records).tombstones, 0);
    const survivors = new Set(cleaned.records.filter((r) => r.key !== null && !r.key.startsWith('__roll__')).map((r) => r.key));
    for (const [key, value] of expected) if (value === null) assert.ok(!survivors.has(key), `no record of the deleted key ${key} survives compaction`);

    const fresh = await startNode('fresh');
    await waitForValues([a, b, fresh], expected, 'every node, the fresh one too, to hold the latest value of every key and none of the deleted ones');
    await waitForConvergence({ nodes: [a.httpUrl, b.httpUrl, fresh.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });

  it('closes the compaction gap: a foreign tombstone outside the canonical partition, over an older value in another, stays a deletion after the cleaner drops it', async function () {
    this.timeout(300_000);
    // delete.retention.ms well above the mirror lag (a second or two here): docs/architecture.md states the bound.
    const { kafka, admin, producer, stack, topic, topicOptions, startNode, canonical } = await compactionCluster('mirrored-gap', 5_000);
    const a = await startNode('gap-a');
    const b = await startNode('gap-b');
    const send = async (key: string, value: string | null, partition: number): Promise<number> => {
      const [result] = await producer.send({ topic, messages: [{ key, value, partition }] });
      return Number(result!.baseOffset);
    };
    const expected = new Map<string, string | null>();
    const wanted: Array<{ source: number; key: string; offset: number }> = [];
    // The older value, last record of its key in its partition: a node's (canonical) for even keys, a foreign one
    // in another partition for odd keys. Then a foreign tombstone in a third partition, later by the clock.
    for (let i = 0; i < 8; i++) {
      const key = `gap-${i}`;
      const c = canonical(key);
      if (i % 2 === 0) await write(a, key, `node-${i}`);
      else wanted.push({ source: (c + 1) % 3, key, offset: await send(key, `foreign-${i}`, (c + 1) % 3) });
      expected.set(key, null);
    }
    // Keys that keep a foreign value outside their canonical partition.
    for (let i = 0; i < 4; i++) {
      const key = `kept-${i}`;
      wanted.push({ source: (canonical(key) + 2) % 3, key, offset: await send(key, `kept-${i}`, (canonical(key) + 2) % 3) });
      expected.set(key, `kept-${i}`);
    }
    for (let i = 0; i < 8; i++) {
      const key = `gap-${i}`;
      const q = (canonical(key) + (i % 2 === 0 ? 1 : 2)) % 3;
      wanted.push({ source: q, key, offset: await send(key, null, q) });
    }
    await waitForValues([a, b], expected, 'both nodes to hide the values behind the foreign tombstones');
    const sides = await waitForMirrors(kafka, admin, topic, wanted);
    for (const side of sides) assert.equal(side.partition, canonical(side.key), 'a side record lives in its key\'s canonical partition');
    assert.ok(sides.filter((s) => s.key.startsWith('gap-') && s.deleted).every((s) => !s.tombstone), 'a mirrored deletion is a non-null marker');

    const cleaned = await waitForCleaning({ kafka, admin, producer, topic, topicOptions, tombstones: true, timeoutMs: 120_000 });
    assert.equal(cleaningLeft(cleaned.records).tombstones, 0, 'the foreign tombstones are gone');
    // What made the gap: the older value is still the last record of its key in its partition.
    for (let i = 0; i < 8; i++) {
      const key = `gap-${i}`;
      assert.ok(cleaned.records.some((r) => r.key === key && r.value !== null), `the hidden value of ${key} survives compaction`);
    }
    const fresh = await startNode('gap-fresh');
    await waitForValues([a, b, fresh], expected, 'every node, the fresh one too, to keep the deleted keys deleted');
    await waitForConvergence({ nodes: [a.httpUrl, b.httpUrl, fresh.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });

  it('restates a value hidden behind a deletion in the main slot as a marker: it stays deleted after the cleaner drops the tombstone', async function () {
    this.timeout(300_000);
    const { kafka, admin, producer, stack, topic, topicOptions, startNode, canonical } = await compactionCluster('hidden-values', 5_000);
    const a = await startNode('hidden-a');
    const b = await startNode('hidden-b');
    const send = async (key: string, value: string | null, partition: number, timestamp?: number): Promise<number> => {
      const [result] = await producer.send({ topic, messages: [{ key, value, partition, timestamp: timestamp === undefined ? undefined : String(timestamp) }] });
      return Number(result!.baseOffset);
    };
    const expected = new Map<string, string | null>();
    const hidden: Array<{ source: number; key: string; offset: number }> = [];
    // Even keys: a foreign value outside the canonical partition, then a foreign tombstone in the canonical
    // partition, later by the clock. Odd keys: a node DEL, then a foreign value elsewhere stamped a minute before it
    // (a producer whose clock is behind). Either way the value is the last record of its key in its partition, and
    // only the main slot's tombstone hides it.
    for (let i = 0; i < 8; i++) {
      const key = `hidden-${i}`;
      const c = canonical(key);
      const elsewhere = (c + 1 + (i % 2)) % 3;
      if (i % 2 === 0) {
        hidden.push({ source: elsewhere, key, offset: await send(key, `foreign-${i}`, elsewhere, Date.now() - 1_000) });
        await send(key, null, c);
      } else {
        await write(a, key, `node-${i}`);
        await write(b, key, null);
        hidden.push({ source: elsewhere, key, offset: await send(key, `late-${i}`, elsewhere, Date.now() - 60_000) });
      }
      expected.set(key, null);
    }
    await waitForValues([a, b], expected, 'both nodes to hide the values behind the main-slot deletions');
    // The mirroring node restates each hidden value: its side key's last record is a marker (not a tombstone)
    // covering the value's offset.
    await waitForMirrors(kafka, admin, topic, hidden, { restated: true });

    const cleaned = await waitForCleaning({ kafka, admin, producer, topic, topicOptions, tombstones: true, timeoutMs: 120_000 });
    assert.equal(cleaningLeft(cleaned.records).tombstones, 0, 'the main-slot tombstones are gone');
    for (const { key } of hidden) assert.ok(cleaned.records.some((r) => r.key === key && r.value !== null), `the hidden value of ${key} survives compaction`);
    const fresh = await startNode('hidden-fresh');
    await waitForValues([a, b, fresh], expected, 'every node, one started after compaction too, to keep the hidden values deleted');
    await waitForConvergence({ nodes: [a.httpUrl, b.httpUrl, fresh.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });

  it('mirrors each foreign record exactly once (counted in the topic) across hand-overs: a mirroring node stopped, another joining', async () => {
    const stack = await sharedStack();
    const topic = uniqueName('mirror-handover');
    const env = { KAFKA_TOPIC: topic, KAFKA_TOPIC_PARTITIONS: '3' };
    const a = await startTestNode({ ...env, NODENAME: uniqueName('mirror-a') });
    const b = await startTestNode({ ...env, NODENAME: uniqueName('mirror-b') });
    const [kafka, admin, producer] = [await foreignKafka(), await foreignAdmin(), await foreignProducer()];
    const canonical = (key: string): number => createKeyPartitioner(topic, 3)(Buffer.from(key));
    const expected = new Map<string, string | null>();
    const wanted: Array<{ source: number; key: string; offset: number }> = [];
    const foreign = async (key: string, value: string): Promise<void> => {
      const source = (canonical(key) + 1 + (key.length % 2)) % 3;
      const [result] = await producer.send({ topic, messages: [{ key, value, partition: source }] });
      wanted.push({ source, key, offset: Number(result!.baseOffset) });
      expected.set(key, value);
    };
    /** Every foreign record has exactly one side record copying it, and there is no other side record. */
    const exactlyOnce = async (what: string): Promise<void> => {
      await waitForMirrors(kafka, admin, topic, wanted);
      const sides = await sidesInLog(kafka, admin, topic);
      const copies = sides.map((s) => `${s.key}@${s.source}:${s.sourceOffset}`).sort();
      assert.deepEqual(copies, wanted.map((w) => `${w.key}@${w.source}:${w.offset}`).sort(), what);
    };
    for (let i = 0; i < 9; i++) await foreign(`moved-${i}`, `first-${i}`);
    await waitForValues([a, b], expected, 'both nodes to serve the foreign values');
    await waitFor(async () => (await mirroring(a)).length + (await mirroring(b)).length === 3, { timeoutMs: 20_000, intervalMs: 200, description: 'a and b to share the 3 source partitions' });
    await exactlyOnce('each foreign record mirrored once');

    // Hand-over: a stops (releasing its fences); b takes every source partition, catches up, and copies nothing twice.
    await a.stop();
    await waitFor(async () => (await mirroring(b)).length === 3, { timeoutMs: 30_000, intervalMs: 200, description: 'b to mirror every source partition' });
    for (let i = 0; i < 3; i++) await foreign(`moved-${i}`, `second-${i}`);
    await exactlyOnce('each foreign record mirrored once, across the hand-over to b');
    // And back: a node joins, takes the partitions designated to it from b, and copies nothing twice either.
    const c = await startTestNode({ ...env, NODENAME: uniqueName('mirror-c') });
    await waitFor(async () => (await mirroring(b)).length + (await mirroring(c)).length === 3 && (await mirroring(c)).length > 0, {
      timeoutMs: 30_000,
      intervalMs: 200,
      description: 'b and the new node c to share the source partitions',
    });
    for (let i = 0; i < 3; i++) await foreign(`late-${i}`, `late-${i}`);
    await exactlyOnce('each foreign record mirrored once, across the hand-over to c');
    await waitForValues([b, c], expected, 'b and c to serve the foreign values');
    assert.equal(sampleSum(await scrape(b.httpUrl), 'bitacora_mirror_lag_records'), 0);
    await waitForConvergence({ nodes: [b.httpUrl, c.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });

  it('a node DEL after mirroring leaves nothing to come back after compaction, no side record either', async function () {
    this.timeout(300_000);
    const { kafka, admin, producer, stack, topic, topicOptions, startNode, canonical } = await compactionCluster('mirror-deleted');
    const a = await startNode('mirror-a');
    const b = await startNode('mirror-b');
    const expected = new Map<string, string | null>();
    const wanted: Array<{ source: number; key: string; offset: number }> = [];
    for (let i = 0; i < 9; i++) {
      const key = `moved-${i}`;
      const source = (canonical(key) + 1 + (i % 2)) % 3;
      const [result] = await producer.send({ topic, messages: [{ key, value: `foreign-${i}`, partition: source }] });
      wanted.push({ source, key, offset: Number(result!.baseOffset) });
      expected.set(key, `foreign-${i}`);
    }
    await waitForValues([a, b], expected, 'both nodes to serve the foreign values');
    await waitForMirrors(kafka, admin, topic, wanted);

    // A node DEL after mirroring: tombstones in the source partitions, then the main and side keys in one request.
    const deleted = ['moved-0', 'moved-3', 'moved-4', 'moved-8'];
    for (const key of deleted) {
      await write(key === 'moved-3' ? a : b, key, null);
      expected.set(key, null);
    }
    const fresh = await startNode('mirror-fresh');
    await waitForValues([a, b, fresh], expected, 'every node, a fresh one too, to hold the deletes');
    const cleaned = await waitForCleaning({ kafka, admin, producer, topic, topicOptions, tombstones: true, timeoutMs: 120_000 });
    assert.equal(cleaningLeft(cleaned.records).tombstones, 0);
    for (const key of deleted) assert.ok(!cleaned.records.some((r) => r.key === key), `no record of ${key} survives in any partition`);
    const left = await sidesInLog(kafka, admin, topic);
    for (const key of deleted) assert.deepEqual(left.filter((s) => s.key === key), [], `no side record of ${key} survives (no marker either)`);
    const replay = await startNode('mirror-replay');
    await waitForValues([a, b, fresh, replay], expected, 'every node, one started after compaction too, to keep the deleted keys deleted');
    await waitForConvergence({ nodes: [a.httpUrl, b.httpUrl, fresh.httpUrl, replay.httpUrl], brokers: stack.kafkaBrokers, topic, timeoutMs: 30_000 });
  });
});
