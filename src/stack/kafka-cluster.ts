import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { SaslPlainCredentials } from '../config/stack-config';
import { waitFor, WaitTimeoutError } from '../retry/retry';
import { STACK_HOST } from './free-port';
import { brokerLists, KafkaBroker, newKafkaClusterId, readKafkaClusterId } from './kafka-broker';
import type { StackJvmOptions } from './stack-jvm';
import { StackError } from './stack-error';

/** The ports of one broker. */
export interface BrokerPorts {
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
  /** Only with saslPlain. */
  readonly saslPort?: number;
}

export interface KafkaClusterOptions extends Omit<StackJvmOptions, 'port'> {
  /** One entry per broker, node.id 1 to N in order. */
  readonly brokers: readonly BrokerPorts[];
  readonly saslPlain?: SaslPlainCredentials;
  /** Extra server.properties for every broker (see KafkaBrokerOptions). */
  readonly brokerProperties?: Readonly<Record<string, string>>;
}

/**
 * N KRaft nodes on loopback, each broker and controller, forming an N-voter quorum over one cluster id. It formats
 * their storage on first use, starts them together (a quorum needs a majority up) and is ready once the cluster
 * metadata lists every broker.
 */
export class KafkaCluster {
  /** Index 0 is node.id 1. */
  readonly brokers: readonly KafkaBroker[];
  private clusterIdValue: string | undefined;

  constructor(private readonly options: KafkaClusterOptions) {
    const voters = options.brokers.map(({ nodeId, controllerPort }) => `${nodeId}@${STACK_HOST}:${controllerPort}`).join(',');
    const runningPeers = (nodeId: number) => (): string[] =>
      this.brokers.filter((broker) => broker.nodeId !== nodeId && broker.pid !== undefined).map((broker) => broker.address);
    this.brokers = options.brokers.map(
      (ports) =>
        new KafkaBroker({
          ...options,
          ...ports,
          brokerCount: options.brokers.length,
          voters,
          runningPeers: runningPeers(ports.nodeId),
        }),
    );
  }

  /** Every broker's PLAINTEXT host:port, node.id order. */
  get addresses(): string[] {
    return this.brokers.map((broker) => broker.address);
  }

  /** Every broker's SASL_PLAINTEXT host:port; undefined without saslPlain. */
  get saslAddresses(): string[] | undefined {
    return this.options.saslPlain ? this.brokers.map((broker) => broker.saslAddress ?? '') : undefined;
  }

  get clusterId(): string {
    if (!this.clusterIdValue) throw new Error('the Kafka cluster id is known only after start()');
    return this.clusterIdValue;
  }

  /**
   * Formats the storage on first use, starts every broker and resolves once the metadata lists all of them.
   * `signal` (the stack stopping) abandons the start before anything is spawned.
   */
  async start(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.migrateSingleBrokerLayout();
    this.clusterIdValue = await this.formatIfNeeded(timeoutMs, signal);
    if (signal.aborted) throw new Error('Kafka start abandoned: the stack is stopping');
    await Promise.all(this.brokers.map((broker) => broker.start(Math.max(0, deadline - Date.now()))));
    const clusterId = this.clusterIdValue;
    const nodeIds = this.brokers.map((broker) => broker.nodeId);
    // Each broker's own view, since a client may ask any of them.
    const everyViewListsAll = async (): Promise<boolean> => {
      for (const address of this.addresses) {
        if (!(await brokerLists(address, clusterId, nodeIds))) return false;
      }
      return true;
    };
    try {
      await waitFor(everyViewListsAll, {
        timeoutMs: Math.max(1_000, deadline - Date.now()),
        intervalMs: 250,
        description: `every broker of Kafka cluster ${clusterId} to list brokers ${nodeIds.join(', ')}`,
        signal,
      });
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw new StackError('START_TIMEOUT', `${error.message}; logs in ${path.join(this.options.stackDir, 'logs')}`);
      throw error;
    }
  }

  /** Stops every broker at once: stopped one by one, the last ones would wait for a quorum that is gone. */
  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.brokers.map((broker) => broker.stop()));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Versions that ran one broker kept its data in STACK_DIR/kafka; it is broker 1's data now. */
  private async migrateSingleBrokerLayout(): Promise<void> {
    const { stackDir, logger } = this.options;
    const legacy = path.join(stackDir, 'kafka');
    const first = path.join(stackDir, 'kafka-1');
    if (!existsSync(legacy) || existsSync(first)) return;
    logger.info({ from: legacy, to: first }, 'moving the single-broker Kafka data to its multi-broker place');
    await fs.rename(legacy, first);
    await fs.rm(path.join(stackDir, 'server.properties'), { force: true });
  }

  /**
   * The cluster id of storage formatted before, or a fresh one formatted into every broker's storage now. Storage
   * formatted for another number of brokers is refused: its quorum and replicas expect the brokers it had.
   */
  private async formatIfNeeded(timeoutMs: number, signal: AbortSignal): Promise<string> {
    const { stackDir } = this.options;
    const formatted = await formattedStorage(stackDir);
    const count = this.brokers.length;
    if (formatted.size === 0) {
      const clusterId = newKafkaClusterId();
      const formats = this.brokers.map((broker) => broker.format(clusterId, timeoutMs, signal));
      const results = await Promise.allSettled(formats);
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) {
        // Half-formatted storage would be refused on the next start; none at all is formatted again.
        await Promise.all(this.brokers.map((broker) => fs.rm(broker.dataDir, { recursive: true, force: true })));
        throw failed.reason;
      }
      return clusterId;
    }
    const ids = [...formatted.keys()].sort((a, b) => a - b);
    const matches = ids.length === count && ids.every((id, index) => id === index + 1);
    if (!matches) {
      throw new StackError(
        'STORAGE_MISMATCH',
        `${stackDir} holds the Kafka data of ${describeBrokers(ids)}, not of ${count} broker${count === 1 ? '' : 's'}: ` +
          `start it with --brokers ${ids.length} (STACK_BROKERS=${ids.length}), or delete ${path.join(stackDir, 'kafka-*')} to start over ` +
          `with ${count} (its topics are lost), or use another STACK_DIR`,
      );
    }
    const clusterIds = new Set(formatted.values());
    if (clusterIds.size > 1) {
      throw new StackError(
        'STORAGE_MISMATCH',
        `the brokers' storage in ${stackDir} belongs to different clusters (${[...clusterIds].join(', ')}): delete ${path.join(stackDir, 'kafka-*')} to start over, or use another STACK_DIR`,
      );
    }
    return [...clusterIds][0]!;
  }
}

/** node.id → cluster id of every formatted STACK_DIR/kafka-<node.id>. */
async function formattedStorage(stackDir: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const entry of await fs.readdir(stackDir)) {
    const match = /^kafka-(\d+)$/.exec(entry);
    if (!match) continue;
    const clusterId = await readKafkaClusterId(path.join(stackDir, entry));
    if (clusterId) found.set(Number(match[1]), clusterId);
  }
  return found;
}

function describeBrokers(ids: readonly number[]): string {
  return ids.length === 1 ? `1 broker (node ${ids[0]})` : `${ids.length} brokers (nodes ${ids.join(', ')})`;
}
