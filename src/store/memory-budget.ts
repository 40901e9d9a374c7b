import { readFileSync } from 'node:fs';
import os from 'node:os';
import { StoreFullError } from './store-full-error';

/** What a store reports when its headroom falls below the warning level (and again when it recovers). */
export interface HeadroomEvent {
  readonly low: boolean;
  readonly usedBytes: number;
  readonly limitBytes: number;
  readonly headroomBytes: number;
}

/**
 * Headroom below which it counts as low: 10 % of the limit, and never less than two of the largest allocations the
 * store makes (32 MiB slabs), so the warning comes before the refusal however small the limit. It counts as
 * recovered at twice that.
 */
export const LOW_HEADROOM_SHARE = 0.1;
const LOW_HEADROOM_MIN_BYTES = 64 * 1024 * 1024;

/**
 * The bytes one store may hold (slabs, metadata records, hash index), counted before each large allocation. Going
 * over the limit throws StoreFullError before anything changes; falling under the warning level calls `onHeadroom`
 * once, and once more when the headroom recovers.
 */
export class MemoryBudget {
  private used = 0;
  private low = false;

  constructor(
    readonly limitBytes: number,
    private readonly onHeadroom?: (event: HeadroomEvent) => void,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  get headroomBytes(): number {
    return Math.max(0, this.limitBytes - this.used);
  }

  /** Takes `bytes` from the budget and runs `allocate`; a refusal (limit or allocation failure) throws StoreFullError. */
  allocate<T>(bytes: number, what: string, allocate: () => T): T {
    if (this.used + bytes > this.limitBytes) this.refuse(bytes, what);
    let result: T;
    try {
      result = allocate();
    } catch (error) {
      // V8 throws RangeError ("Array buffer allocation failed") when the process cannot get the memory.
      if (error instanceof RangeError) this.refuse(bytes, `${what} (the process could not allocate it: ${error.message})`);
      throw error;
    }
    this.used += bytes;
    this.check();
    return result;
  }

  /** Throws the StoreFullError for `bytes` that cannot be had for a reason other than the limit. */
  refuse(bytes: number, what: string): never {
    throw new StoreFullError(bytes, this.used, this.limitBytes, what);
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.check();
  }

  private check(): void {
    const headroom = this.limitBytes - this.used;
    const threshold = Math.max(this.limitBytes * LOW_HEADROOM_SHARE, LOW_HEADROOM_MIN_BYTES);
    if (!this.low && headroom < threshold) this.low = true;
    else if (this.low && headroom > 2 * threshold) this.low = false;
    else return;
    this.onHeadroom?.({ low: this.low, usedBytes: this.used, limitBytes: this.limitBytes, headroomBytes: Math.max(0, headroom) });
  }
}

/** Share of the machine's (or the container's) memory a store may use when STORE_MAX_BYTES is unset. */
export const DEFAULT_MEMORY_SHARE = 0.75;

/** The default limit: 75 % of the smaller of the machine's memory and the cgroup's limit, if one is set. */
export function defaultStoreMaxBytes(): number {
  return Math.floor(Math.min(os.totalmem(), cgroupMemoryLimit() ?? Infinity) * DEFAULT_MEMORY_SHARE);
}

function cgroupMemoryLimit(): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = readFileSync(file, 'utf8').trim();
      const bytes = Number(text);
      // "max" (v2) and a huge page-rounded number (v1) both mean no limit.
      if (Number.isSafeInteger(bytes) && bytes > 0 && bytes < 2 ** 60) return bytes;
    } catch {
      // Not in a cgroup with a memory controller: the machine's memory is the bound.
    }
  }
  return undefined;
}
