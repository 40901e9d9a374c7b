import type { Entry } from './entry';

/** Rough per-entry overhead of a Map slot, the entry object and its Buffer view, for the bytes estimate. */
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * The node's in-memory map, written only by the log consumer (one JS thread, partition order).
 * It also keeps an estimate of the bytes it holds, for sizing and metrics.
 */
export class EntryStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  get(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: Entry): void {
    const previous = this.entries.get(key);
    if (previous) this.bytes -= weigh(key, previous);
    this.entries.set(key, entry);
    this.bytes += weigh(key, entry);
  }

  delete(key: string): boolean {
    const previous = this.entries.get(key);
    if (!previous) return false;
    this.bytes -= weigh(key, previous);
    return this.entries.delete(key);
  }

  /** Number of keys held. */
  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held: keys, values and per-entry overhead. */
  get approximateBytes(): number {
    return this.bytes;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }
}

function weigh(key: string, entry: Entry): number {
  return key.length * 2 + entry.value.length + ENTRY_OVERHEAD_BYTES;
}
