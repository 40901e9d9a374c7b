import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { SASL_USERNAME_PATTERN, type SaslPlainCredentials } from '../config/stack-config';
import { STACK_HOST } from './free-port';
import { fetchBrokerView, METADATA_TIMEOUT_MS } from './kafka-metadata';
import { loggingJvmOptions } from './log4j-config';
import type { StackJvmOptions, StackJvmProgram } from './stack-jvm';
import { StackError } from './stack-error';
import { StackServer } from './stack-server';
import { kafkaServiceName } from './stack-state';

/** A KRaft broker shuts down in a few seconds; more than this means it hangs. */
export const KAFKA_STOP_GRACE_MS = 30_000;

export interface KafkaBrokerOptions extends StackJvmOptions {
  /** node.id, 1 to brokerCount; also this broker's id in the controller quorum. */
  readonly nodeId: number;
  /** How many brokers the cluster has: sets replication defaults and the heap. */
  readonly brokerCount: number;
  readonly controllerPort: number;
  /** controller.quorum.voters of the whole cluster, e.g. 1@127.0.0.1:9093,2@127.0.0.1:9096. */
  readonly voters: string;
  /** With saslPlain: the port of the SASL_PLAINTEXT listener. */
  readonly saslPort?: number;
  readonly saslPlain?: SaslPlainCredentials;
  /** PLAINTEXT addresses of the other brokers now running; a start waits until each that answers lists this one. */
  readonly runningPeers?: () => readonly string[];
  /** Extra server.properties, written last: java.util.Properties keeps the last value of a key, so these win. */
  readonly brokerProperties?: Readonly<Record<string, string>>;
}

/**
 * One KRaft Kafka node (broker and controller in one JVM) on 127.0.0.1, data in STACK_DIR/kafka-<node.id>, settings
 * in STACK_DIR/kafka-<node.id>.properties; can be stopped, killed and started again. KafkaCluster formats its storage.
 */
export class KafkaBroker extends StackServer {
  readonly nodeId: number;
  /** host:port of the PLAINTEXT listener. */
  readonly address: string;
  /** host:port of the SASL_PLAINTEXT listener, when there is one. */
  readonly saslAddress: string | undefined;
  readonly dataDir: string;
  private readonly propertiesFile: string;
  private readonly logsDir: string;
  private clusterIdValue: string | undefined;

  constructor(private readonly options: KafkaBrokerOptions) {
    super(kafkaServiceName(options.nodeId), options, KAFKA_STOP_GRACE_MS);
    if (options.saslPlain && !SASL_USERNAME_PATTERN.test(options.saslPlain.username)) {
      throw new RangeError('saslPlain.username must be 1 to 64 letters, digits, ".", "_" or "-"');
    }
    this.nodeId = options.nodeId;
    this.address = `${STACK_HOST}:${options.port}`;
    this.saslAddress = options.saslPlain && options.saslPort !== undefined ? `${STACK_HOST}:${options.saslPort}` : undefined;
    this.dataDir = path.join(options.stackDir, this.name);
    this.propertiesFile = path.join(options.stackDir, `${this.name}.properties`);
    this.logsDir = path.join(options.stackDir, 'logs');
  }

  /** The KRaft cluster id, known once a start has read the formatted storage. */
  get clusterId(): string {
    if (!this.clusterIdValue) throw new Error(`the cluster id of ${this.name} is known only after start()`);
    return this.clusterIdValue;
  }

  /** Runs `kafka.tools.StorageTool format` with the cluster's id; KRaft refuses to start on unformatted storage. */
  async format(clusterId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.writeProperties();
    const { options } = this;
    const args = [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-Djava.awt.headless=true',
      ...loggingJvmOptions(options.logging, path.join(this.logsDir, `${this.name}-format.log`)),
      '-cp',
      options.classpath.join(':'),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      this.propertiesFile,
    ];
    options.logger.debug({ service: this.name, clusterId }, 'formatting Kafka storage');
    await new Promise<void>((resolve, reject) => {
      execFile(options.java, args, { cwd: options.stackDir, env: { ...options.env }, timeout: timeoutMs, signal }, (error, stdout, stderr) => {
        if (!error) return resolve();
        const reason = error.killed ? `timed out after ${timeoutMs} ms or was stopped` : error.message.split('\n')[0];
        const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
        reject(new StackError('FORMAT_FAILED', `formatting Kafka storage in ${this.dataDir} failed (${reason}):\n${output}`, { cause: error }));
      });
    });
  }

  /** Writes the properties and reads the cluster id of the (already formatted) storage. */
  protected override async prepare(): Promise<StackJvmProgram> {
    await this.writeProperties();
    const clusterId = await readKafkaClusterId(this.dataDir);
    if (!clusterId) throw new StackError('FORMAT_FAILED', `${this.dataDir} holds no formatted Kafka storage (meta.properties); start the whole stack to format it`);
    this.clusterIdValue = clusterId;
    const heap = this.options.brokerCount === 1 ? ['-Xms256m', '-Xmx768m'] : ['-Xms128m', '-Xmx512m'];
    return { mainClass: 'kafka.Kafka', args: [this.propertiesFile], jvmOptions: [...heap, `-Dkafka.logs.dir=${this.logsDir}`] };
  }

  /**
   * Ready once this broker serves metadata of our cluster that lists it (registered and unfenced), and so does every
   * peer that answers: metadata reaches the brokers a moment apart, and a client may ask any of them.
   */
  protected override async probe(): Promise<boolean> {
    if (!(await brokerLists(this.address, this.clusterId, [this.nodeId]))) return false;
    for (const peer of this.options.runningPeers?.() ?? []) {
      let listed: boolean;
      try {
        listed = await brokerLists(peer, this.clusterId, [this.nodeId]);
      } catch {
        continue; // a peer that does not answer (starting, paused, going down) has no view to wait for
      }
      if (!listed) return false;
    }
    return true;
  }

