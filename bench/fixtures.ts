import { request } from 'undici';
import { waitFor } from '../src/retry/retry';
import { findFreePorts } from '../src/stack/free-port';
import type { RunningStack } from '../src/stack/stack';
import { findStackProcesses } from '../src/stack/stack-state';
import { startBenchStack } from './bench-stack';
import { startBenchNode, type BenchNode } from './node-process';
import type { BenchOptions } from './options';
import type { Resources } from './resources';
import { fillTopicInChild, type FillResult } from './topic-filler';

/** Prefix of the keys preloaded for reads, in Kafka and in Redis alike. */
export const READ_KEY_PREFIX = 'r';
const PARTITIONS = 3;

export interface FixtureContext {
  readonly options: BenchOptions;
  readonly runId: string;
  readonly resources: Resources;
  readonly logDir: string;
  readonly profileDir: string | undefined;
  log(line: string): void;
}

/** One node on a topic preloaded with `options.keys` read keys. */
export interface SingleNode {
  readonly node: BenchNode;
  readonly topic: string;
  readonly avroAddress: string;
  /** The node's Redis-protocol port on 127.0.0.1. */
  readonly respPort: number;
  readonly fill: FillResult;
}

/**
 * Three nodes on one topic. The first is a probe node (bench/node-probe.ts) with FANOUT=always, so the fan-out
 * scenario can pause its consumer and make it ask its peers; the other two run `bitacora node`.
 */
export interface Trio {
  readonly nodes: readonly [BenchNode, BenchNode, BenchNode];
  readonly topic: string;
}

export type FixtureName = 'single' | 'trio';

/** Things several scenarios share, started on first use and stopped when no later scenario needs them. */
export class Fixtures {
  private stackPromise: Promise<RunningStack> | undefined;
  private singlePromise: Promise<SingleNode> | undefined;
  private trioPromise: Promise<Trio> | undefined;
  private jvms: { name: string; pid: number }[] = [];

  constructor(private readonly context: FixtureContext) {}

