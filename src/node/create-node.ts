import type { Admin, Kafka } from 'kafkajs';
import { AccessToken, bearer } from '../access/access-token';
import { FanOut } from '../cluster/fan-out';
import { PeerClient } from '../cluster/peer-client';
import type { NodeConfig } from '../config/node-config';
import { Commands } from '../commands/commands';
import { BitacoraError } from '../errors/bitacora-error';
import { createExpressApp } from '../http/express-app';
import { HttpServer } from '../http/http-server';
import { createKafkaClient } from '../log/kafka-client';
import { createKeyPartitioner } from '../log/key-partitioner';
import { KeyMerge } from '../log/key-merge';
import { ensurePartitionPin } from '../log/key-partition-pin';
import { LogConsumer } from '../log/log-consumer';
import { PartitionPositions } from '../log/partition-positions';
import { type ApplyCounters, newApplyCounters } from '../log/record-applier';
import { AvroServer } from '../rpc/avro-server';
import { CommandsBackend } from '../resp/commands-backend';
import { RespServer } from '../resp/resp-server';
import { ensureCompactedTopic, fetchPartitionOffsets, TopicError } from '../log/topic-admin';
import { WriteProducer } from '../log/write-producer';
import type { Logger } from '../logging/logger';
import { Membership } from '../membership/membership';
import { MirrorRole } from '../membership/mirror-role';
import { mirrorRound } from '../log/partition-mirror';
import { NodeMetrics } from '../metrics/node-metrics';
import { isProgrammerError, retry } from '../retry/retry';
import { digestPartitions } from '../store/content-digest';
import { EntryStore } from '../store/entry-store';
import { Status } from '../lifecycle/status';
import { VERSION } from '../version';
import { type NodeStatus, Readiness } from './readiness';

/** A running (or runnable) cache node. */
export interface BitacoraNode {
  readonly config: NodeConfig;
  readonly status: NodeStatus;
  /** The HTTP base URL once started, e.g. http://127.0.0.1:8080. */
  readonly httpUrl: string;
  /** The Avro RPC address once started, e.g. 127.0.0.1:7080. */
  readonly avroAddress: string;
  /** The Redis protocol's port once started; undefined when RESP_PORT is off. */
  readonly respPort: number | undefined;
  readonly store: EntryStore;
  readonly positions: PartitionPositions;
  readonly readiness: Readiness;
  /** Records applied and skipped (by reason) since start. */
  readonly applyCounters: ApplyCounters;
  /** The node's view of the cluster; undefined before start(). */
  readonly membership: Membership | undefined;
  /** Peer lookups on misses; undefined before start(). */
  readonly fanOut: FanOut | undefined;
  /** The node's Prometheus metrics (served on /metrics). */
  readonly metrics: NodeMetrics;
  /** The Kafka consumer that fills the map; undefined before start(). */
  readonly logConsumer: LogConsumer | undefined;
  /** Connects to Kafka, makes sure the topic is usable, starts loading it and listens; resolves before it is ready. */
  start(): Promise<void>;
  /** Resolves once the node has loaded the topic up to the end offsets it found at start. */
  whenReady(timeoutMs: number): Promise<void>;
  /** The graceful stop of docs/operations.md; idempotent, a second call waits for the first. */
  stop(): Promise<void>;
  /** Resolves if the node fails for good after start (its apply path spent APPLY_RESTARTS); the CLI then exits non-zero. */
  whenFailed(): Promise<Error>;
  /** Called on every status change (each is logged `from -> to` too). */
  onStatus(listener: (next: NodeStatus, previous: NodeStatus) => void): void;
}

/** Builds a node without side effects: nothing connects or listens until start(). */
export function createNode(config: NodeConfig, logger: Logger): BitacoraNode {
  return new Node(config, logger.child({ node: config.nodeName }));
}

class Node implements BitacoraNode {
  readonly store: EntryStore;
  /** Decides keys with records in several partitions (docs/architecture.md, "One value per key"). */
  readonly merge = new KeyMerge();
  readonly positions = new PartitionPositions();
  readonly readiness: Readiness;
  private readonly lifecycle: Status<NodeStatus>;
  /** The phases start() has begun, in order; stop() undoes them in reverse. */
  private readonly started: Phase[] = [];
  private startup: Promise<void> | undefined;
  private releasing: Promise<void> | undefined;
  private readonly accessToken: AccessToken | undefined;
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private producer: WriteProducer | undefined;
  private consumer: LogConsumer | undefined;
  private commands: Commands | undefined;
  private http: HttpServer | undefined;
  private avro: AvroServer | undefined;
  private resp: RespServer | undefined;
  private respBound: number | undefined;
  private avroHostPort = '';
  membership: Membership | undefined;
  /** Copies records found outside their canonical partition into side keys, for the partitions this node is designated for. */
  private mirrorRole: MirrorRole | undefined;
  fanOut: FanOut | undefined;
  private peerClient: PeerClient | undefined;
  readonly metrics: NodeMetrics;
  private url = '';
  private stopping: Promise<void> | undefined;
  private failed: (error: Error) => void = () => undefined;
  private readonly failedPromise = new Promise<Error>((resolve) => (this.failed = resolve));
  /** Aborted by stop(): ends the Kafka connect retry of a start still under way. */
  private readonly starting = new AbortController();

