import assert from 'node:assert/strict';
import * as zookeeper from 'node-zookeeper-client';
import { waitFor, WaitTimeoutError, withTimeout } from '../../src/retry/retry';
import { findFreePorts } from '../../src/stack/free-port';
import type { RunningStack, StackService } from '../../src/stack/stack';
import { checkLedger, waitForConvergence } from './convergence';
import { httpRequest } from './http-client';
import { type NodeProcess, startNodeProcess } from './node-process';
import { onTeardown } from './teardown';
import { startTestStack } from './test-stack';
import { uniqueName } from './unique';
import { WriteLoad, type WriteLoadOptions } from './write-load';

/**
 * The variables every fault-test node runs with, chosen so each fault resolves within test-friendly bounds:
 * - ZK_SESSION_TIMEOUT_MS / KAFKA_SESSION_TIMEOUT_MS 6 s (the lowest ZooKeeper and Kafka allow with their default
 *   ticks): a SIGKILLed node's registration and group member go within seconds, so its restart waits little;
 * - PRODUCE_TIMEOUT_MS 3 s: with every broker down a write answers 503 within about 3 s;
 * - FANOUT_TIMEOUT_MS 1 s: a hung peer costs a read at most about 1 s;
 * - KAFKA_CONNECT_TIMEOUT_MS 60 s: a start on a busy 2-core machine is slow, never wrong.
 */
export const FAULT_NODE_ENV = {
  KAFKA_TOPIC_PARTITIONS: '6',
  BIND_HOST: '127.0.0.1',
  ADVERTISED_HOST: '127.0.0.1',
  KAFKA_CONNECT_TIMEOUT_MS: '60000',
  ZK_SESSION_TIMEOUT_MS: '6000',
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  PRODUCE_TIMEOUT_MS: '3000',
  APPLY_TIMEOUT_MS: '5000',
  FANOUT_TIMEOUT_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '5000',
} as const;

/** How long a node process may take to become ready (a restart after a SIGKILL waits out both session timeouts). */
const NODE_READY_TIMEOUT_MS = 90_000;

/** A Kafka + ZooKeeper stack for one fault-test file, whose services the tests stop and start. */
export interface FaultStack {
  readonly stack: RunningStack;
  /** Kills (SIGKILL) broker `index` (0 is node.id 1); restore() starts it again should the test not. */
  killBroker(index: number): Promise<void>;
  startBroker(index: number): Promise<void>;
  /** Stops every broker at once (SIGKILL: the brokers go down together, none hands over to another). */
  killAllBrokers(): Promise<void>;
  startAllBrokers(): Promise<void>;
  /** SIGSTOP every broker: connections stay open and requests hang unanswered, unlike a dead broker's. */
  freezeAllBrokers(): void;
  /** SIGCONT every frozen broker. */
  thawAllBrokers(): void;
  stopZooKeeper(): Promise<void>;
  startZooKeeper(): Promise<void>;
  /** Thaws and starts whatever a test left down; useFaultStack runs it after every test, so the next one finds the stack whole. */
  restore(): Promise<void>;
  stop(): Promise<void>;
}

/** How long a stopped stack service may take to answer again. */
const SERVICE_START_TIMEOUT_MS = 90_000;

/** Starts a 3-broker stack (replication factor 3, min.insync.replicas 2 for the nodes' topics). */
export async function startFaultStack(): Promise<FaultStack> {
  const stack = await startTestStack({ brokers: 3 });
  const down = new Set<StackService>();
  const frozen = new Set<number>();
  const thaw = (): void => {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    frozen.clear();
  };
  const takeDown = async (service: StackService, how: () => Promise<void>): Promise<void> => {
    down.add(service);
    await how();
  };
  const bringUp = async (service: StackService): Promise<void> => {
    await service.start(SERVICE_START_TIMEOUT_MS);
    down.delete(service);
  };
  const broker = (index: number): StackService => {
    const service = stack.kafka[index];
    if (!service) throw new RangeError(`no broker ${index}: the stack has ${stack.kafka.length}`);
    return service;
  };
  const faults: FaultStack = {
    stack,
    killBroker: (index) => takeDown(broker(index), () => broker(index).kill('SIGKILL')),
    startBroker: (index) => bringUp(broker(index)),
    killAllBrokers: async () => {
      await Promise.all(stack.kafka.map((service) => takeDown(service, () => service.kill('SIGKILL'))));
    },
    startAllBrokers: async () => {
      // Together: a KRaft quorum needs a majority of its voters before any of them answers.
      await Promise.all(stack.kafka.map((service) => bringUp(service)));
    },
    freezeAllBrokers: () => {
      for (const service of stack.kafka) {
        if (service.pid === undefined) throw new Error(`broker ${service.name} is not running`);
        frozen.add(service.pid);
        process.kill(service.pid, 'SIGSTOP');
      }
    },
    thawAllBrokers: thaw,
    stopZooKeeper: () => takeDown(stack.zookeeper, () => stack.zookeeper.stop()),
    startZooKeeper: () => bringUp(stack.zookeeper),
    restore: async () => {
      thaw();
      const brokers = stack.kafka.filter((service) => down.has(service));
      await Promise.all(brokers.map((service) => bringUp(service)));
      if (down.has(stack.zookeeper)) await bringUp(stack.zookeeper);
    },
    stop: () => stack.stop(),
  };
  return faults;
}

