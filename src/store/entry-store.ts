import { randomInt } from 'node:crypto';
import { copyBytes } from './copy-bytes';
import type { Entry } from './entry';
import { EntryRecords, MAX_RECORD_KEY_BYTES, RECORD_BYTES } from './entry-records';
import { hashBytes } from './key-hash';
import { defaultStoreMaxBytes, type HeadroomEvent, MemoryBudget } from './memory-budget';
import { allocationSize, SlabArena } from './slab-arena';
import { StoreFullError } from './store-full-error';

/** How a store is sized and watched. */
export interface EntryStoreOptions {
  /** Bytes the store may hold (slabs, records, index); default: 75 % of the machine's or container's memory. */
  readonly maxBytes?: number;
  /** Called when the headroom falls below 10 % of maxBytes (at least 64 MiB), and again when it recovers to twice that. */
  readonly onHeadroom?: (event: HeadroomEvent) => void;
}

/** One step of a SCAN: the keys found, and the cursor to pass next (0 when the scan is complete). */
export interface ScanPage {
  readonly cursor: number;
  readonly keys: string[];
}

/** Figures for metrics and the benchmark. */
export interface StoreStats {
  readonly entries: number;
  /** Keys whose last record was a tombstone, kept as deletions (absent to readers). */
  readonly deletions: number;
  /** Bytes held: slabs, records and hash index. */
  readonly bytes: number;
  readonly limitBytes: number;
  readonly headroomBytes: number;
  /** Key and value bytes, rounded to their size classes. */
  readonly liveBytes: number;
  /** Bytes in freed holes waiting for a blob of their size class. */
  readonly freeBytes: number;
  readonly buckets: number;
  readonly rehashing: boolean;
}

/** Where the tombstone that deleted a key sits in the log. */
export interface Deletion {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

const MIN_BUCKETS = 16;
/** Buckets moved to the new table by each write (each read moves one), so a resize ends long before the next. */
const REHASH_BUCKETS_PER_WRITE = 4;
/** A scan step looks at most this many buckets per key asked for, so a sparse table still answers in O(COUNT). */
const SCAN_VISITS_PER_KEY = 10;

/**
 * The node's in-memory map, written only by the log consumer (one JS thread, partition order). Keys (UTF-8) and
 * values live in slabs outside the JS heap (SlabArena), each entry's metadata in a fixed-width record
 * (EntryRecords), and the index is a chained hash table of entry ids in a Uint32Array of power-of-two size that
 * grows and shrinks incrementally, as Redis's dict does: while a resize is under way both tables are live and each
 * operation moves a few buckets, so no operation pays for the whole table. Entries never move between buckets
 * except by that rehash, which is what lets `scan` promise every key present for a whole scan. Nothing here
 * allocates a JS object per entry; a read allocates only the Entry it returns (and a copy of the value).
 *
 * A deletion (`markDeleted`: the key's last record was a tombstone, whose position the log's merge must weigh
 * against other partitions' records) is an entry with the deletion flag, its key and no value. Readers never see
 * one: get, has, size, keys, forEach, scan and the digest treat it as absent; a put replaces it; the memory budget
 * counts it. Keeping deletions here rather than in a JS Map leaves no key-count cliff (a Map holds 2^24 entries).
 */
export class EntryStore {
  private readonly budget: MemoryBudget;
  private readonly arena: SlabArena;
  private readonly records: EntryRecords;
  private readonly seed = randomInt(2 ** 31);
  /** The table (the old one while a resize is under way). */
  private table: Uint32Array;
  /** The new table while a resize is under way. */
  private target: Uint32Array | undefined;
  /** While resizing: buckets of `table` below this have moved to `target`. */
  private rehashIndex = 0;
  /** Entries at which growing the table was last refused for memory: not retried until the count doubles. */
  private growthRefusedAt = 0;
  private count = 0;
  private deletionCount = 0;
  /** Where a string key is encoded to UTF-8 for a lookup (encode). */
  private scratch = Buffer.allocUnsafeSlow(256);
  /** The key being looked up, UTF-8 (scratch, or the caller's bytes in getBytes), and its length and hash. */
  private probe: Uint8Array = this.scratch;
  private keyBytes = 0;
  private keyHash = 0;

