/**
 * What the Redis protocol needs from the cache: the smallest surface, in bytes. Failures are thrown (or rejected)
 * as BitacoraError with the catalogue's code (NOT_READY, KEY_TOO_LARGE, KAFKA_UNAVAILABLE...), which
 * resp-errors.ts turns into Redis error lines. Implemented over the command layer (commands-backend.ts).
 */
export interface RespBackend {
  /** A key's value; null when absent. Synchronous on a local hit. */
  get(key: Buffer): Buffer | null | Promise<Buffer | null>;
  /** Each key's value or null, in order. */
  mget(keys: readonly Buffer[]): Array<Buffer | null> | Promise<Array<Buffer | null>>;
  /** How many of the keys are present; a key named twice counts twice. */
  exists(keys: readonly Buffer[]): number | Promise<number>;
  /** Resolves once Kafka has the write and this node applied it. */
  set(key: Buffer, value: Buffer): Promise<void>;
  /** Several plain writes, all checked before any is sent; not atomic (see docs/resp.md). */
  mset(pairs: ReadonlyArray<readonly [Buffer, Buffer]>): Promise<void>;
  /** Deletes the keys; resolves with how many of them this node held when called. */
  del(keys: readonly Buffer[]): Promise<number>;
  /** Keys held by this node. */
  size(): number;
  /** One page of a scan of this node's keys: `cursor` 0 starts one, a next cursor of 0 ends it (see scanPage's guarantee). */
  scan(cursor: string, count: number): { readonly cursor: string; readonly keys: readonly string[] };
  /** Every key this node holds (KEYS: O(n), blocks the node while it runs). */
  keys(): Iterable<string>;
  /** What INFO reports. */
  info(): BackendInfo;
}

/** The node's state as INFO shows it. */
export interface BackendInfo {
  readonly loading: boolean;
  readonly keys: number;
  readonly approximateBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly partitions: ReadonlyArray<{ readonly partition: number; readonly position: number; readonly end: number; readonly lag: number }>;
}