  constructor(
    readonly config: NodeConfig,
    private readonly logger: Logger,
  ) {
    this.lifecycle = new Status<NodeStatus>('created', logger, 'node');
    this.accessToken = config.authToken ? new AccessToken(config.authToken) : undefined;
    this.store = new EntryStore({
      maxBytes: config.storeMaxBytes,
      onHeadroom: (event) => {
        if (event.low) this.logger.warn(event, 'the map is close to its memory limit (STORE_MAX_BYTES): it will refuse records once full');
        else this.logger.info(event, 'the map has room again');
      },
    });
    this.readiness = new Readiness(
      config.nodeName,
      this.positions,
      () => this.status,
      () => this.membership?.report(),
      () => this.consumer?.report(),
      () => this.mirrorRole?.report(),
    );
    this.metrics = new NodeMetrics(config.nodeName, {
      store: this.store,
      positions: this.positions,
      applyCounters: () => this.applyCounters,
      fanOutCounters: () => this.fanOut?.counters,
      produceStats: () => this.producer?.stats,
      readStats: () => this.commands?.readStats,
      ready: () => this.readiness.isReady(),
      apply: () => this.consumer?.report(),
      membership: () => this.membership?.report(),
      mirror: () => this.mirrorRole?.report(),
      openConnections: () => ({ http: this.http?.connections ?? 0, avro: this.avro?.connections ?? 0, resp: this.resp?.connectionCount ?? 0 }),
      httpHandOffs: () => this.http?.handOffs ?? { shape: 0, unauthorized: 0 },
    });
    this.kafka = createKafkaClient({
      clientId: `bitacora-${config.nodeName}`,
      brokers: config.kafka.brokers,
      security: config.kafka.security,
      logger,
      requestTimeoutMs: Math.max(config.kafka.produceTimeoutMs, 5_000),
    });
  }

  get logConsumer(): LogConsumer | undefined {
    return this.consumer;
  }

  get applyCounters(): ApplyCounters {
    return this.consumer?.counters ?? newApplyCounters();
  }

  get status(): NodeStatus {
    return this.lifecycle.value;
  }

  get httpUrl(): string {
    return this.url;
  }

  get avroAddress(): string {
    return this.avroHostPort;
  }

  get respPort(): number | undefined {
    return this.respBound;
  }

  /** Runs the phases in order (docs/architecture.md, "Starting"); a failed start undoes what it did, in reverse. */
  start(): Promise<void> {
    if (this.status !== 'created') return Promise.reject(new Error(`start() called on a node that is ${this.status}`));
    this.setStatus('starting');
    this.startup = this.runPhases();
    return this.startup;
  }

  private async runPhases(): Promise<void> {
    try {
      for (const phase of this.phases()) {
        if (this.starting.signal.aborted) throw new Error(`stopped while starting, before the ${phase.name} phase`);
        // Counted before it runs: a phase that fails half-way is undone too (every undo copes with a part never made).
        this.started.push(phase);
        await phase.start();
      }
    } catch (error) {
      this.setStatus('failed');
      await this.release();
      throw error;
    }
  }