  constructor(options: EntryStoreOptions = {}) {
    this.budget = new MemoryBudget(options.maxBytes ?? defaultStoreMaxBytes(), options.onHeadroom);
    this.arena = new SlabArena(this.budget);
    this.records = new EntryRecords(this.budget);
    this.table = this.newTable(MIN_BUCKETS);
  }

  get(key: string): Entry | undefined {
    return this.entryAt(this.find(key));
  }

  /**
   * get, with the key as its UTF-8 bytes (as a client sent it): no string is made, and bytes that are not
   * UTF-8 simply match nothing, as no key held has them.
   */
  getBytes(key: Uint8Array): Entry | undefined {
    this.probe = key;
    this.keyBytes = key.length;
    this.keyHash = hashBytes(key, 0, key.length, this.seed);
    const id = this.findProbe();
    // Not kept past the call: the caller's buffer (often a view of a whole socket read) is theirs to let go.
    this.probe = this.scratch;
    return this.entryAt(id);
  }

  /** Entry `id` as a reader sees it (a copy of its value), or undefined for none or a deletion; a read's rehash step. */
  private entryAt(id: number): Entry | undefined {
    if (this.target) this.rehashStep(1);
    const r = this.records;
    if (id === 0 || r.isDeletion(id)) return undefined;
    const slab = this.arena.slabs[r.blobSlab(id)]!;
    const start = r.blobOffset(id) + r.keyLength(id);
    const value = Buffer.allocUnsafe(r.valueLength(id));
    copyBytes(slab, start, value.length, value, 0);
    return { value, partition: r.partition(id), offset: r.offset(id), timestamp: r.timestamp(id) };
  }

  has(key: string): boolean {
    const id = this.find(key);
    return id !== 0 && !this.records.isDeletion(id);
  }

  /** The tombstone's position if the key is held as a deletion (see markDeleted), else undefined. */
  deletionOf(key: string): Deletion | undefined {
    const id = this.find(key);
    const r = this.records;
    if (id === 0 || !r.isDeletion(id)) return undefined;
    return { partition: r.partition(id), offset: r.offset(id), timestamp: r.timestamp(id) };
  }

  /**
   * Stores a value (copied) with the position of the record that wrote it, replacing a deletion. Throws
   * StoreFullError, leaving the store as it was, when the entry does not fit in the memory limit.
   */
  put(key: string, value: Buffer, partition: number, offset: number, timestamp: number): void {
    this.write(key, value, partition, offset, timestamp);
  }

  /**
   * Removes the key's value, if any, and keeps the tombstone's position as a deletion (absent to readers, see
   * deletionOf); whether a value was removed. Throws StoreFullError, leaving the store as it was, when a new
   * deletion does not fit.
   */
  markDeleted(key: string, partition: number, offset: number, timestamp: number): boolean {
    const present = this.has(key);
    this.write(key, undefined, partition, offset, timestamp);
    return present;
  }

