import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FanOutCounters } from '../cluster/fan-out';
import type { CommandRecorder, Interface, Outcome } from '../commands/command-context';
import type { ApplyReport } from '../log/log-consumer';
import type { PartitionPositions } from '../log/partition-positions';
import type { ApplyCounters } from '../log/record-applier';
import type { MembershipReport } from '../membership/membership';
import type { MirrorReport } from '../membership/mirror-role';
import type { EntryStore } from '../store/entry-store';
import { type HistogramTally, TallyHistogram } from './tally-histogram';

/** What the metrics read at scrape time; each is cheap and none is on a request's path. */
export interface MetricSources {
  readonly store: EntryStore;
  readonly positions: PartitionPositions;
  readonly applyCounters: () => ApplyCounters;
  readonly fanOutCounters: () => FanOutCounters | undefined;
  readonly produceStats: () => { requests: number; records: number; failures: number } | undefined;
  readonly readStats: () => { hits: number; misses: number } | undefined;
  readonly ready: () => boolean;
  /** The apply path's failures and restarts; undefined before start. */
  readonly apply: () => ApplyReport | undefined;
  readonly membership: () => MembershipReport | undefined;
  /** The mirroring role (#13); undefined before start. */
  readonly mirror?: () => MirrorReport | undefined;
  /** Open client connections per listener (MAX_CONNECTIONS applies to each). */
  readonly openConnections: () => { readonly http: number; readonly avro: number; readonly resp: number };
  /** HTTP connections the fast path handed to node:http, by why (http-server.ts). */
  readonly httpHandOffs?: () => Readonly<Record<string, number>>;
}

/** One interface's request metrics by operation: the duration histogram's tally and the request counts by outcome. */
type RequestChild = Map<string, { duration: HistogramTally; counts: Map<Outcome, { n: number }> }>;

/** Latency buckets from 100 µs to 10 s: a cache hit is sub-millisecond, a write waits for Kafka. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The node's Prometheus metrics, in a registry of its own (several nodes can share a process, as `npm start`
 * runs them). docs/metrics.md lists every metric; a test keeps the two in step.
 */
export class NodeMetrics implements CommandRecorder {
  readonly registry = new Registry();
  /**
   * The request metrics' tallies by label set, resolved once each: counted with plain additions on the request path
   * and handed to prom-client at scrape time (prom-client validates and hashes labels on every inc and observe).
   */
  private readonly children = new Map<string, RequestChild>();
  private readonly requestDuration: TallyHistogram;
  private readonly fanOutDuration: Histogram<'outcome'>;
  private readonly produceDuration: Histogram<'outcome'>;