  protected override readiness(): string {
    return `${this.name} at ${this.address} to serve metadata of cluster ${this.clusterIdValue ?? '?'} listing node ${this.nodeId}`;
  }

  /** Readable by this user only: with SASL the file holds the password. */
  private async writeProperties(): Promise<void> {
    await fs.mkdir(this.dataDir, { recursive: true });
    await fs.writeFile(this.propertiesFile, this.serverProperties(), { mode: 0o600 });
    await fs.chmod(this.propertiesFile, 0o600);
  }

  private serverProperties(): string {
    const { nodeId, brokerCount, port, controllerPort, voters, saslPlain, saslPort } = this.options;
    const sasl = saslPlain && saslPort !== undefined ? saslPlain : undefined;
    const listeners = [`PLAINTEXT://${STACK_HOST}:${port}`, `CONTROLLER://${STACK_HOST}:${controllerPort}`];
    const advertised = [`PLAINTEXT://${STACK_HOST}:${port}`];
    const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
    if (sasl) {
      listeners.push(`SASL_PLAINTEXT://${STACK_HOST}:${saslPort}`);
      advertised.push(`SASL_PLAINTEXT://${STACK_HOST}:${saslPort}`);
      protocols.push('SASL_PLAINTEXT:SASL_PLAINTEXT');
    }
    // With three or more brokers, one may be down while writes with acks=all still reach two in-sync replicas.
    const replication = Math.min(3, brokerCount);
    const minInSync = brokerCount >= 3 ? 2 : 1;
    return [
      '# Written by bitacora (src/stack/kafka-broker.ts); rewritten on every start.',
      'process.roles=broker,controller',
      `node.id=${nodeId}`,
      `controller.quorum.voters=${voters}`,
      `listeners=${listeners.join(',')}`,
      `advertised.listeners=${advertised.join(',')}`,
      `listener.security.protocol.map=${protocols.join(',')}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      ...(sasl
        ? [
            'sasl.enabled.mechanisms=PLAIN',
            `listener.name.sasl_plaintext.plain.sasl.jaas.config=${escapeProperty(plainJaasConfig(sasl))}`,
          ]
        : []),
      `log.dirs=${this.dataDir}`,
      'num.partitions=1',
      `default.replication.factor=${replication}`,
      `min.insync.replicas=${minInSync}`,
      `offsets.topic.replication.factor=${replication}`,
      `transaction.state.log.replication.factor=${replication}`,
      `transaction.state.log.min.isr=${minInSync}`,
      // Fewer internal partitions than the default 50: creating them is most of a first consumer-group join.
      'offsets.topic.num.partitions=5',
      'transaction.state.log.num.partitions=5',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      'delete.topic.enable=true',
      // Compaction is part of what the cache relies on; a short backoff makes it observable in tests.
      'log.cleaner.enable=true',
      'log.cleaner.threads=1',
      'log.cleaner.backoff.ms=1000',
      // The default 128 MiB dedupe buffer is a sixth of this small heap.
      'log.cleaner.dedupe.buffer.size=33554432',
      // Two cores, shared with the tests.
      'num.network.threads=2',
      'num.io.threads=2',
      'num.recovery.threads.per.data.dir=1',
      'background.threads=2',
      ...Object.entries(this.options.brokerProperties ?? {}).map(([key, value]) => `${key}=${escapeProperty(value)}`),
      '',
    ].join('\n');
  }
}

/** The broker side of SASL/PLAIN: one user, its password quoted with JAAS escapes (backslash and double quote). */
function plainJaasConfig({ username, password }: SaslPlainCredentials): string {
  const quoted = password.replace(/[\\"]/g, (char) => `\\${char}`);
  return `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${quoted}";`;
}

/** A value as java.util.Properties reads it (ISO-8859-1, backslash escapes): anything else as \uXXXX. */
function escapeProperty(value: string): string {
  return value.replace(/[\\]/g, '\\\\').replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A KRaft cluster id as Kafka makes them: 16 random bytes, base64url, 22 characters, never starting with "-". */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id in `dataDir`/meta.properties; undefined when the storage is not formatted yet. */
export async function readKafkaClusterId(dataDir: string): Promise<string | undefined> {
  const file = path.join(dataDir, 'meta.properties');
  if (!existsSync(file)) return undefined;
  const match = /^cluster\.id=(.+)$/m.exec(await fs.readFile(file, 'utf8'));
  return match?.[1]?.trim();
}

/**
 * True when the broker at `address` serves metadata of cluster `clusterId` listing every one of `nodeIds`; throws
 * when it does not answer, or when another cluster answers (another Kafka on the port is never taken for ours).
 */
export async function brokerLists(address: string, clusterId: string, nodeIds: readonly number[], timeoutMs = METADATA_TIMEOUT_MS): Promise<boolean> {
  const view = await fetchBrokerView(address, timeoutMs);
  if (view.clusterId !== clusterId) throw new Error(`the Kafka answering at ${address} is cluster ${view.clusterId}, not ${clusterId}`);
  return nodeIds.every((nodeId) => view.brokerIds.includes(nodeId));
}

/** brokerLists, false instead of throwing. */
export async function kafkaAnswers(...args: Parameters<typeof brokerLists>): Promise<boolean> {
  try {
    return await brokerLists(...args);
  } catch {
    return false;
  }
}