/**
 * Hooks for a describe() whose tests share one fault stack: started before the first test, stopped after the last,
 * and made whole again after every test. Returns the stack's getter (the stack exists once `before` has run).
 */
export function useFaultStack(): () => FaultStack {
  let faults: FaultStack | undefined;
  before(async function () {
    this.timeout(240_000);
    faults = await startFaultStack();
  });
  after(async function () {
    this.timeout(120_000);
    await faults?.stop();
  });
  // A hook of its own rather than a teardown entry: starting brokers again may take longer than a teardown step.
  afterEach(async function () {
    this.timeout(SERVICE_START_TIMEOUT_MS + 30_000);
    await faults?.restore();
  });
  return () => {
    if (!faults) throw new Error('the fault stack did not start; see the before hook');
    return faults;
  };
}

/** One node of a fault cluster: a child process on fixed ports, so it can be killed and started again as itself. */
export class FaultNode {
  private current: NodeProcess | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The running process (its log file names where to look when something fails). */
  get process(): NodeProcess {
    if (!this.current) throw new Error(`node ${this.name} was never started`);
    return this.current;
  }

  /** Starts the process (again) with the same name, ports and topic, and waits until it is ready. */
  async start(): Promise<void> {
    this.current = await startNodeProcess(this.env, this.port, NODE_READY_TIMEOUT_MS);
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    this.process.child.kill('SIGKILL');
    await this.process.exited;
  }

  /** SIGSTOP: the process holds its sockets but answers nothing; SIGCONT is sent after the test in any case. */
  pause(): void {
    const child = this.process.child;
    child.kill('SIGSTOP');
    onTeardown(`SIGCONT ${this.name}`, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
    });
  }

  resume(): void {
    this.process.child.kill('SIGCONT');
  }
}

/** Several nodes on one topic of their own, with their own ZooKeeper root. */
export interface FaultCluster {
  readonly topic: string;
  /** ZK_ROOT of every node: members are `<zkRoot>/nodes/<NODENAME>`. */
  readonly zkRoot: string;
  readonly nodes: readonly FaultNode[];
  readonly urls: readonly string[];
}

/**
 * Starts `count` node processes on a fresh topic of `FAULT_NODE_ENV.KAFKA_TOPIC_PARTITIONS` partitions; each is
 * killed after the test. The first creates the topic, the others start together.
 */
export async function startFaultCluster(stack: RunningStack, options: { count?: number; env?: Record<string, string> } = {}): Promise<FaultCluster> {
  const count = options.count ?? 3;
  const topic = uniqueName('faults');
  const zkRoot = `/bitacora-faults/${topic}`;
  const ports = await findFreePorts(count * 2);
  const nodes = Array.from({ length: count }, (_, i) => {
    const name = `${topic}-n${i + 1}`;
    return new FaultNode(name, ports[i]!, {
      ...FAULT_NODE_ENV,
      BROKER_LIST: stack.kafkaBrokers.join(','),
      ZOOKEEPER_HOST: stack.zookeeperConnectString,
      ZK_ROOT: zkRoot,
      KAFKA_TOPIC: topic,
      NODENAME: name,
      AVRO_PORT: String(ports[count + i]),
      RESP_PORT: '0',
      ...options.env,
    });
  });
  await nodes[0]!.start();
  await Promise.all(nodes.slice(1).map((node) => node.start()));
  const urls = nodes.map((node) => node.url);
  await waitForMembers(urls, nodes.length, 30_000);
  return { topic, zkRoot, nodes, urls };
}

/** Waits until every node's GET /cluster lists `count` members and says it is connected and registered. */
export async function waitForMembers(urls: readonly string[], count: number, timeoutMs: number): Promise<void> {
  await Promise.all(
    urls.map((url) =>
      waitFor(
        async () => {
          const view = (await httpRequest(`${url}/cluster`, { timeoutMs: 5_000 })).json;
          return view.members.length === count && view.zookeeper.registered === true && view.zookeeper.zookeeper === 'connected';
        },
        { timeoutMs, intervalMs: 200, description: `${url} to list ${count} registered members` },
      ),
    ),
  );
}