  /** A value, or a deletion when `value` is undefined. */
  private write(key: string, value: Buffer | undefined, partition: number, offset: number, timestamp: number): void {
    let id = this.find(key);
    const keyBytes = this.keyBytes;
    const valueLength = value?.length ?? 0;
    const size = allocationSize(keyBytes + valueLength);
    const r = this.records;
    const arena = this.arena;
    if (id !== 0) {
      const wasDeletion = r.isDeletion(id);
      let slabId = r.blobSlab(id);
      let at = r.blobOffset(id);
      const oldSize = allocationSize(keyBytes + r.valueLength(id));
      if (oldSize !== size) {
        const newSlab = arena.allocate(size);
        const newAt = arena.allocatedOffset;
        copyBytes(arena.slabs[slabId]!, at, keyBytes, arena.slabs[newSlab]!, newAt);
        arena.free(slabId, at, oldSize);
        slabId = newSlab;
        at = newAt;
        r.setBlob(id, slabId, at, keyBytes);
      }
      // A whole Buffer: TypedArray#set copies it without the view Buffer#copy makes.
      if (value) arena.slabs[slabId]!.set(value, at + keyBytes);
      r.setValue(id, valueLength, partition, offset, Math.max(0, timestamp));
      r.setDeletion(id, value === undefined);
      if (wasDeletion !== (value === undefined)) {
        const change = value === undefined ? -1 : 1;
        this.count += change;
        this.deletionCount -= change;
      }
    } else {
      if (keyBytes > MAX_RECORD_KEY_BYTES) throw new RangeError(`a key of ${keyBytes} bytes is longer than the store's ${MAX_RECORD_KEY_BYTES}`);
      const slabId = arena.allocate(size);
      const at = arena.allocatedOffset;
      try {
        id = r.allocate();
      } catch (error) {
        arena.free(slabId, at, size);
        throw error;
      }
      const slab = arena.slabs[slabId]!;
      copyBytes(this.scratch, 0, keyBytes, slab, at);
      if (value) slab.set(value, at + keyBytes);
      r.setBlob(id, slabId, at, keyBytes);
      r.clearReserved(id);
      r.setValue(id, valueLength, partition, offset, Math.max(0, timestamp));
      if (value === undefined) {
        r.setDeletion(id, true);
        this.deletionCount++;
      } else this.count++;
      const table = this.target ?? this.table;
      const bucket = this.keyHash & (table.length - 1);
      r.setNext(id, table[bucket]!);
      table[bucket] = id;
      const held = this.count + this.deletionCount;
      if (!this.target && held > this.table.length && held >= 2 * this.growthRefusedAt) this.resize(this.table.length * 2);
    }
    if (this.target) this.rehashStep(REHASH_BUCKETS_PER_WRITE);
  }

  set(key: string, entry: Entry): void {
    this.put(key, entry.value, entry.partition, entry.offset, entry.timestamp);
  }

  /** Removes the key's value or deletion, keeping nothing; whether a value was removed. */
  delete(key: string): boolean {
    this.encode(key);
    const removed = this.unlink(this.table, this.rehashIndex) || (this.target !== undefined ? this.unlink(this.target, 0) : 0);
    const held = this.count + this.deletionCount;
    if (this.target) this.rehashStep(REHASH_BUCKETS_PER_WRITE);
    else if (removed !== 0 && this.table.length > MIN_BUCKETS && held * 8 < this.table.length) this.resize(Math.max(MIN_BUCKETS, 2 ** Math.ceil(Math.log2(held * 2 + 1))));
    return removed === 1;
  }

  /** Number of keys held (deletions not counted). */
  get size(): number {
    return this.count;
  }

  /** Number of deletions held (see markDeleted). */
  get deletions(): number {
    return this.deletionCount;
  }

  /** Bytes the store holds: slabs of keys and values, metadata records and hash index. */
  get approximateBytes(): number {
    return this.budget.usedBytes;
  }

  /** Bytes the store may still take before it refuses entries (StoreFullError). */
  get headroomBytes(): number {
    return this.budget.headroomBytes;
  }

  stats(): StoreStats {
    return {
      entries: this.count,
      deletions: this.deletionCount,
      bytes: this.budget.usedBytes,
      limitBytes: this.budget.limitBytes,
      headroomBytes: this.budget.headroomBytes,
      liveBytes: this.arena.liveBytes,
      freeBytes: this.arena.freeBytes,
      buckets: (this.target?.length ?? 0) + this.table.length,
      rehashing: this.target !== undefined,
    };
  }

  *keys(): IterableIterator<string> {
    const r = this.records;
    for (let id = 1; id < r.end; id++) {
      if (r.isLive(id) && !r.isDeletion(id)) yield this.keyOf(id);
    }
  }

