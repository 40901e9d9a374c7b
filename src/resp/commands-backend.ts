import type { Failure } from '../commands/command-context';
import type { Commands } from '../commands/commands';
import { decodeKey } from '../commands/key-validation';
import type { Hit, Miss } from '../commands/read-key';
import type { PartitionPositions } from '../log/partition-positions';
import type { EntryStore } from '../store/entry-store';
import type { BackendInfo, RespBackend } from './resp-backend';
import { BitacoraError } from '../errors/bitacora-error';

/** A command's outcome as its value, or its catalogue error thrown (resp-errors.ts turns it into a reply). */
function unwrap<T extends { readonly kind: string }>(outcome: T | Failure): Exclude<T, Failure> {
  if (outcome.kind === 'error') throw (outcome as Failure).error;
  return outcome as Exclude<T, Failure>;
}

function then<T, R>(value: T | Promise<T>, map: (settled: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(map) : map(value);
}

const valueOf = (read: Hit | Miss): Buffer | null => (read.kind === 'hit' ? read.entry.value : null);

/**
 * RespBackend over the command layer (src/commands/): every data command is one call, counted by the commands
 * under interface `resp`; absence is null, every failure the catalogue's BitacoraError.
 */
export class CommandsBackend implements RespBackend {
  constructor(
    private readonly deps: {
      readonly commands: Commands;
      readonly store: EntryStore;
      readonly positions: PartitionPositions;
      readonly loading: () => boolean;
    },
  ) {}

  get(key: Buffer): Buffer | null | Promise<Buffer | null> {
    return then(this.deps.commands.get('resp', key), (outcome) => valueOf(unwrap(outcome)));
  }

  mget(keys: readonly Buffer[]): Array<Buffer | null> | Promise<Array<Buffer | null>> {
    return then(this.deps.commands.mget('resp', keys), (outcome) => unwrap(outcome).reads.map(valueOf));
  }

  exists(keys: readonly Buffer[]): number | Promise<number> {
    return then(this.deps.commands.exists('resp', keys), (outcome) => unwrap(outcome).count);
  }

  set(key: Buffer, value: Buffer): Promise<void> {
    return this.deps.commands.set('resp', key, value).then((outcome) => {
      unwrap(outcome);
    });
  }

  async mset(pairs: ReadonlyArray<readonly [Buffer, Buffer]>): Promise<void> {
    unwrap(await this.deps.commands.mset('resp', pairs));
  }

  async del(keys: readonly Buffer[]): Promise<number> {
    const { commands, store } = this.deps;
    // What this node held when the command ran: Redis's count, as far as one node can tell.
    let held = 0;
    for (const raw of keys) {
      const key = decodeKey(raw, commands.limits);
      if (typeof key !== 'string') throw key;
      if (store.has(key)) held++;
    }
    for (const outcome of await Promise.all(keys.map((key) => commands.delete('resp', key)))) unwrap(outcome);
    return held;
  }

  size(): number {
    return this.deps.store.size;
  }

  /** The store's own cursor (EntryStore.scan): a 32-bit number, O(count) a page, Redis's at-least-once guarantee. */
  scan(cursor: string, count: number): { cursor: string; keys: readonly string[] } {
    if (!/^\d{1,10}$/.test(cursor) || Number(cursor) > 0xffff_ffff) {
      throw new BitacoraError('BAD_REQUEST', `invalid cursor: ${cursor.slice(0, 20)}; start again from 0`);
    }
    const page = this.deps.store.scan(Number(cursor), count);
    return { cursor: String(page.cursor), keys: page.keys };
  }

  keys(): Iterable<string> {
    return this.deps.store.keys();
  }

  info(): BackendInfo {
    const { store, commands, positions } = this.deps;
    return {
      loading: this.deps.loading(),
      keys: store.size,
      approximateBytes: store.approximateBytes,
      hits: commands.readStats.hits,
      misses: commands.readStats.misses,
      partitions: positions.snapshot(),
    };
  }
}
