import { BitacoraError } from '../errors/bitacora-error';
import type { PartitionPositions } from '../log/partition-positions';
import type { CacheService, ReadResult } from '../node/cache-service';
import { validateKey, validateValue } from '../node/request-validation';
import type { EntryStore } from '../store/entry-store';
import type { BackendInfo, RespBackend } from './resp-backend';
import { ScanSnapshots } from './scan-snapshots';

/** RespBackend over today's CacheService: absence is null here, every other failure stays a BitacoraError. */
export class CacheServiceBackend implements RespBackend {
  private readonly scans = new ScanSnapshots();

  constructor(
    private readonly deps: {
      readonly service: CacheService;
      readonly store: EntryStore;
      readonly positions: PartitionPositions;
      readonly loading: () => boolean;
    },
  ) {}

  get(key: Buffer): Buffer | null | Promise<Buffer | null> {
    let read: ReadResult | Promise<ReadResult>;
    try {
      read = this.deps.service.get(key);
    } catch (error) {
      return absentAsNull(error);
    }
    return read instanceof Promise ? read.then((r) => r.entry.value, absentAsNull) : read.entry.value;
  }

  mget(keys: readonly Buffer[]): Array<Buffer | null> | Promise<Array<Buffer | null>> {
    const reads = keys.map((key) => this.get(key));
    return reads.some((r) => r instanceof Promise) ? Promise.all(reads) : (reads as Array<Buffer | null>);
  }

  exists(keys: readonly Buffer[]): number | Promise<number> {
    const values = this.mget(keys);
    const count = (found: Array<Buffer | null>): number => found.filter((v) => v !== null).length;
    return values instanceof Promise ? values.then(count) : count(values);
  }

  async set(key: Buffer, value: Buffer): Promise<void> {
    await this.deps.service.set(key, value);
  }

  async mset(pairs: ReadonlyArray<readonly [Buffer, Buffer]>): Promise<void> {
    // Checked all before any is sent, so a bad pair writes nothing.
    for (const [key, value] of pairs) {
      validateKey(key, this.deps.service.limits);
      validateValue(value, this.deps.service.limits);
    }
    await Promise.all(pairs.map(([key, value]) => this.deps.service.set(key, value)));
  }

  async del(keys: readonly Buffer[]): Promise<number> {
    const held = keys.map((key) => this.deps.store.has(validateKey(key, this.deps.service.limits).key));
    await Promise.all(keys.map((key) => this.deps.service.delete(key)));
    return held.filter(Boolean).length;
  }

  size(): number {
    return this.deps.store.size;
  }

  scan(cursor: string, count: number): { cursor: string; keys: readonly string[] } {
    return this.scans.page(cursor, count, () => this.deps.store.keys(), (key) => this.deps.store.has(key));
  }

  keys(): Iterable<string> {
    return this.deps.store.keys();
  }

  info(): BackendInfo {
    const { store, service, positions } = this.deps;
    return {
      loading: this.deps.loading(),
      keys: store.size,
      approximateBytes: store.approximateBytes,
      hits: service.readStats.hits,
      misses: service.readStats.misses,
      partitions: positions.snapshot(),
    };
  }
}

function absentAsNull(error: unknown): null {
  if (error instanceof BitacoraError && error.code === 'NOT_FOUND') return null;
  throw error;
}
