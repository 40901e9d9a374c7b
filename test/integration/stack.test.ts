import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import * as zookeeper from 'node-zookeeper-client';
import { runStackCommand, STACK_DOWN_EXIT_CODE } from '../../src/cli/stack-command';
import { ConfigError } from '../../src/config/config-error';
import { loadStackConfig } from '../../src/config/stack-config';
import { silentLogger } from '../../src/logging/logger';
import { waitFor, withTimeout } from '../../src/retry/retry';
import { findFreePort, findFreePorts } from '../../src/stack/free-port';
import { locateJava, locateMaven, parseJavaMajorVersion } from '../../src/stack/java-tools';
import { isPidAlive } from '../../src/stack/process-control';
import { stackDown, stackStatus, stackUp, type StackOptions, type StackUpResult } from '../../src/stack/stack';
import { StackError } from '../../src/stack/stack-error';
import { findStackProcesses, readStackState, STACK_STATE_FILE, type StackState } from '../../src/stack/stack-state';
import { onTeardown } from '../helpers/teardown';
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
    assert.equal(state.version, 2);
    assert.equal(state.zookeeperConnectString, `127.0.0.1:${options.zkPort}`);
    assert.deepEqual(state.kafkaBrokers, [`127.0.0.1:${options.kafkaPort}`]);
    assert.deepEqual(
      state.kafka.map(({ nodeId, port, controllerPort }) => ({ nodeId, port, controllerPort })),
      [{ nodeId: 1, port: options.kafkaPort, controllerPort: options.kafkaControllerPort }],
    );
    assert.equal(state.saslBrokers, undefined);
    assert.ok(isPidAlive(state.zookeeper.pid) && isPidAlive(state.kafka[0]!.pid));
    const recorded = JSON.parse(await fs.readFile(path.join(options.dir, STACK_STATE_FILE), 'utf8')) as StackState;
    assert.equal(recorded.kafka[0]!.pid, state.kafka[0]!.pid);
    assert.equal(recorded.zookeeper.pid, state.zookeeper.pid);
  });

  it('reports the stack running and answering', async () => {
    const status = await stackStatus(options);
    assert.equal(status.state, 'running');
    assert.deepEqual(
      status.processes.map(({ role, pid, alive, answering }) => ({ role, pid, alive, answering })),
      [
        { role: 'kafka', pid: state.kafka[0]!.pid, alive: true, answering: true },
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
    assert.equal(again.kafka[0]!.pid, state.kafka[0]!.pid);
    assert.equal(again.zookeeper.pid, state.zookeeper.pid);
  });

  it('stack down stops both processes, and status then reports down', async () => {
    const result = await stackDown(options);
    assert.deepEqual(
      result.stopped.map((entry) => entry.role),
      ['kafka', 'zookeeper'],
    );
    await waitFor(() => !isPidAlive(state.kafka[0]!.pid) && !isPidAlive(state.zookeeper.pid), { timeoutMs: 10_000, description: 'both pids to be gone' });
    await assert.rejects(fs.access(path.join(options.dir, STACK_STATE_FILE)));
    const status = await stackStatus(options);
    assert.equal(status.state, 'down');
    assert.deepEqual(status.processes, []);
    assert.deepEqual((await stackDown(options)).stopped, [], 'a second stack down has nothing to stop');
  });

  it('moves the Kafka data of a stack from before several brokers (STACK_DIR/kafka) to kafka-1 and keeps it', async () => {
    // Versions that ran one broker kept its storage in STACK_DIR/kafka.
    await fs.rename(path.join(options.dir, 'kafka-1'), path.join(options.dir, 'kafka'));
    const again = await stackUp(options);
    assert.equal(again.alreadyRunning, false);
    assert.equal(again.kafkaClusterId, state.kafkaClusterId, 'the same cluster, so the same topics');
    await fs.access(path.join(options.dir, 'kafka-1', 'meta.properties'));
    await assert.rejects(fs.access(path.join(options.dir, 'kafka')));
    await stackDown(options);
  });
});

/** A stream that keeps what a command prints. */
function capture(): { out: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { out, text: () => chunks.join('') };
}