  /** Calls `visit` for every entry, synchronously (the map cannot change meanwhile); `value` is a view valid only during the call. */
  forEach(visit: (key: string, partition: number, value: Buffer) => void): void {
    this.forEachBytes((key, partition, value) => visit(key.toString('utf8'), partition, value));
  }

  /** Like forEach, with the key as its UTF-8 bytes: views into the store, valid only during the call. */
  forEachBytes(visit: (key: Buffer, partition: number, value: Buffer) => void): void {
    const r = this.records;
    const slabs = this.arena.slabs;
    for (let id = 1; id < r.end; id++) {
      if (!r.isLive(id) || r.isDeletion(id)) continue;
      const slab = slabs[r.blobSlab(id)]!;
      const start = r.blobOffset(id);
      const valueStart = start + r.keyLength(id);
      visit(slab.subarray(start, valueStart), r.partition(id), slab.subarray(valueStart, valueStart + r.valueLength(id)));
    }
  }

  /**
   * One step of a Redis-style SCAN: start with cursor 0 and pass back the cursor returned until it is 0 again. Every
   * key present for the whole scan is returned at least once (some may come twice), whatever is written, deleted,
   * grown or shrunk between steps: the cursor walks bucket indexes with their bits reversed, so the buckets already
   * visited are the same set of hash prefixes at any table size, and while a resize is under way a step visits a
   * bucket of the smaller table together with every bucket of the larger one it splits into (Redis's dictScan).
   * A step costs O(count): it stops after about `count` keys or 10 × `count` buckets.
   */
  scan(cursor: number, count = 10): ScanPage {
    const keys: string[] = [];
    let v = cursor >>> 0;
    let visits = Math.max(1, count) * SCAN_VISITS_PER_KEY;
    do {
      if (!this.target) {
        const mask = this.table.length - 1;
        this.collect(this.table[v & mask]!, keys);
        v = nextCursor(v, mask);
      } else {
        const [small, large] = this.table.length <= this.target.length ? [this.table, this.target] : [this.target, this.table];
        const m0 = small.length - 1;
        const m1 = large.length - 1;
        this.collect(small[v & m0]!, keys);
        // Every bucket of the larger table that the smaller one's bucket v & m0 splits into.
        do {
          this.collect(large[v & m1]!, keys);
          v = ((((v | m0) + 1) & ~m0) | (v & m0)) >>> 0;
        } while ((v & (m0 ^ m1)) !== 0);
        v = nextCursor(v, m0);
      }
    } while (v !== 0 && keys.length < count && --visits > 0);
    return { cursor: v, keys };
  }

  private collect(id: number, keys: string[]): void {
    for (; id !== 0; id = this.records.next(id)) if (!this.records.isDeletion(id)) keys.push(this.keyOf(id));
  }

  private keyOf(id: number): string {
    const r = this.records;
    const start = r.blobOffset(id);
    return this.arena.slabs[r.blobSlab(id)]!.toString('utf8', start, start + r.keyLength(id));
  }

  /** The key's entry id, or 0; leaves the key's bytes, length and hash in probe (scratch), keyBytes and keyHash. */
  private find(key: string): number {
    this.encode(key);
    return this.findProbe();
  }

  /** The entry id of the key in probe, keyBytes and keyHash, or 0. */
  private findProbe(): number {
    const hash = this.keyHash;
    const table = this.table;
    const bucket = hash & (table.length - 1);
    if (!this.target || bucket >= this.rehashIndex) {
      const id = this.findInChain(table[bucket]!);
      if (id !== 0 || !this.target) return id;
    }
    return this.findInChain(this.target[hash & (this.target.length - 1)]!);
  }

  private findInChain(id: number): number {
    for (; id !== 0; id = this.records.next(id)) if (this.matches(id)) return id;
    return 0;
  }

