import type { CpuUsage } from '../cpu-usage';
import type { LatencySummary } from '../stats';

/**
 * What the load generator process is asked to do. Plain data (it crosses the IPC channel as JSON); the generator
 * turns an OperationSpec into an Operation with createOperation().
 */

/** Keys `benchKey(prefix, 0 .. count-1)`; `random` picks uniformly, `sequential` walks them (no two in flight share one). */
export interface KeySpace {
  readonly prefix: string;
  readonly count: number;
  readonly order: 'random' | 'sequential';
}

export type OperationSpec =
  /** GET /rpc?key=K on one of `urls` (round robin by worker), expecting `expectStatus`; with `expectSource`, the answer's source must start with it. */
  | { readonly kind: 'http-get'; readonly urls: readonly string[]; readonly keys: KeySpace; readonly expectStatus: 200 | 404; readonly expectSource?: string }
  /** POST /rpc?key=K&value=V of fresh keys; after the run the last write of each worker is read back and compared. */
  | { readonly kind: 'http-set'; readonly urls: readonly string[]; readonly keyPrefix: string }
  /** GET key on redis-server, expecting a value (a hit). */
  | { readonly kind: 'redis-get'; readonly port: number; readonly keys: KeySpace }
  /** SET key value on redis-server, expecting +OK. */
  | { readonly kind: 'redis-set'; readonly port: number; readonly keyPrefix: string }
  /** get() through src/client/avro-client.ts, expecting an entry. */
  | { readonly kind: 'avro-get'; readonly addresses: readonly string[]; readonly keys: KeySpace }
  /** set() through src/client/avro-client.ts. */
  | { readonly kind: 'avro-set'; readonly addresses: readonly string[]; readonly keyPrefix: string };

/** A closed loop: `concurrency` requests always in flight, each followed at once by the next. */
export interface ClosedLoopSpec {
  readonly job: 'closed-loop';
  readonly operation: OperationSpec;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly requestTimeoutMs: number;
  /** The run fails when more than this share of its requests failed (warm-up included). */
  readonly maxErrorRatio: number;
}

/**
 * Writes at a steady rate to `writeUrl`; each acknowledged write is timed until every `observerUrls` node has
 * applied it, judged by polling their applied positions (GET /health/ready) every `pollIntervalMs`.
 */
export interface ReplicationSpec {
  readonly job: 'replication';
  readonly writeUrl: string;
  readonly observerUrls: readonly string[];
  readonly ratePerSecond: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly pollIntervalMs: number;
  readonly keyPrefix: string;
  readonly requestTimeoutMs: number;
  /** A write not seen on every observer this long after its acknowledgement counts as failed. */
  readonly replicationTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxErrorRatio: number;
}

export type LoadSpec = ClosedLoopSpec | ReplicationSpec;

export interface ClosedLoopResult {
  readonly job: 'closed-loop';
  readonly operation: OperationSpec['kind'];
  readonly concurrency: number;
  /** The measured window (after warm-up), in ms. */
  readonly windowMs: number;
  /** Requests completed, as expected, within the measured window. */
  readonly completed: number;
  /** Requests that failed, warm-up included. */
  readonly failed: number;
  readonly attempted: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary;
  readonly errorSamples: readonly string[];
  /** CPU used by each process of the run during the measured window; added by bench/run.ts. */
  readonly cpu?: CpuUsage;
}

export interface ReplicationResult {
  readonly job: 'replication';
  readonly windowMs: number;
  readonly writesMeasured: number;
  readonly failed: number;
  readonly achievedWritesPerSecond: number;
  /** From the acknowledgement (at the load generator) until every observer had applied the write: an upper bound. */
  readonly replication: LatencySummary;
  /** The acknowledged writes' own latency. */
  readonly ack: LatencySummary;
  /** Mean time between two answered polls of one observer: how coarse the replication figures are. */
  readonly pollPeriodMs: number;
  readonly pollRoundTripMs: number;
  readonly errorSamples: readonly string[];
  readonly cpu?: CpuUsage;
}

/** The measured window starts and ends: the driver samples CPU usage at these moments. */
export type LoadPhase = 'measure' | 'done';
export type PhaseListener = (phase: LoadPhase) => void;

export type LoadResult = ClosedLoopResult | ReplicationResult;

/** Messages over the IPC channel between bench/run.ts and the load generator process. */
export type ToGenerator = { readonly type: 'run'; readonly spec: LoadSpec };
export type FromGenerator =
  | { readonly type: 'phase'; readonly phase: LoadPhase }
  | { readonly type: 'result'; readonly result: LoadResult }
  | { readonly type: 'error'; readonly message: string };