  /**
   * The start, as named phases, each with what undoes it: stop() undoes them in the reverse order (the consumer
   * first, the Kafka admin last), after the drain of docs/architecture.md, "Stopping".
   */
  private phases(): Phase[] {
    const { kafka: kc } = this.config;
    let partitionOf: (key: Buffer) => number = () => 0;
    let listening: { host: string; port: number } | undefined;
    let avroPort = 0;
    return [
      {
        name: 'kafka',
        start: async () => {
          const { offsets, deleteRetentionMs, keyPartitions } = await this.connectKafka();
          this.positions.setDeleteRetention(deleteRetentionMs);
          this.positions.initialize(offsets);
          // Keys map to partitions by the topic's pinned count, forever: partitions added later never move a key.
          partitionOf = createKeyPartitioner(kc.topic, keyPartitions);
          if (keyPartitions !== offsets.length) {
            this.logger.info({ keyPartitions, partitions: offsets.length }, 'the topic has more partitions than its pinned key→partition map: keys stay where the pin puts them');
          }
        },
        stop: () => this.admin?.disconnect().catch(() => undefined),
      },
      {
        name: 'producer',
        start: async () => {
          this.producer = new WriteProducer(this.kafka, {
            topic: kc.topic,
            produceTimeoutMs: kc.produceTimeoutMs,
            partitionOf,
            logger: this.logger,
            onProduce: (ok, seconds) => this.metrics.observeProduce(ok, seconds),
          });
          await this.producer.start();
        },
        stop: (left) => this.producer?.stop(left()),
      },
      {
        name: 'commands',
        start: async () => this.buildCommands(partitionOf),
        stop: () => {
          this.peerClient?.close();
          this.positions.rejectAll(new BitacoraError('SHUTTING_DOWN', 'the node stopped before applying this write; it may still be in Kafka'));
        },
      },
      {
        name: 'http',
        start: async () => {
          listening = await this.listenHttp();
        },
        stop: (left) => this.http?.close(Math.min(2_000, left())),
      },
      {
        name: 'avro',
        start: async () => {
          this.avro = new AvroServer({ commands: this.commands!, logger: this.logger, limits: this.config.limits, token: this.accessToken });
          avroPort = (await this.avro.listen(this.config.avro.port, this.config.http.host)).port;
          const host = listening!.host;
          this.avroHostPort = `${host.includes(':') ? `[${host}]` : host}:${avroPort}`;
          this.logger.info({ url: this.url, avro: this.avroHostPort, topic: kc.topic, partitions: this.positions.snapshot().length }, 'listening');
        },
        stop: () => this.avro?.close(),
      },
      {
        name: 'resp',
        start: async () => {
          if (this.config.resp.port === undefined) return;
          this.resp = new RespServer({
            backend: new CommandsBackend({ commands: this.commands!, store: this.store, positions: this.positions, loading: () => this.status !== 'ready' }),
            logger: this.logger,
            nodeName: this.config.nodeName,
            version: VERSION,
            limits: this.config.limits,
            token: this.accessToken,
            protectedMode: this.config.resp.protectedMode,
          });
          this.respBound = (await this.resp.listen(this.config.resp.port, this.config.http.host)).port;
          this.logger.info({ resp: this.respBound }, 'listening for the Redis protocol');
        },
        stop: () => this.resp?.close(),
      },
      {
        // Registered once the ports are known, so peers can reach what the znode says; and before consuming: a
        // duplicate NODENAME would share this node's consumer group and take its partitions, so it is refused first.
        name: 'membership',
        start: async () => {
          const advertised = this.config.advertisedHost;
          this.membership = new Membership({
            connectString: this.config.zookeeper.connectString,
            root: this.config.zookeeper.root,
            sessionTimeoutMs: this.config.zookeeper.sessionTimeoutMs,
            connectTimeoutMs: this.config.zookeeper.connectTimeoutMs,
            digestAuth: this.config.zookeeper.digestAuth,
            logger: this.logger,
            self: {
              name: this.config.nodeName,
              httpUrl: `http://${advertised}:${listening!.port}`,
              avroAddress: `${advertised}:${avroPort}`,
              startedAt: new Date().toISOString(),
              version: VERSION,
            },
          });
          await this.membership.start();
        },
        stop: (left) => this.membership?.stop(Math.min(2_000, left())),
      },
      {
        name: 'consumer',
        start: () => this.consumer!.start(),
        stop: (left) => this.consumer?.stop(left()),
      },
      {
        // Last: it needs the session (fences), the producer and a node that has caught up (it waits for that).
        name: 'mirror',
        start: async () => this.startMirrorRole(),
        stop: (left) => this.mirrorRole?.stop(Math.min(5_000, left())),
      },
    ];
  }

  /** #13's mirroring role (src/membership/mirror-role.ts), with the node's merge, producer and positions. */
  private startMirrorRole(): void {
    const { kafka: kc } = this.config;
    this.mirrorRole = new MirrorRole({
      membership: this.membership!,
      root: this.config.zookeeper.root,
      topic: kc.topic,
      self: this.config.nodeName,
      partitions: () => this.positions.snapshot().map((p) => p.partition),
      ready: () => this.status === 'ready',
      catchUp: async (timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        const offsets = await fetchPartitionOffsets(this.admin!, kc.topic);
        await Promise.all(offsets.filter((o) => o.high > 0).map((o) => this.positions.waitForApplied(o.partition, o.high - 1, Math.max(1, deadline - Date.now()))));
      },
      mirror: (source) =>
        mirrorRound(source, {
          merge: this.merge,
          store: this.store,
          write: (key, value, timestamp, partition, headers) => this.producer!.write(key, value, timestamp, partition, headers),
          waitForApplied: (partition, offset, timeoutMs) => this.positions.waitForApplied(partition, offset, timeoutMs),
          applyTimeoutMs: this.config.applyTimeoutMs,
        }),
      lag: (source) => this.merge.unmirroredCount(source),
      hasWork: (source) => this.merge.unmirroredCount(source) > 0,
      catchUpTimeoutMs: Math.max(30_000, this.config.applyTimeoutMs),
      logger: this.logger,
    });
    this.mirrorRole.start();
  }

