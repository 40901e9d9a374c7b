import assert from 'node:assert/strict';
import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { waitFor, withTimeout } from '../../src/retry/retry';
import type { RunningStack } from '../../src/stack/stack';
import { probeZooKeeper } from '../../src/stack/zookeeper-server';
import { onTeardown } from '../helpers/teardown';
import { startTestStack } from '../helpers/test-stack';
import { uniqueName } from '../helpers/unique';

const SASL_USER = { username: 'bitacora-test', password: 'secret "with" \\ quotes and é' };

function kafkaClient(brokers: string[], extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: 'multi-broker-test', brokers, logLevel: logLevel.NOTHING, ...extra });
}

async function connectedAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  onTeardown('admin', () => admin.disconnect());
  return admin;
}

/**
 * Creates `topic` and waits until every broker knows its leaders: a new topic reaches the brokers a moment apart,
 * and one that has not seen it yet answers "does not host this topic-partition", which kafkajs's own wait for
 * leaders (createTopics' waitForLeaders) does not retry.
 */
async function createTopic(admin: Admin, topic: string, numPartitions = 1): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: false, timeout: 30_000 });
  await waitFor(
    async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]!.partitions.length === numPartitions && metadata.topics[0]!.partitions.every((partition) => partition.leader >= 0);
    },
    { timeoutMs: 30_000, intervalMs: 250, description: `leaders for every partition of ${topic}` },
  );
}

async function brokerIds(admin: Admin): Promise<number[]> {
  return (await admin.describeCluster()).brokers.map((broker) => broker.nodeId).sort();
}

/** Produces `value` with acks=all and reads it back from the start of `topic` with a fresh consumer group. */
async function produceAndConsume(kafka: Kafka, topic: string, value: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  onTeardown('producer', () => producer.disconnect());
  await producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] });
  const consumer = kafka.consumer({ groupId: uniqueName('multi-broker-group') });
  await consumer.connect();
  onTeardown('consumer', () => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Promise<string>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
  });
  assert.equal(await withTimeout(seen, 60_000, `reading ${topic}`), value);
}

describe('a 3-broker stack with a SASL/PLAIN listener', function () {
  // Three broker JVMs and ZooKeeper on a small shared machine: tens of seconds to start.
  this.timeout(240_000);

  let stack: RunningStack;
  let admin: Admin;
  let topic: string;

  before(async function () {
    stack = await startTestStack({ brokers: 3, saslPlain: SASL_USER });
  });

  after(async function () {
    this.timeout(120_000);
    await stack?.stop();
  });

  beforeEach(async () => {
    admin = await connectedAdmin(kafkaClient(stack.kafkaBrokers));
  });

  it('runs three brokers, each its own service, all listed in the cluster metadata', async () => {
    assert.equal(stack.kafkaBrokers.length, 3);
    assert.deepEqual(
      stack.kafka.map((broker) => broker.name),
      ['kafka-1', 'kafka-2', 'kafka-3'],
    );
    assert.equal(new Set(stack.kafka.map((broker) => broker.pid)).size, 3);
    assert.equal(stack.zookeeper.name, 'zookeeper');
    assert.deepEqual(await brokerIds(admin), [1, 2, 3]);
    assert.equal((await admin.describeCluster()).clusterId, stack.kafkaClusterId);
  });

  it('gives a new topic replication factor 3 and min.insync.replicas 2 by default', async () => {
    topic = uniqueName('multi-broker');
    // No replication factor given: the broker's default applies.
    await createTopic(admin, topic, 3);
    // Any broker may be asked, and one may learn of the new topic a moment after the one that created it.
    const metadata = await waitFor(() => admin.fetchTopicMetadata({ topics: [topic] }), {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: `metadata of ${topic} from any broker`,
    });
    for (const partition of metadata.topics[0]!.partitions) {
      assert.equal(partition.replicas.length, 3, `partition ${partition.partitionId} replicas`);
    }
    const minInSync = await waitFor(
      async () => {
        const described = await admin.describeConfigs({ resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
        return described.resources[0]?.configEntries[0]?.configValue;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: `the configuration of ${topic}` },
    );
    assert.equal(minInSync, '2');
  });

  it('keeps accepting acks=all writes with one broker killed, and start() brings that broker back', async () => {
    const victim = stack.kafka[1]!;
    const pid = victim.pid;
    assert.ok(pid);
    await victim.kill();
    assert.equal(victim.pid, undefined);
    // Two of three replicas stay in sync, which min.insync.replicas 2 accepts. (No consumer group here: a first
    // group would create __consumer_offsets, which needs all three brokers for its replication factor 3.)
    // Retries as a real client would: until the controller fences the dead broker (its session, 9 s, expires),
    // metadata still names it the leader of some partitions.
    const producer = kafkaClient(stack.kafkaBrokers, { retry: { retries: 10 } }).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    onTeardown('producer', () => producer.disconnect());
    // One partition at a time: kafka-2 led one of them and was a follower of the others.
    for (const partition of [0, 1, 2]) {
      const [written] = await producer.send({ topic, acks: -1, messages: [{ partition, key: 'k', value: 'written while kafka-2 is down' }] });
      assert.equal(written?.errorCode, 0, `partition ${partition}`);
    }
    await assert.rejects(stack.kafka[0]!.start(), /already running/, 'start() of a running broker throws');

    await victim.start();
    assert.ok(victim.pid && victim.pid !== pid);
    assert.deepEqual(await brokerIds(admin), [1, 2, 3]);
    // It catches up and rejoins every in-sync replica set.
    await waitFor(
      async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.every((partition) => partition.isr.length === 3),
      { timeoutMs: 60_000, intervalMs: 500, description: `every partition of ${topic} to have 3 in-sync replicas` },
    );
  });

  it('stops and starts ZooKeeper on the same port, and a client then connects', async () => {
    await stack.zookeeper.stop();
    assert.equal(stack.zookeeper.pid, undefined);
    await stack.zookeeper.stop(); // idempotent
    await stack.zookeeper.start();
    assert.ok(stack.zookeeper.pid);
    // A real session, not just a TCP connect.
    await probeZooKeeper(stack.zookeeperConnectString, 10_000);
  });

  it('serves SASL_PLAINTEXT on every broker: the configured user produces and consumes', async () => {
    assert.equal(stack.saslBrokers?.length, 3);
    const saslTopic = uniqueName('multi-broker-sasl');
    await createTopic(admin, saslTopic);
    const sasl = kafkaClient(stack.saslBrokers!, { sasl: { mechanism: 'plain', ...SASL_USER } });
    await produceAndConsume(sasl, saslTopic, 'over SASL');
    // The admin of this test reads the same topic over PLAINTEXT, which stays open.
    assert.equal(Number((await admin.fetchTopicOffsets(saslTopic))[0]?.high), 1);
  });

  it('refuses a wrong SASL password with an authentication error', async () => {
    const wrong = kafkaClient(stack.saslBrokers!, {
      sasl: { mechanism: 'plain', username: SASL_USER.username, password: 'not the password' },
      retry: { retries: 0 },
    });
    const refused = wrong.admin({ retry: { retries: 0 } });
    onTeardown('refused admin', () => refused.disconnect());
    await assert.rejects(refused.connect(), (error: Error) => error.name === 'KafkaJSSASLAuthenticationError' && /authentication failed/i.test(error.message));
  });
});