  /** Whether entry `id`'s key is the one in probe. */
  private matches(id: number): boolean {
    const r = this.records;
    const length = this.keyBytes;
    if (r.keyLength(id) !== length) return false;
    const slab = this.arena.slabs[r.blobSlab(id)]!;
    const start = r.blobOffset(id);
    const key = this.probe;
    for (let i = 0; i < length; i++) if (slab[start + i] !== key[i]) return false;
    return true;
  }

  /** Removes the scratch key from `table` (looking only at buckets from `from` on) and frees it: 1 a value, 2 a deletion, 0 none. */
  private unlink(table: Uint32Array, from: number): number {
    const bucket = this.keyHash & (table.length - 1);
    if (bucket < from) return 0;
    const r = this.records;
    let previous = 0;
    for (let id = table[bucket]!; id !== 0; previous = id, id = r.next(id)) {
      if (!this.matches(id)) continue;
      if (previous === 0) table[bucket] = r.next(id);
      else r.setNext(previous, r.next(id));
      this.arena.free(r.blobSlab(id), r.blobOffset(id), allocationSize(r.keyLength(id) + r.valueLength(id)));
      const deletion = r.isDeletion(id);
      r.free(id);
      if (deletion) this.deletionCount--;
      else this.count--;
      return deletion ? 2 : 1;
    }
    return 0;
  }

  /** Writes the key's UTF-8 bytes to scratch, makes it the probe, and sets keyBytes and keyHash. */
  private encode(key: string): void {
    const length = key.length;
    if (length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.max(length * 3, this.scratch.length * 2));
    const bytes = this.scratch;
    let n = length;
    for (let i = 0; i < length; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) {
        n = bytes.write(key, 0, 'utf8');
        break;
      }
      bytes[i] = c;
    }
    this.probe = bytes;
    this.keyBytes = n;
    this.keyHash = hashBytes(bytes, 0, n, this.seed);
  }

  private hashOf(id: number): number {
    const r = this.records;
    return hashBytes(this.arena.slabs[r.blobSlab(id)]!, r.blobOffset(id), r.keyLength(id), this.seed);
  }

  /** Starts moving to a table of `buckets` (a power of two); a refusal for memory leaves the table as it is. */
  private resize(buckets: number): void {
    try {
      this.target = this.newTable(buckets);
    } catch (error) {
      if (!(error instanceof StoreFullError)) throw error;
      // A chained table works past one entry per bucket, only slower: keep serving, try again at twice the count.
      this.growthRefusedAt = this.count;
      return;
    }
    this.rehashIndex = 0;
  }

  /** Moves up to `buckets` non-empty buckets (looking at 10 times as many empty ones at most) to the new table. */
  private rehashStep(buckets: number): void {
    const from = this.table;
    const to = this.target!;
    const mask = to.length - 1;
    const r = this.records;
    let emptyVisits = buckets * 10;
    let index = this.rehashIndex;
    while (buckets > 0 && index < from.length) {
      let id = from[index]!;
      if (id === 0) {
        index++;
        if (--emptyVisits === 0) break;
        continue;
      }
      while (id !== 0) {
        const next = r.next(id);
        const bucket = this.hashOf(id) & mask;
        r.setNext(id, to[bucket]!);
        to[bucket] = id;
        id = next;
      }
      from[index++] = 0;
      buckets--;
    }
    this.rehashIndex = index;
    if (index >= from.length) {
      this.budget.release(from.byteLength);
      this.table = to;
      this.target = undefined;
      this.rehashIndex = 0;
    }
  }

  private newTable(buckets: number): Uint32Array {
    return this.budget.allocate(buckets * 4, `a hash index of ${buckets} buckets`, () => new Uint32Array(buckets));
  }
}

/** The reverse-binary increment of a SCAN cursor over a table of mask + 1 buckets. */
function nextCursor(cursor: number, mask: number): number {
  let v = (cursor | ~mask) >>> 0;
  v = reverseBits(v);
  v = (v + 1) >>> 0;
  return reverseBits(v);
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

export { RECORD_BYTES, StoreFullError };
