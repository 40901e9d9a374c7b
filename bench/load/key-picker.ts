import { benchKey, benchValue } from '../keys';
import type { KeySpace } from './load-spec';

/** Picks the key of the next read from a key space. */
export class KeyPicker {
  private next = 0;

  constructor(private readonly keys: KeySpace) {
    if (!Number.isSafeInteger(keys.count) || keys.count < 1) throw new RangeError(`a key space needs at least one key, got ${keys.count}`);
  }

  pick(): string {
    if (this.keys.order === 'random') return benchKey(this.keys.prefix, Math.floor(Math.random() * this.keys.count));
    const index = this.next;
    this.next = (this.next + 1) % this.keys.count;
    return benchKey(this.keys.prefix, index);
  }
}

/**
 * Fresh keys for writes, one sequence per worker (`<prefix><worker, 3 digits><sequence>`), and values tagged with
 * this run so a read-back can tell this run's write from an older one. Remembers each worker's last write.
 */
export class WriteKeys {
  readonly tag = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  private readonly sequences: number[] = [];
  private readonly last = new Map<number, { key: string; value: string }>();

  constructor(private readonly prefix: string) {}

  next(worker: number): { key: string; value: string } {
    const sequence = this.sequences[worker] ?? 0;
    this.sequences[worker] = sequence + 1;
    const key = benchKey(`${this.prefix}${String(worker).padStart(3, '0')}`, sequence);
    return { key, value: benchValue(key, this.tag) };
  }

  /** Records an acknowledged write, for the read-back after the run. */
  acknowledged(worker: number, write: { key: string; value: string }): void {
    this.last.set(worker, write);
  }

  lastWrites(): { key: string; value: string }[] {
    return [...this.last.values()];
  }
}