  stack(): Promise<RunningStack> {
    this.stackPromise ??= (async () => {
      this.context.log('starting Kafka and ZooKeeper');
      const started = Date.now();
      const stack = await startBenchStack(this.context.resources);
      this.context.log(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s (Kafka ${stack.kafkaBrokers.join(',')})`);
      this.jvms = (await findStackProcesses(stack.dir, ['attached'])).map(({ role, pid }) => ({ name: role, pid }));
      return stack;
    })();
    return this.stackPromise;
  }

  /** The Kafka and ZooKeeper JVMs, once the stack runs (for CPU accounting). */
  stackProcesses(): readonly { name: string; pid: number }[] {
    return this.jvms;
  }

  /** The variables of a node of this run: its own name, loopback only, quiet logs. */
  async nodeEnv(name: string, topic: string, avroPort: number, extra: Record<string, string> = {}, respPort = 0): Promise<Record<string, string>> {
    const stack = await this.stack();
    return {
      BROKER_LIST: stack.kafkaBrokers.join(','),
      ZOOKEEPER_HOST: stack.zookeeperConnectString,
      KAFKA_TOPIC: topic,
      KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
      NODENAME: `bench-${this.context.runId}-${name}`,
      ADVERTISED_HOST: '127.0.0.1',
      BIND_HOST: '127.0.0.1',
      AVRO_PORT: String(avroPort),
      RESP_PORT: String(respPort),
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...extra,
    };
  }

  /** Starts a node process of this run (with --cpu-prof when asked). */
  async startNode(name: string, topic: string, mode: 'cli' | 'probe', extra: Record<string, string> = {}): Promise<{ node: BenchNode; avroPort: number; respPort: number }> {
    const [apiPort, avroPort, respPort] = (await findFreePorts(3)) as [number, number, number];
    const env = await this.nodeEnv(name, topic, avroPort, extra, respPort);
    const profileDir = this.context.profileDir;
    const nodeFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
    const node = startBenchNode({ name, env, apiPort, logDir: this.context.logDir, mode, nodeFlags }, this.context.resources);
    return { node, avroPort, respPort };
  }

  /** Produces `count` records to `topic` from a child process (100-byte values unless `valueBytes` says fewer). */
  async fill(topic: string, count: number, keyPrefix: string, valueBytes?: number): Promise<FillResult> {
    const stack = await this.stack();
    const timeoutMs = 120_000 + count / 5;
    const result = await fillTopicInChild({ brokers: stack.kafkaBrokers, topic, partitions: PARTITIONS, count, keyPrefix, valueBytes }, this.context.resources, timeoutMs);
    this.context.log(`produced ${count.toLocaleString('en-US')} records to ${topic} in ${(result.ms / 1000).toFixed(1)} s`);
    return result;
  }

  single(): Promise<SingleNode> {
    this.singlePromise ??= (async () => {
      const topic = `bench-${this.context.runId}-reads`;
      const fill = await this.fill(topic, this.context.options.keys, READ_KEY_PREFIX);
      const { node, avroPort, respPort } = await this.startNode('single', topic, 'cli');
      await node.waitReady(readyTimeoutMs(this.context.options.keys));
      this.context.log(`node ${node.name} ready on ${node.url}`);
      return { node, topic, avroAddress: `127.0.0.1:${avroPort}`, respPort, fill };
    })();
    return this.singlePromise;
  }

  trio(): Promise<Trio> {
    this.trioPromise ??= (async () => {
      const topic = `bench-${this.context.runId}-trio`;
      const started = await Promise.all([
        this.startNode('trio-1', topic, 'probe', { FANOUT: 'always' }),
        this.startNode('trio-2', topic, 'cli'),
        this.startNode('trio-3', topic, 'cli'),
      ]);
      const nodes = started.map((s) => s.node) as unknown as readonly [BenchNode, BenchNode, BenchNode];
      await Promise.all(nodes.map((node) => node.waitReady(readyTimeoutMs(0))));
      // Fan-out asks the peers ZooKeeper lists: wait until every node sees the other two.
      await Promise.all(nodes.map((node) => waitForMembers(node, nodes.length)));
      this.context.log(`nodes ${nodes.map((n) => n.name).join(', ')} ready and see each other`);
      return { nodes, topic };
    })();
    return this.trioPromise;
  }

  /** Stops a fixture's nodes (the stack stays until the end of the run). */
  async release(name: FixtureName): Promise<void> {
    const promise = name === 'single' ? this.singlePromise : this.trioPromise;
    if (name === 'single') this.singlePromise = undefined;
    else this.trioPromise = undefined;
    const fixture = await promise?.catch(() => undefined);
    if (!fixture) return;
    const nodes = 'nodes' in fixture ? fixture.nodes : [fixture.node];
    await Promise.all(nodes.map((node) => node.stop()));
  }
}

/** Loading speed is what the bootstrap scenario measures; here it only bounds the wait, generously. */
export function readyTimeoutMs(records: number): number {
  return 60_000 + records / 10;
}

async function waitForMembers(node: BenchNode, count: number): Promise<void> {
  await waitFor(
    async () => {
      const { statusCode, body } = await request(`${node.url}/cluster`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      const json = (await body.json()) as { members?: unknown[] };
      return statusCode === 200 && (json.members?.length ?? 0) >= count;
    },
    { timeoutMs: 30_000, intervalMs: 100, description: `${node.name} to see ${count} members in ZooKeeper` },
  );
}

/** Waits until `url`'s applied positions reach `endOffsets` (it holds everything produced before them). */
export async function waitForPositions(url: string, endOffsets: readonly { partition: number; high: number }[], timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const { body } = await request(`${url}/health/ready`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      const report = (await body.json()) as { partitions?: { partition: number; position: number }[] };
      const positions = new Map((report.partitions ?? []).map((p) => [p.partition, p.position]));
      return endOffsets.every(({ partition, high }) => (positions.get(partition) ?? -1) >= high);
    },
    { timeoutMs, intervalMs: 50, description: `${url} to apply the topic up to ${JSON.stringify(endOffsets)}` },
  );
}