  constructor(nodeName: string, sources: MetricSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: nodeName });
    collectDefaultMetrics({ register: this.registry });

    const children = this.children;
    new Counter({
      name: 'bitacora_requests_total',
      help: 'Requests served, by interface (http, avro, resp), operation (get, set, delete, multiget, exists, multiset, lookup) and outcome.',
      labelNames: ['interface', 'operation', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [iface, byOperation] of children) {
          for (const [operation, child] of byOperation) {
            for (const [outcome, count] of child.counts) this.inc({ interface: iface, operation, outcome }, count.n);
          }
        }
      },
    });
    this.requestDuration = new TallyHistogram(
      'bitacora_request_duration_seconds',
      'Time from a request arriving to its answer, by interface and operation.',
      LATENCY_BUCKETS,
      registers,
    );
    this.fanOutDuration = new Histogram({
      name: 'bitacora_fanout_duration_seconds',
      help: 'Time a miss spent asking the peers, by outcome (value, absent).',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.produceDuration = new Histogram({
      name: 'bitacora_produce_duration_seconds',
      help: 'Time of one produce request to Kafka (which may carry many writes), by outcome (ok, failed).',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });

    const mirror = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    mirror('bitacora_cache_hits_total', 'Reads answered from the local map.', () => sources.readStats()?.hits ?? 0);
    mirror('bitacora_cache_misses_total', 'Reads the local map could not answer.', () => sources.readStats()?.misses ?? 0);
    mirror('bitacora_records_applied_total', 'Kafka records applied to the map.', () => sources.applyCounters().applied);
    mirror(
      'bitacora_records_misrouted_total',
      "Records of user keys found outside their key's canonical partition (a producer that partitions otherwise than murmur2 over the pinned count).",
      () => sources.applyCounters().misrouted,
    );
    mirror('bitacora_records_mirrored_total', "Side records this node wrote as a partition's mirroring node (#13): copies of records found outside their key's canonical partition.", () => sources.mirror?.()?.recordsMirrored ?? 0);
    mirror('bitacora_fanouts_total', 'Misses that asked the peers (concurrent misses of one key share one).', () => sources.fanOutCounters()?.fanOuts ?? 0);
    mirror('bitacora_fanouts_coalesced_total', 'Misses that joined a fan-out already under way for the key.', () => sources.fanOutCounters()?.coalesced ?? 0);
    mirror('bitacora_fanouts_kafka_won_total', "Fan-outs ended by this node's own consumer applying the key.", () => sources.fanOutCounters()?.kafkaWon ?? 0);
    mirror('bitacora_produce_requests_total', 'Produce requests sent to Kafka.', () => sources.produceStats()?.requests ?? 0);
    mirror('bitacora_produce_records_total', 'Writes carried by produce requests.', () => sources.produceStats()?.records ?? 0);
    mirror('bitacora_produce_failures_total', 'Produce requests that failed.', () => sources.produceStats()?.failures ?? 0);

    new Counter({
      name: 'bitacora_records_skipped_total',
      help: 'Kafka records skipped as undecodable or over the limits, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(sources.applyCounters().skipped)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: 'bitacora_apply_failures_total',
      help: 'Failures of the apply path, by kind (apply_error, consumer_crash, stall); each turns the node unready until it recovers.',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const failures = sources.apply()?.failures;
        if (!failures) return;
        for (const [kind, count] of Object.entries(failures)) this.inc({ kind }, count);
      },
    });
    mirror('bitacora_consumer_restarts_total', 'Kafka consumers replaced after an apply failure, resuming from the applied positions.', () => sources.apply()?.restarts ?? 0);
    new Counter({
      name: 'bitacora_fanout_peer_answers_total',
      help: 'Answers of peers to fan-outs, by kind (value, absent, timeout, error).',
      labelNames: ['answer'],
      registers,
      collect() {
        this.reset();
        const c = sources.fanOutCounters();
        if (!c) return;
        this.inc({ answer: 'value' }, c.peerValue);
        this.inc({ answer: 'absent' }, c.peerAbsent);
        this.inc({ answer: 'timeout' }, c.peerTimeout);
        this.inc({ answer: 'error' }, c.peerError);
      },
    });

    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge('bitacora_entries', 'Keys held in the map.', () => sources.store.size);
    gauge('bitacora_entries_bytes', 'Bytes held by the map: slabs of keys and values, entry records and hash index.', () => sources.store.approximateBytes);
    gauge('bitacora_store_headroom_bytes', 'Bytes the map may still take before it refuses records (STORE_MAX_BYTES).', () => sources.store.headroomBytes);
    gauge('bitacora_ready', '1 when the node has caught up with the topic as found at start, its apply path works, no delete may be missed, and it is not stopping.', () => (sources.ready() ? 1 : 0));
    gauge('bitacora_apply_failed', '1 while the apply path is failed (an apply error, a consumer crash kafkajs does not restart, a stalled partition).', () => (sources.positions.failure ? 1 : 0));
    gauge('bitacora_zookeeper_connected', '1 while the ZooKeeper session is connected.', () => (sources.membership()?.zookeeper === 'connected' ? 1 : 0));
    gauge('bitacora_zookeeper_registered', '1 while this node is registered in ZooKeeper.', () => (sources.membership()?.registered ? 1 : 0));
    gauge('bitacora_zookeeper_sessions', 'ZooKeeper sessions opened since start (more than 1: a session expired).', () => sources.membership()?.sessions ?? 0);
    gauge('bitacora_peers', 'Peers known from ZooKeeper.', () => sources.membership()?.peers ?? 0);

    const perPartition = (name: string, help: string, read: (p: ReturnType<PartitionPositions['snapshot']>[number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['partition'],
        registers,
        collect() {
          this.reset();
          for (const p of sources.positions.snapshot()) this.set({ partition: String(p.partition) }, read(p));
        },
      });
    };
    new Counter({
      name: 'bitacora_http_handoffs_total',
      help: 'HTTP connections the fast path handed to node:http, by reason: another request shape than a plain /rpc one (shape), a refused token (unauthorized).',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const handOffs = sources.httpHandOffs?.();
        if (!handOffs) return;
        for (const [reason, count] of Object.entries(handOffs)) this.inc({ reason }, count);
      },
    });
    new Gauge({
      name: 'bitacora_open_connections',
      help: 'Open client connections, by interface (http, avro, resp); each listener closes new ones past MAX_CONNECTIONS.',
      labelNames: ['interface'],
      registers,
      collect() {
        const open = sources.openConnections();
        this.set({ interface: 'http' }, open.http);
        this.set({ interface: 'avro' }, open.avro);
        this.set({ interface: 'resp' }, open.resp);
      },
    });
    perPartition('bitacora_partition_applied_offset', 'Next offset to apply, per partition (every record below it is applied).', (p) => p.position);
    perPartition('bitacora_partition_end_offset', "The partition's end (last stable offset) as Kafka last reported it, asked every LAG_CHECK_INTERVAL_MS.", (p) => p.end);
    perPartition('bitacora_partition_lag', 'Records the node has yet to apply, per partition: the end Kafka reported minus the applied offset.', (p) => p.lag);
    new Gauge({
      name: 'bitacora_mirror_lag_records',
      help: "Per source partition this node mirrors (#13): keys whose last record there, outside their canonical partition, is not copied to a side key yet.",
      labelNames: ['partition'],
      registers,
      collect() {
        this.reset();
        for (const [partition, lag] of Object.entries(sources.mirror?.()?.lagRecords ?? {})) this.set({ partition }, lag);
      },
    });
    new Gauge({
      name: 'bitacora_partition_deletes_maybe_missed',
      help: "1 when the partition stayed behind the log longer than the topic's delete.retention.ms: the node may hold keys whose deletes Kafka removed before it read them.",
      labelNames: ['partition'],
      registers,
      collect() {
        this.reset();
        const missed = new Set(sources.positions.deletesMaybeMissed());
        for (const p of sources.positions.snapshot()) this.set({ partition: String(p.partition) }, missed.has(p.partition) ? 1 : 0);
      },
    });
  }

  /** Counts one request and its latency; `startedAt` is from performance.now(). */
  record(iface: Interface, operation: string, outcome: Outcome, startedAt: number): void {
    // Keyed by the label strings in turn (literals, whose hashes are cached) rather than by a string built per call.
    let byOperation = this.children.get(iface);
    if (!byOperation) this.children.set(iface, (byOperation = new Map()));
    let child = byOperation.get(operation);
    if (!child) byOperation.set(operation, (child = { duration: this.requestDuration.child({ interface: iface, operation }), counts: new Map() }));
    let count = child.counts.get(outcome);
    if (!count) child.counts.set(outcome, (count = { n: 0 }));
    count.n++;
    child.duration.observe((performance.now() - startedAt) / 1e3);
  }

  observeFanOut(outcome: 'value' | 'absent', seconds: number): void {
    this.fanOutDuration.observe({ outcome }, seconds);
  }

  observeProduce(ok: boolean, seconds: number): void {
    this.produceDuration.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
  }
}