describe('stack CLI: up --brokers 3, status, down', function () {
  // Three broker JVMs and ZooKeeper on a small shared machine: tens of seconds to start.
  this.timeout(240_000);

  let dir: string;
  let env: Record<string, string | undefined>;
  let state: StackState;

  const run = async (...args: string[]): Promise<{ code: number; text: string }> => {
    const { out, text } = capture();
    const code = await runStackCommand(args, env, out, logger);
    return { code, text: text() };
  };

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-stack-cli-'));
    // Free ports, its own folder; the variables of whoever runs the tests never decide the shape of this stack.
    env = { ...process.env, STACK_DIR: dir, ZK_PORT: '0', KAFKA_PORT: '0', KAFKA_CONTROLLER_PORT: '0', STACK_BROKERS: undefined };
  });

  after(async function () {
    this.timeout(120_000);
    if (!dir) return;
    try {
      await stackDown({ dir, logger });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a --brokers value outside 1..9, naming the flag, before starting anything', async () => {
    for (const value of ['0', '10', 'three']) {
      await assert.rejects(run('up', '--brokers', value), (error: unknown) => error instanceof ConfigError && error.variable === '--brokers');
    }
    assert.equal((await run('up', '--brokers')).code, 2, 'a flag without its value is a usage error');
    assert.deepEqual(await findStackProcesses(dir, ['attached', 'detached']), []);
  });

  it('stack up --brokers 3 starts three brokers and records each in stack.json', async () => {
    const { code, text } = await run('up', '--brokers', '3');
    assert.equal(code, 0, text);
    assert.match(text, /stack started/);
    assert.match(text, /kafka-1 \d+, kafka-2 \d+, kafka-3 \d+/);
    const recorded = await readStackState(dir);
    assert.ok(recorded);
    state = recorded;
    assert.equal(state.version, 2);
    assert.deepEqual(
      state.kafka.map((broker) => broker.nodeId),
      [1, 2, 3],
    );
    assert.equal(state.kafkaBrokers.length, 3);
    const ports = [state.zookeeper.port, ...state.kafka.flatMap((broker) => [broker.port, broker.controllerPort])];
    assert.equal(new Set(ports).size, 7, `distinct ports: ${ports.join(',')}`);
    for (const broker of state.kafka) assert.ok(isPidAlive(broker.pid), `kafka-${broker.nodeId} pid ${broker.pid}`);

    const kafka = new Kafka({ clientId: 'stack-cli-test', brokers: [...state.kafkaBrokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    onTeardown('admin', () => admin.disconnect());
    assert.deepEqual((await admin.describeCluster()).brokers.map((broker) => broker.nodeId).sort(), [1, 2, 3]);
  });

  it('stack status lists ZooKeeper and every broker, all answering', async () => {
    const { code, text } = await run('status');
    assert.equal(code, 0, text);
    assert.match(text, /^stack running since /);
    for (const service of ['kafka-1', 'kafka-2', 'kafka-3', 'zookeeper']) {
      assert.match(text, new RegExp(`^${service} +127\\.0\\.0\\.1:\\d+  pid \\d+  alive, answering$`, 'm'));
    }
  });

  it('stack up for another number of brokers refuses while this stack runs', async () => {
    await assert.rejects(run('up'), (error: unknown) => error instanceof StackError && error.code === 'ALREADY_RUNNING' && /3 brokers, not 1/.test(error.message));
    assert.match((await run('up', '--brokers=3')).text, /stack already running/);
  });

  it('stack down stops every broker, then ZooKeeper', async () => {
    const { code, text } = await run('down');
    assert.equal(code, 0, text);
    assert.match(text, /^stopped kafka-1 \(pid \d+\), kafka-2 \(pid \d+\), kafka-3 \(pid \d+\), zookeeper \(pid \d+\)$/m);
    const pids = [state.zookeeper.pid, ...state.kafka.map((broker) => broker.pid)];
    await waitFor(() => pids.every((pid) => !isPidAlive(pid)), { timeoutMs: 10_000, description: 'every pid to be gone' });
    const after = await run('status');
    assert.equal(after.code, STACK_DOWN_EXIT_CODE);
    assert.match(after.text, /^stack down/);
  });

  it('refuses to start one broker on the storage of three, leaving nothing running', async () => {
    await assert.rejects(
      run('up', '--brokers', '1'),
      (error: unknown) => error instanceof StackError && error.code === 'STORAGE_MISMATCH' && error.message.includes('--brokers 3'),
    );
    assert.deepEqual(await findStackProcesses(dir, ['attached', 'detached']), []);
  });
});

describe('stack.json written before several brokers (version 1)', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  /** A stand-in process carrying the command-line markers of a version-1 stack: no service marker. */
  function legacyProcess(role: 'kafka' | 'zookeeper'): ChildProcess {
    const markers = [`-Dbitacora.stack.dir=${dir}`, `-Dbitacora.stack.role=${role}`, '-Dbitacora.stack.mode=detached'];
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', ...markers], { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-stack-v1-'));
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is read as one broker, reported, and stopped by stack down', async () => {
    const kafka = legacyProcess('kafka');
    const zk = legacyProcess('zookeeper');
    // Ports nothing listens on: the stand-ins are alive but do not answer.
    const [zkPort, kafkaPort, controllerPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
    const version1 = {
      version: 1,
      dir,
      startedAt: new Date().toISOString(),
      zookeeperConnectString: `127.0.0.1:${zkPort}`,
      kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
      kafkaClusterId: 'AAAAAAAAAAAAAAAAAAAAAA',
      zookeeper: { pid: zk.pid, port: zkPort },
      kafka: { pid: kafka.pid, port: kafkaPort, controllerPort },
    };
    await fs.writeFile(path.join(dir, STACK_STATE_FILE), JSON.stringify(version1));
    await waitFor(async () => (await findStackProcesses(dir)).length === 2, { timeoutMs: 10_000, description: 'the stand-ins to run' });

    const recorded = await readStackState(dir);
    assert.deepEqual(recorded?.kafka, [{ nodeId: 1, pid: kafka.pid, port: kafkaPort, controllerPort }]);
    assert.equal(recorded?.version, 2);

    const status = await stackStatus({ dir, logger });
    assert.equal(status.state, 'partial');
    assert.deepEqual(
      status.processes.map(({ service, pid, alive, answering }) => ({ service, pid, alive, answering })),
      [
        { service: 'kafka-1', pid: kafka.pid, alive: true, answering: false },
        { service: 'zookeeper', pid: zk.pid, alive: true, answering: false },
      ],
    );
    assert.deepEqual(status.untracked, []);

    const result = await stackDown({ dir, logger });
    assert.deepEqual(
      result.stopped.map(({ service, pid }) => ({ service, pid })),
      [
        { service: 'kafka-1', pid: kafka.pid },
        { service: 'zookeeper', pid: zk.pid },
      ],
    );
    await waitFor(() => !isPidAlive(kafka.pid!) && !isPidAlive(zk.pid!), { timeoutMs: 10_000, description: 'the stand-ins to exit' });
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