  /** Connects the admin client, makes sure the topic is usable, and reads its offsets; retried until Kafka answers or stop() aborts. */
  private connectKafka(): Promise<{ offsets: Awaited<ReturnType<typeof fetchPartitionOffsets>>; deleteRetentionMs: number; keyPartitions: number }> {
    const { kafka: kc } = this.config;
    return retry(
      async () => {
        this.admin ??= this.kafka.admin();
        await this.admin.connect();
        const topic = await ensureCompactedTopic(this.admin, { topic: kc.topic, partitions: kc.partitions, replicationFactor: kc.replicationFactor });
        const keyPartitions = await ensurePartitionPin({ kafka: this.kafka, admin: this.admin, topic: kc.topic, timeoutMs: kc.connectTimeoutMs, logger: this.logger });
        return { offsets: await fetchPartitionOffsets(this.admin, kc.topic), deleteRetentionMs: topic.deleteRetentionMs, keyPartitions };
      },
      {
        maxAttempts: 1_000,
        initialDelayMs: 250,
        maxDelayMs: 3_000,
        maxElapsedMs: kc.connectTimeoutMs,
        isRetriable: (error) => !(error instanceof TopicError) && !isSaslRefusal(error) && !isProgrammerError(error),
        signal: this.starting.signal,
        onRetry: (error, attempt, delayMs) => this.logger.warn({ err: error, attempt, delayMs }, 'Kafka not reachable yet; retrying'),
      },
    ).catch((error: unknown) => {
      if (error instanceof TopicError) throw error;
      if (this.starting.signal.aborted) throw new Error(`stopped before Kafka at ${kc.brokers.join(',')} was reached`);
      const reason = error instanceof Error ? error.message : String(error);
      if (isSaslRefusal(error)) {
        // Retrying wrong credentials only delays the message that matters, and may lock the account.
        throw new Error(
          `Kafka at ${kc.brokers.join(',')} refused the SASL credentials (${reason}): check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
        );
      }
      throw new Error(
        `could not reach Kafka at ${kc.brokers.join(',')} within KAFKA_CONNECT_TIMEOUT_MS (${kc.connectTimeoutMs} ms): ${reason}; check BROKER_LIST`,
      );
    });
  }

  /** The peer client, the fan-out, the commands and the (not yet started) consumer; the node is loading from here. */
  private buildCommands(partitionOf: (key: Buffer) => number): void {
    const token = this.config.authToken;
    // Peers share this node's AUTH_TOKEN: their /rpc/cluster asks for it as every other path does.
    this.peerClient = new PeerClient({ timeoutMs: this.config.fanOut.timeoutMs, headers: token ? { Authorization: bearer(token) } : undefined });
    const fanOut = new FanOut({
      mode: this.config.fanOut.mode,
      peers: () => this.membership?.peers() ?? [],
      client: this.peerClient,
      store: this.store,
      positions: this.positions,
      selfName: this.config.nodeName,
      logger: this.logger,
      onFanOut: (outcome, seconds) => this.metrics.observeFanOut(outcome, seconds),
    });
    this.fanOut = fanOut;
    this.commands = new Commands({
      fanOut,
      recorder: this.metrics,
      store: this.store,
      positions: this.positions,
      producer: this.producer!,
      partitionOf,
      // A hybrid logical clock: a node's write is stamped after everything the key holds, so an earlier foreign
      // write stamped by a fast clock cannot outrank it.
      timestampFor: (key) => Math.max(Date.now(), (this.merge.highestTimestamp(this.store, key) ?? 0) + 1),
      otherValuePartitions: (key, canonical) => this.merge.otherValuePartitions(key, canonical),
      sideSlots: (key, canonical) => this.merge.sideSlots(key, canonical),
      limits: this.config.limits,
      applyTimeoutMs: this.config.applyTimeoutMs,
    });
    this.consumer = new LogConsumer({
      kafka: this.kafka,
      admin: this.admin!,
      topic: this.config.kafka.topic,
      groupId: `bitacora-${this.config.nodeName}`,
      sessionTimeoutMs: this.config.kafka.sessionTimeoutMs,
      limits: this.config.limits,
      store: this.store,
      merge: this.merge,
      canonicalPartition: partitionOf,
      positions: this.positions,
      logger: this.logger,
      apply: this.config.apply,
      onKeyApplied: (key) => fanOut.keyApplied(key),
      onFatal: (error) => {
        this.setStatus('failed');
        this.failed(error);
      },
    });
    this.setStatus('loading');
    const loadStarted = Date.now();
    this.positions.onReady(() => {
      if (this.status !== 'loading') return;
      this.logger.info({ entries: this.store.size, ms: Date.now() - loadStarted }, 'caught up with the topic');
      this.setStatus('ready');
    });
  }

  /** The HTTP server on API_PORT; sets httpUrl. */
  private async listenHttp(): Promise<{ host: string; port: number }> {
    const commands = this.commands!;
    const app = createExpressApp({
      readiness: this.readiness,
      members: () => this.membership?.list() ?? [],
      metrics: this.metrics,
      stats: () => ({
        ...this.readiness.report(),
        entries: this.store.size,
        approximateBytes: this.store.approximateBytes,
        hits: commands.readStats.hits,
        misses: commands.readStats.misses,
        recordsApplied: this.applyCounters.applied,
        recordsSkipped: this.applyCounters.skipped,
        recordsMisrouted: this.applyCounters.misrouted,
        mirror: this.mirrorRole?.report(),
      }),
      digest: () => ({ node: this.config.nodeName, partitions: digestPartitions(this.store, this.positions.snapshot()) }),
    });
    this.http = new HttpServer({
      commands,
      app,
      logger: this.logger,
      access: { token: this.accessToken, metricsOpen: this.config.metricsAuth === 'open' },
      maxConnections: this.config.limits.maxConnections,
    });
    const address = await this.http.listen(this.config.http.port, this.config.http.host);
    const host = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    return { host, port: address.port };
  }

  whenReady(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`node ${this.config.nodeName} did not catch up with the topic within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.positions.onReady(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    this.starting.abort();
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.status === 'created') {
      this.setStatus('stopped');
      return;
    }
    const budget = this.config.shutdownTimeoutMs;
    const deadline = Date.now() + budget;
    const left = (): number => Math.max(500, deadline - Date.now());
    // A start under way ends first (its Kafka retry is aborted; a failed start undoes its own phases), boundedly.
    if (this.startup) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.startup.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, left() / 2)))]);
      clearTimeout(timer);
    }
    this.setStatus('stopping');
    // The drain. 1. New requests answer 503 and readiness fails at once.
    this.commands?.close();
    // 2. Requests in flight (writes waiting to be applied among them) finish while the consumer still runs.
    const drained = await Promise.all([this.http?.waitForInFlight(left() / 2), this.avro?.waitForInFlight(left() / 2), this.resp?.waitForInFlight(left() / 2)]);
    if (drained.includes(false)) this.logger.warn('requests still in flight at shutdown');
    // 3. The mirror fences are released (in the session that holds them), and peers stop asking this node.
    await this.mirrorRole?.stop(Math.min(5_000, left()));
    await this.membership?.stop(Math.min(2_000, left()));
    // Then the phases, in reverse.
    await this.release(left);
    this.setStatus('stopped');
  }

  /** Undoes the phases start() ran, in reverse order; idempotent (a failed start and a stop may both ask). */
  private release(left: () => number = () => 5_000): Promise<void> {
    this.releasing ??= (async () => {
      for (const phase of [...this.started].reverse()) {
        try {
          await phase.stop(left);
        } catch (error) {
          this.logger.warn({ err: error, phase: phase.name }, 'stopping a phase failed');
        }
      }
    })();
    return this.releasing;
  }

  whenFailed(): Promise<Error> {
    return this.failedPromise;
  }

  onStatus(listener: (next: NodeStatus, previous: NodeStatus) => void): void {
    this.lifecycle.onChange(listener);
  }

  private setStatus(next: NodeStatus): void {
    this.lifecycle.set(next);
  }
}

/** One step of a node's start, and what undoes it (given the time left of the stop's budget). */
interface Phase {
  readonly name: string;
  start(): Promise<void>;
  stop(left: () => number): Promise<unknown> | void;
}

/** kafkajs' error for credentials the broker refused (not for an unreachable broker). */
function isSaslRefusal(error: unknown): boolean {
  return error instanceof Error && error.name === 'KafkaJSSASLAuthenticationError';
}
