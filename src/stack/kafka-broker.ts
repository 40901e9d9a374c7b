import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { withTimeout } from '../retry/retry';
import { STACK_HOST } from './free-port';
import type { JvmProcess } from './jvm-process';
import { createStackJvm, type StackJvmOptions } from './stack-jvm';
import { StackError } from './stack-error';

/** A single-node KRaft broker shuts down in a few seconds; more than this means it hangs. */
export const KAFKA_STOP_GRACE_MS = 30_000;
/** One readiness probe; the overall wait is the caller's start timeout. */
const PROBE_TIMEOUT_MS = 5_000;
const NODE_ID = 1;

export interface KafkaBrokerOptions extends StackJvmOptions {
  readonly controllerPort: number;
}

/** A single-node KRaft Kafka (broker and controller in one JVM) on 127.0.0.1, data in STACK_DIR/kafka. */
export class KafkaBroker {
  readonly brokers: string[];
  private readonly process: JvmProcess;
  private readonly propertiesFile: string;
  private readonly dataDir: string;
  private readonly logsDir: string;
  private readonly stopRequested = new AbortController();
  private clusterIdValue: string | undefined;

  constructor(private readonly options: KafkaBrokerOptions) {
    this.brokers = [`${STACK_HOST}:${options.port}`];
    this.propertiesFile = path.join(options.stackDir, 'server.properties');
    this.dataDir = path.join(options.stackDir, 'kafka');
    this.logsDir = path.join(options.stackDir, 'logs');
    this.process = createStackJvm(options, 'kafka', {
      mainClass: 'kafka.Kafka',
      args: [this.propertiesFile],
      jvmOptions: ['-Xms256m', '-Xmx768m', `-Dkafka.logs.dir=${this.logsDir}`],
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** The KRaft cluster id, known once start() has formatted or read the storage. */
  get clusterId(): string {
    if (!this.clusterIdValue) throw new Error('the Kafka cluster id is known only after start()');
    return this.clusterIdValue;
  }

  /** Writes server.properties, formats the storage on first use, spawns the broker and waits until it serves metadata. */
  async start(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await fs.mkdir(this.dataDir, { recursive: true });
    await fs.writeFile(this.propertiesFile, this.serverProperties());
    this.clusterIdValue = (await readKafkaClusterId(this.options.stackDir)) ?? (await this.format(timeoutMs));
    // stop() may have been called while the storage tool ran; nothing must be spawned after it.
    if (this.stopRequested.signal.aborted) throw new Error('Kafka start abandoned: stop() was called');
    this.process.start();
    const clusterId = this.clusterIdValue;
    await this.process.waitUntilReady(
      () => probeKafka(this.brokers, clusterId, this.options.logger),
      Math.max(0, deadline - Date.now()),
      `Kafka at ${this.brokers.join(',')} to serve metadata for cluster ${clusterId}`,
    );
  }

  stop(): Promise<void> {
    this.stopRequested.abort();
    return this.process.stop(KAFKA_STOP_GRACE_MS);
  }

  /** Runs `kafka.tools.StorageTool format` with a fresh cluster id; KRaft refuses to start on unformatted storage. */
  private async format(timeoutMs: number): Promise<string> {
    const clusterId = newKafkaClusterId();
    const { options } = this;
    const args = [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${options.log4jConfig}`,
      `-Dbitacora.log.file=${path.join(this.logsDir, 'kafka-format.log')}`,
      '-cp',
      options.classpath.join(':'),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      this.propertiesFile,
    ];
    options.logger.debug({ clusterId }, 'formatting Kafka storage');
    await new Promise<void>((resolve, reject) => {
      execFile(
        options.java,
        args,
        { cwd: options.stackDir, env: { ...options.env }, timeout: timeoutMs, signal: this.stopRequested.signal },
        (error, stdout, stderr) => {
          if (!error) return resolve();
          const reason = error.killed ? `timed out after ${timeoutMs} ms or was stopped` : error.message.split('\n')[0];
          const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
          reject(new StackError('FORMAT_FAILED', `formatting Kafka storage in ${this.dataDir} failed (${reason}):\n${output}`, { cause: error }));
        },
      );
    });
    return clusterId;
  }

  private serverProperties(): string {
    const { port, controllerPort } = this.options;
    return [
      '# Written by bitacora (src/stack/kafka-broker.ts); rewritten on every start.',
      'process.roles=broker,controller',
      `node.id=${NODE_ID}`,
      `controller.quorum.voters=${NODE_ID}@${STACK_HOST}:${controllerPort}`,
      `listeners=PLAINTEXT://${STACK_HOST}:${port},CONTROLLER://${STACK_HOST}:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${STACK_HOST}:${port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${this.dataDir}`,
      'num.partitions=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
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
      '',
    ].join('\n');
  }
}

/** A KRaft cluster id as Kafka makes them: 16 random bytes, base64url, 22 characters, never starting with "-". */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id in STACK_DIR/kafka/meta.properties; undefined when the storage is not formatted yet. */
export async function readKafkaClusterId(stackDir: string): Promise<string | undefined> {
  const file = path.join(stackDir, 'kafka', 'meta.properties');
  if (!existsSync(file)) return undefined;
  const match = /^cluster\.id=(.+)$/m.exec(await fs.readFile(file, 'utf8'));
  return match?.[1]?.trim();
}

/**
 * Fetches cluster metadata with a kafkajs admin client; true only for our single broker in our cluster,
 * so another Kafka that happens to answer on the port is never taken for ours. Throws when unreachable.
 */
export async function probeKafka(brokers: readonly string[], clusterId: string, logger: Logger, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'bitacora-stack-probe',
    brokers: [...brokers],
    connectionTimeout: Math.min(2_000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.WARN,
    logCreator: kafkajsToDebug(logger),
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  const attempt = (async () => {
    await admin.connect();
    return admin.describeCluster();
  })();
  try {
    const cluster = await withTimeout(attempt, timeoutMs * 2, `fetching metadata from Kafka at ${brokers.join(',')}`);
    if (cluster.clusterId !== clusterId) throw new Error(`the Kafka answering at ${brokers.join(',')} is cluster ${cluster.clusterId}, not ${clusterId}`);
    return cluster.brokers.length === 1;
  } finally {
    // Disconnect only once the attempt has settled: a connect that completes after we stopped waiting would
    // otherwise leave a socket open (Kafka keeps idle ones for 10 minutes) and keep this process alive.
    const disconnected = attempt.then(
      () => admin.disconnect(),
      () => admin.disconnect(),
    );
    await withTimeout(disconnected, timeoutMs, 'disconnecting the Kafka probe').catch(() => undefined);
  }
}

/** True when probeKafka succeeds now. */
export async function kafkaAnswers(brokers: readonly string[], clusterId: string, logger: Logger, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    return await probeKafka(brokers, clusterId, logger, timeoutMs);
  } catch {
    return false;
  }
}

/** A probe that fails while Kafka starts is expected; its client's complaints go to debug, not to stderr. */
function kafkajsToDebug(logger: Logger): logCreator {
  return () =>
    ({ namespace, label, log }) => {
      logger.debug({ namespace, kafkajsLevel: label }, `kafkajs: ${log.message}`);
    };
}
