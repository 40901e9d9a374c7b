import type { BitacoraError } from '../errors/bitacora-error';
import type { Outcome } from '../errors/error-codes';
import type { Entry } from '../store/entry';

/** MAX_KEY_BYTES and MAX_VALUE_BYTES, as every command checks them. */
export interface Limits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

/** Where a command came in: the `interface` label of bitacora_requests_total. */
export type Interface = 'http' | 'avro' | 'resp';

export type { Outcome };

/** Counts commands; NodeMetrics is the real one, unit tests count in an array. */
export interface CommandRecorder {
  /** `startedAt` is from performance.now(). */
  record(iface: Interface, operation: string, outcome: Outcome, startedAt: number): void;
}

/** The map, as commands read it. */
export interface ReadableStore {
  get(key: string): Entry | undefined;
  /** get by the key's UTF-8 bytes; bytes that are not a key held (not UTF-8, too long, empty) find nothing. */
  getBytes(key: Buffer): Entry | undefined;
}

/** The applied positions, as commands use them (src/log/partition-positions.ts). */
export interface AppliedPositions {
  position(partition: number): number;
  isReady(): boolean;
  isCaughtUp(partition: number): boolean;
  /** Set while the apply path is failed (a NOT_READY then says so). */
  readonly failure?: unknown;
  /** Resolves once `offset` of `partition` is applied; rejects with APPLY_TIMEOUT after `timeoutMs`. */
  waitForApplied(partition: number, offset: number, timeoutMs: number): Promise<void>;
}

/** The producer, as commands use it (src/log/write-producer.ts): rejects with KAFKA_UNAVAILABLE or VALUE_TOO_LARGE. */
export interface RecordWriter {
  /** `timestamp` defaults to now, `partition` to the key's canonical one. */
  write(key: Buffer, value: Buffer | null, timestamp?: number, partition?: number): Promise<{ readonly partition: number; readonly offset: number }>;
  /** Several records to one partition in one produce request (one atomic append), all stamped `timestamp`. */
  writeTogether?(
    records: ReadonlyArray<{ readonly key: Buffer; readonly value: Buffer | null; readonly headers?: Readonly<Record<string, string>> }>,
    timestamp: number,
    partition: number,
  ): Promise<Array<{ readonly partition: number; readonly offset: number }>>;
}

/** Asking the peers on a miss (src/cluster/fan-out.ts). */
export interface PeerFanOut {
  shouldAsk(partition: number): boolean;
  lookup(
    key: string,
    partition: number,
  ): Promise<{ readonly kind: 'value'; readonly entry: Entry; readonly source: string } | { readonly kind: 'absent'; readonly authoritative: boolean }>;
}

/** What every command runs against: the node's parts, behind small interfaces so unit tests can fake them. */
export interface CommandDeps {
  readonly store: ReadableStore;
  readonly positions: AppliedPositions;
  readonly producer: RecordWriter;
  readonly partitionOf: (key: Buffer) => number;
  /** The timestamp a write of the key is stamped with (a hybrid logical clock; see createNode); now when omitted. */
  readonly timestampFor?: (key: string) => number;
  /** Partitions besides the canonical one where a delete of the key must also write a tombstone (see KeyMerge). */
  readonly otherValuePartitions?: (key: string, canonical: number) => number[];
  /** The key's slots outside its canonical partition and the source offset known for each: a delete tombstones their side keys (see KeyMerge). */
  readonly sideSlots?: (key: string, canonical: number) => ReadonlyMap<number, number>;
  readonly limits: Limits;
  readonly applyTimeoutMs: number;
  readonly fanOut?: PeerFanOut;
  readonly recorder?: CommandRecorder;
}

/** The deps plus the state commands share: whether the node is closing, and the read counters. */
export interface CommandContext extends CommandDeps {
  readonly closing: boolean;
  readonly readStats: { hits: number; misses: number };
}

/** A failed command: the catalogue's error, never thrown on a command's path. */
export interface Failure {
  readonly kind: 'error';
  readonly error: BitacoraError;
}

export function failure(error: BitacoraError): Failure {
  return { kind: 'error', error };
}
