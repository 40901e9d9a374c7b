import type { MemoryBudget } from './memory-budget';

/**
 * Every entry's fixed-width metadata: one 48-byte record, in chunks of 65,536 records (3 MiB) outside the JS heap,
 * addressed by a 32-bit entry id (0 means none). A chunk has two views, 32-bit words and 16-bit halves:
 *
 *   bytes  field                      today
 *    0- 3  next (u32)                 the next entry id in its hash bucket's chain, or in the free list
 *    4- 7  blob offset (u32)          where key bytes then value bytes start in their slab
 *    8- 9  blob slab (u16)            which slab
 *   10-11  partition (u16)
 *   12-15  key length (24 bits) | flags (8 bits: bit 0 = live, bit 1 = deletion: no value, the tombstone's position)
 *   16-19  value length (u32)
 *   20-23  Kafka offset, low 32 bits
 *   24-25  Kafka offset, high 16 bits (offsets up to 2^48)
 *   26-27  timestamp, high 16 bits
 *   28-31  timestamp (ms since the epoch), low 32 bits
 *   32-35  version, low 32 bits             reserved (conditional writes): zero today
 *   36-37  version, high 16 bits            reserved
 *   38-39  expiry deadline, high 16 bits    reserved (expiry: ms since the epoch, 0 = none)
 *   40-43  expiry deadline, low 32 bits     reserved
 *   44-47  recency (u32)                    reserved (eviction: an LRU clock and an LFU counter, as Redis keeps)
 *
 * Adding a version, a deadline or recency bits fills reserved fields: no new layout, no migration.
 */
export const RECORD_BYTES = 48;
const WORDS = RECORD_BYTES / 4;
const HALVES = RECORD_BYTES / 2;
const CHUNK_SHIFT = 16;
const CHUNK_RECORDS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_RECORDS - 1;

// 32-bit word indices within a record.
const NEXT = 0;
const BLOB_OFFSET = 1;
const KEY_LENGTH_FLAGS = 3;
const VALUE_LENGTH = 4;
const OFFSET_LOW = 5;
const TIMESTAMP_LOW = 7;
// 16-bit half indices within a record.
const BLOB_SLAB = 4;
const PARTITION = 5;
const OFFSET_HIGH = 12;
const TIMESTAMP_HIGH = 13;

const LIVE = 1 << 24;
/** A deletion: the key's last record was a tombstone; the record keeps its position and timestamp, and no value. */
const DELETION = 1 << 25;
const KEY_LENGTH_MASK = 0xffffff;
/** Longest key a record can describe. */
export const MAX_RECORD_KEY_BYTES = KEY_LENGTH_MASK;
const TWO_32 = 2 ** 32;

/** The records, with an id free list threaded through `next`. Ids start at 1. */
export class EntryRecords {
  private readonly words: Uint32Array[] = [];
  private readonly halves: Uint16Array[] = [];
  private freeHead = 0;
  /** One past the highest id ever handed out: iteration goes from 1 to here. */
  end = 1;

  constructor(private readonly budget: MemoryBudget) {}

  /** A fresh record id (its fields are stale: set every one); may throw StoreFullError for a new chunk. */
  allocate(): number {
    if (this.freeHead !== 0) {
      const id = this.freeHead;
      this.freeHead = this.next(id);
      return id;
    }
    if (this.end >>> CHUNK_SHIFT >= this.words.length) {
      if (this.end >= 0xffffffff) this.budget.refuse(RECORD_BYTES, 'an entry record (the store has 2^32 - 1 of them)');
      const buffer = this.budget.allocate(CHUNK_RECORDS * RECORD_BYTES, 'a chunk of entry records', () => new ArrayBuffer(CHUNK_RECORDS * RECORD_BYTES));
      this.words.push(new Uint32Array(buffer));
      this.halves.push(new Uint16Array(buffer));
    }
    return this.end++;
  }

