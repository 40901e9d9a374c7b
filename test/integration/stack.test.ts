import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import * as zookeeper from 'node-zookeeper-client';
import { loadStackConfig } from '../../src/config/stack-config';
import { silentLogger } from '../../src/logging/logger';
import { waitFor, withTimeout } from '../../src/retry/retry';
import { findFreePorts } from '../../src/stack/free-port';
import { locateJava, locateMaven, parseJavaMajorVersion } from '../../src/stack/java-tools';
import { isPidAlive } from '../../src/stack/process-control';
import { stackDown, stackStatus, stackUp, type StackOptions, type StackUpResult } from '../../src/stack/stack';
import { StackError } from '../../src/stack/stack-error';
import { STACK_STATE_FILE, type StackState } from '../../src/stack/stack-state';
import { uniqueName } from '../helpers/unique';

const logger = silentLogger();

/** A folder that exists but holds no programs: a PATH on which nothing is found. */
async function emptyPathDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-empty-path-'));
}

describe('local stack: stack up, status, down', function () {
  // The first run on a machine downloads Kafka with mvn; later ones start in seconds.
  this.timeout(240_000);

  let options: StackOptions;
  let state: StackUpResult;

  before(async () => {
    // Its own ports and folder: never the developer's stack on 2181/9092, nor the shared test stack.
    const [zkPort, kafkaPort, kafkaControllerPort] = (await findFreePorts(3)) as [number, number, number];
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-stack-up-'));
    const { cacheDir, startTimeoutMs } = loadStackConfig(process.env);
    options = { dir, zkPort, kafkaPort, kafkaControllerPort, cacheDir, startTimeoutMs, logger };
    state = await stackUp(options);
  });

  after(async function () {
    this.timeout(90_000);
    if (!options) return;
    try {
      await stackDown(options);
    } finally {
      await fs.rm(options.dir, { recursive: true, force: true });
    }
  });

  it('starts detached ZooKeeper and Kafka and records them in stack.json', async () => {
    assert.equal(state.alreadyRunning, false);
    assert.equal(state.zookeeperConnectString, `127.0.0.1:${options.zkPort}`);
    assert.deepEqual(state.kafkaBrokers, [`127.0.0.1:${options.kafkaPort}`]);
    assert.ok(isPidAlive(state.zookeeper.pid) && isPidAlive(state.kafka.pid));
    const recorded = JSON.parse(await fs.readFile(path.join(options.dir, STACK_STATE_FILE), 'utf8')) as StackState;
    assert.equal(recorded.kafka.pid, state.kafka.pid);
    assert.equal(recorded.zookeeper.pid, state.zookeeper.pid);
  });

  it('reports the stack running and answering', async () => {
    const status = await stackStatus(options);
    assert.equal(status.state, 'running');
    assert.deepEqual(
      status.processes.map(({ role, pid, alive, answering }) => ({ role, pid, alive, answering })),
      [
        { role: 'kafka', pid: state.kafka.pid, alive: true, answering: true },
        { role: 'zookeeper', pid: state.zookeeper.pid, alive: true, answering: true },
      ],
    );
  });

  it('serves Kafka: an admin client creates a topic', async () => {
    const kafka = new Kafka({ clientId: 'stack-test', brokers: [...state.kafkaBrokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const topic = uniqueName('stack-test');
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true, timeout: 20_000 }), true);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(metadata.topics[0]?.partitions.length, 2);
    } finally {
      await admin.disconnect();
    }
  });

  it('serves ZooKeeper: a client establishes a session and writes a znode', async () => {
    const client = zookeeper.createClient(state.zookeeperConnectString, { sessionTimeout: 6_000, retries: 0 });
    try {
      await withTimeout(
        new Promise<void>((resolve) => {
          client.once('connected', () => resolve());
          client.connect();
        }),
        10_000,
        'a ZooKeeper session',
      );
      const node = `/${uniqueName('stack-test')}`;
      const created = await withTimeout(
        new Promise<string>((resolve, reject) => client.create(node, (error, createdPath) => (error ? reject(error) : resolve(createdPath)))),
        10_000,
        'creating a znode',
      );
      assert.equal(created, node);
    } finally {
      client.close();
    }
  });

  it('is idempotent: a second stack up finds the running stack and leaves it alone', async () => {
    const again = await stackUp(options);
    assert.equal(again.alreadyRunning, true);
    assert.equal(again.kafka.pid, state.kafka.pid);
    assert.equal(again.zookeeper.pid, state.zookeeper.pid);
  });

  it('stack down stops both processes, and status then reports down', async () => {
    const result = await stackDown(options);
    assert.deepEqual(
      result.stopped.map((entry) => entry.role),
      ['kafka', 'zookeeper'],
    );
    await waitFor(() => !isPidAlive(state.kafka.pid) && !isPidAlive(state.zookeeper.pid), { timeoutMs: 10_000, description: 'both pids to be gone' });
    await assert.rejects(fs.access(path.join(options.dir, STACK_STATE_FILE)));
    const status = await stackStatus(options);
    assert.equal(status.state, 'down');
    assert.deepEqual(status.processes, []);
    assert.deepEqual((await stackDown(options)).stopped, [], 'a second stack down has nothing to stop');
  });
});

describe('java and mvn lookup', () => {
  let emptyDir: string;

  before(async () => {
    emptyDir = await emptyPathDir();
  });

  after(async () => {
    await fs.rm(emptyDir, { recursive: true, force: true });
  });

  it('says what to install when java is not on PATH', async () => {
    await assert.rejects(
      locateJava({ PATH: emptyDir }),
      (error: unknown) =>
        error instanceof StackError &&
        error.code === 'JAVA_NOT_FOUND' &&
        error.message.includes('java not found on PATH') &&
        error.message.includes('apt-get install openjdk-17-jre-headless'),
    );
  });

  it('stack up fails with that error before starting anything', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-no-java-'));
    try {
      await assert.rejects(
        stackUp({ dir, zkPort: 0, kafkaPort: 0, kafkaControllerPort: 0, cacheDir: path.join(dir, 'cache'), startTimeoutMs: 5_000, logger, env: { PATH: emptyDir } }),
        (error: unknown) => error instanceof StackError && error.code === 'JAVA_NOT_FOUND',
      );
      await assert.rejects(fs.access(path.join(dir, STACK_STATE_FILE)));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('says what to install when mvn is not on PATH', () => {
    assert.throws(
      () => locateMaven({ PATH: emptyDir }),
      (error: unknown) => error instanceof StackError && error.code === 'MAVEN_NOT_FOUND' && error.message.includes('apt-get install maven'),
    );
  });

  it('finds the java on this machine', async () => {
    const java = await locateJava(process.env);
    assert.ok(java.majorVersion >= 11, `java ${java.majorVersion}`);
  });

  it('reads old and new java -version formats', () => {
    assert.equal(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15'), 17);
    assert.equal(parseJavaMajorVersion('java version "1.8.0_392"'), 8);
    assert.equal(parseJavaMajorVersion('openjdk version "21" 2023-09-19'), 21);
    assert.equal(parseJavaMajorVersion('no version here'), undefined);
  });
});