/** The members registered under `root` as ZooKeeper itself lists them (not as any node sees them). */
export async function zookeeperMembers(connectString: string, root: string, timeoutMs = 5_000): Promise<string[]> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 6_000, spinDelay: 200, retries: 0 });
  try {
    const connected = new Promise<void>((resolve) => {
      client.once('connected', () => resolve());
      client.connect();
    });
    await withTimeout(connected, timeoutMs, `a ZooKeeper session with ${connectString}`);
    const children = new Promise<string[]>((resolve, reject) => client.getChildren(`${root}/nodes`, (error, names) => (error ? reject(error) : resolve(names))));
    return (await withTimeout(children, timeoutMs, `listing ${root}/nodes`)).sort();
  } finally {
    client.close();
  }
}

/** Bounds every fault test shares. */
export const FAULT_BOUNDS = {
  /** From the end of the load until every node holds the topic's digest. */
  convergeMs: 60_000,
  /** Acknowledged writes to wait for in each phase of a test (before, during, after the fault). */
  writesPerPhase: 150,
  /** How long a phase may take to see them. */
  phaseTimeoutMs: 90_000,
} as const;

/** A write load through every node of `cluster` (options as WriteLoad's), started now and stopped after the test. */
export function startLoad(cluster: FaultCluster, options: Partial<WriteLoadOptions> = {}): WriteLoad {
  const load = new WriteLoad({ nodes: cluster.urls, prefix: cluster.topic, ...options });
  load.start();
  onTeardown('write load', () => load.stop());
  return load;
}

/**
 * Waits until `count` more writes are acknowledged (through `node`, or any node) than were at the call; resolves
 * with how long that took.
 */
export async function waitForAcknowledged(load: WriteLoad, count: number, what: string, node?: string): Promise<number> {
  const started = Date.now();
  const target = load.acknowledged(node) + count;
  try {
    await waitFor(() => load.acknowledged(node) >= target, { timeoutMs: FAULT_BOUNDS.phaseTimeoutMs, intervalMs: 50, description: `${count} writes to be acknowledged ${what}` });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const recent = load.ambiguousSamples.join('; ') || 'none';
    throw new WaitTimeoutError(`${error.message}: ${load.acknowledged(node)} of ${target}; outcomes so far ${JSON.stringify(load.counts.byStatus)}; latest ambiguous: ${recent}`);
  }
  return Date.now() - started;
}

/** The figures each fault test prints and asserts. */
export interface FaultReport {
  readonly fault: string;
  readonly acknowledged: number;
  readonly ambiguous: number;
  readonly lost: number;
  readonly convergeMs: number;
}

/**
 * Stops the load, waits for every node to converge to the topic's digest, checks every key of the ledger on every
 * node, prints one line `fault=... acknowledged=... ambiguous=... lost=... converge_ms=...` and asserts nothing
 * acknowledged was lost.
 */
export async function finishFaultTest(fault: string, cluster: FaultCluster, stack: RunningStack, load: WriteLoad, extra: Record<string, string | number> = {}): Promise<FaultReport> {
  await load.stop();
  const { ms } = await waitForConvergence({ nodes: cluster.urls, brokers: stack.kafkaBrokers, topic: cluster.topic, timeoutMs: FAULT_BOUNDS.convergeMs });
  const check = await checkLedger(load.keys(), cluster.urls);
  const report: FaultReport = { fault, acknowledged: load.counts.acknowledged, ambiguous: load.counts.ambiguous, lost: check.lost, convergeMs: ms };
  const figures = { ...extra, durable: load.counts.durable, refused: load.counts.refused, keys: check.keys };
  const more = Object.entries(figures)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  console.log(`      fault=${fault} acknowledged=${report.acknowledged} ambiguous=${report.ambiguous} lost=${report.lost} converge_ms=${report.convergeMs} ${more}`);
  assert.deepEqual(load.unexpected(), [], 'answers no fault explains');
  assert.equal(check.lost, 0, `acknowledged writes lost or wrong on some node:\n${check.examples.join('\n')}\nnode logs: ${cluster.nodes.map((n) => n.process.logFile).join(' ')}`);
  assert.ok(report.acknowledged >= FAULT_BOUNDS.writesPerPhase, `only ${report.acknowledged} writes were acknowledged: the load did not run`);
  return report;
}
