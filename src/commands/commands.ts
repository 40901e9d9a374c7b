import type { CommandContext, CommandDeps, Failure, Interface, Limits } from './command-context';
import { refused } from './command-outcome';
import { del } from './delete';
import { exists, type ExistsOutcome } from './exists';
import { get } from './get';
import { lookup, type LookupOutcome } from './lookup';
import { mget, type MultiReadOutcome } from './mget';
import { mset, type MultiWriteOutcome } from './mset';
import type { ReadOutcome } from './read-key';
import { set } from './set';
import type { WriteOutcome } from './write-record';

/**
 * The cache's commands, independent of any protocol: HTTP, Avro, the CLI (through Avro) and RESP are codecs over
 * these, so validation, limits, readiness, read-your-writes, errors and metrics are the same on every front-end.
 * Keys and values are bytes; results say hit, miss or error without throwing. `startedAt` (performance.now())
 * defaults to the call, a codec passes it when its request began earlier (a body being read).
 */
export class Commands {
  private readonly ctx: CommandContext & { closing: boolean };

  constructor(deps: CommandDeps) {
    this.ctx = { ...deps, closing: false, readStats: { hits: 0, misses: 0 } };
  }

  /** From now on every command answers SHUTTING_DOWN. */
  close(): void {
    this.ctx.closing = true;
  }

  get isClosing(): boolean {
    return this.ctx.closing;
  }

  get limits(): Limits {
    return this.ctx.limits;
  }

  /** Reads answered from the map, and reads it could not answer (for metrics and /stats). */
  get readStats(): { readonly hits: number; readonly misses: number } {
    return this.ctx.readStats;
  }

  get(iface: Interface, key: Buffer | undefined, startedAt = performance.now()): ReadOutcome | Promise<ReadOutcome> {
    return get(this.ctx, iface, key, startedAt);
  }

  exists(iface: Interface, keys: readonly (Buffer | undefined)[], startedAt = performance.now()): ExistsOutcome | Promise<ExistsOutcome> {
    return exists(this.ctx, iface, keys, startedAt);
  }

  mget(iface: Interface, keys: readonly (Buffer | undefined)[], startedAt = performance.now()): MultiReadOutcome | Promise<MultiReadOutcome> {
    return mget(this.ctx, iface, keys, startedAt);
  }

  lookup(iface: Interface, key: Buffer | undefined, startedAt = performance.now()): LookupOutcome {
    return lookup(this.ctx, iface, key, startedAt);
  }

  set(iface: Interface, key: Buffer | undefined, value: Buffer, startedAt = performance.now()): Promise<WriteOutcome> {
    return set(this.ctx, iface, key, value, startedAt);
  }

  delete(iface: Interface, key: Buffer | undefined, startedAt = performance.now()): Promise<WriteOutcome> {
    return del(this.ctx, iface, key, startedAt);
  }

  mset(iface: Interface, pairs: ReadonlyArray<readonly [Buffer | undefined, Buffer]>, startedAt = performance.now()): Promise<MultiWriteOutcome> {
    return mset(this.ctx, iface, pairs, startedAt);
  }

  /** Counts a request its codec refused before any command ran (a malformed query, a method /rpc does not take). */
  refused(iface: Interface, operation: string, error: unknown, startedAt = performance.now()): Failure {
    return refused(this.ctx, iface, operation, error, startedAt);
  }
}