  /** Marks a record free and puts its id on the free list. */
  free(id: number): void {
    this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + KEY_LENGTH_FLAGS] = 0;
    this.setNext(id, this.freeHead);
    this.freeHead = id;
  }

  isLive(id: number): boolean {
    return (this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + KEY_LENGTH_FLAGS]! & LIVE) !== 0;
  }

  /** Whether a live record is a deletion rather than a value. */
  isDeletion(id: number): boolean {
    return (this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + KEY_LENGTH_FLAGS]! & DELETION) !== 0;
  }

  /** Marks a live record as a deletion (true) or a value (false); setBlob clears the mark too. */
  setDeletion(id: number, deletion: boolean): void {
    const words = this.words[id >>> CHUNK_SHIFT]!;
    const at = (id & CHUNK_MASK) * WORDS + KEY_LENGTH_FLAGS;
    words[at] = deletion ? words[at]! | DELETION : words[at]! & ~DELETION;
  }

  next(id: number): number {
    return this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + NEXT]!;
  }

  setNext(id: number, next: number): void {
    this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + NEXT] = next;
  }

  keyLength(id: number): number {
    return this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + KEY_LENGTH_FLAGS]! & KEY_LENGTH_MASK;
  }

  valueLength(id: number): number {
    return this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + VALUE_LENGTH]!;
  }

  blobSlab(id: number): number {
    return this.halves[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * HALVES + BLOB_SLAB]!;
  }

  blobOffset(id: number): number {
    return this.words[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * WORDS + BLOB_OFFSET]!;
  }

  partition(id: number): number {
    return this.halves[id >>> CHUNK_SHIFT]![(id & CHUNK_MASK) * HALVES + PARTITION]!;
  }

  offset(id: number): number {
    const base = (id & CHUNK_MASK) * WORDS;
    return this.halves[id >>> CHUNK_SHIFT]![base * 2 + OFFSET_HIGH]! * TWO_32 + this.words[id >>> CHUNK_SHIFT]![base + OFFSET_LOW]!;
  }

  timestamp(id: number): number {
    const base = (id & CHUNK_MASK) * WORDS;
    return this.halves[id >>> CHUNK_SHIFT]![base * 2 + TIMESTAMP_HIGH]! * TWO_32 + this.words[id >>> CHUNK_SHIFT]![base + TIMESTAMP_LOW]!;
  }

  /** Where the key and value live (a new record, or an entry whose blob moved). Sets the live flag and clears the deletion flag. */
  setBlob(id: number, slab: number, offset: number, keyLength: number): void {
    const words = this.words[id >>> CHUNK_SHIFT]!;
    const base = (id & CHUNK_MASK) * WORDS;
    words[base + BLOB_OFFSET] = offset;
    words[base + KEY_LENGTH_FLAGS] = keyLength | LIVE;
    this.halves[id >>> CHUNK_SHIFT]![base * 2 + BLOB_SLAB] = slab;
  }

  /** Clears the reserved fields (a record taken from the free list keeps its previous holder's). */
  clearReserved(id: number): void {
    const base = (id & CHUNK_MASK) * WORDS;
    this.words[id >>> CHUNK_SHIFT]!.fill(0, base + 8, base + WORDS);
  }

  /** The value's length and the position of the record that wrote it; offsets and timestamps up to 2^48. */
  setValue(id: number, valueLength: number, partition: number, offset: number, timestamp: number): void {
    const words = this.words[id >>> CHUNK_SHIFT]!;
    const halves = this.halves[id >>> CHUNK_SHIFT]!;
    const base = (id & CHUNK_MASK) * WORDS;
    words[base + VALUE_LENGTH] = valueLength;
    words[base + OFFSET_LOW] = offset >>> 0;
    halves[base * 2 + OFFSET_HIGH] = Math.floor(offset / TWO_32);
    words[base + TIMESTAMP_LOW] = timestamp >>> 0;
    halves[base * 2 + TIMESTAMP_HIGH] = Math.floor(timestamp / TWO_32);
    halves[base * 2 + PARTITION] = partition;
  }
}
