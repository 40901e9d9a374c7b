import type { Entry } from '../src/store/entry';

/**
 * Each entry is one flat one-byte (Latin-1) string: a 14-byte header, then the value's bytes, one byte per char.
 *
 *   partition:uint16  offset:uint48  timestamp:uint48  value:bytes
 *
 * A Map<string, string> entry then costs the key, the value, two string headers and the map's slot, with no
 * Buffer object (about 80 bytes of heap each) and no metadata object per key: the benchmark's memory target is
 * about 100 bytes per entry above the key and value. Latin-1 round-trips every byte exactly.
 */
const HEADER_BYTES = 14;

/** Rough bytes per entry beyond its key and value: two string headers, the packed header, a map slot. */
const ENTRY_OVERHEAD_BYTES = 16 + 16 + HEADER_BYTES + 40;

/**
 * The store nodes used before the slab store (src/store/entry-store.ts), kept as it was for the benchmark's
 * side-by-side memory and pause figures: one Map<string, string>, capped by V8 at 2^24 entries.
 */
export class MapStore {
  private readonly entries = new Map<string, string>();
  private bytes = 0;

  get(key: string): Entry | undefined {
    const packed = this.entries.get(key);
    return packed === undefined ? undefined : unpack(packed);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Stores a value (copied) with the position of the record that wrote it. */
  put(key: string, value: Buffer, partition: number, offset: number, timestamp: number): void {
    const packed = pack(value, partition, offset, timestamp);
    const previous = this.entries.get(key);
    if (previous !== undefined) this.bytes -= weigh(key, previous);
    this.entries.set(key, packed);
    this.bytes += weigh(key, packed);
  }

  set(key: string, entry: Entry): void {
    this.put(key, entry.value, entry.partition, entry.offset, entry.timestamp);
  }

  delete(key: string): boolean {
    const previous = this.entries.get(key);
    if (previous === undefined) return false;
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

  /** Calls `visit` for every entry, synchronously (the map cannot change meanwhile); `value` is a view valid only during the call. */
  forEach(visit: (key: string, partition: number, value: Buffer) => void): void {
    for (const [key, packed] of this.entries) {
      const buf = Buffer.from(packed, 'latin1');
      visit(key, buf.readUInt16BE(0), buf.subarray(HEADER_BYTES));
    }
  }
}

function pack(value: Buffer, partition: number, offset: number, timestamp: number): string {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + value.length);
  buf.writeUInt16BE(partition, 0);
  buf.writeUIntBE(offset, 2, 6);
  buf.writeUIntBE(Math.max(0, timestamp), 8, 6);
  value.copy(buf, HEADER_BYTES);
  return buf.toString('latin1');
}

function unpack(packed: string): Entry {
  const buf = Buffer.from(packed, 'latin1');
  return {
    partition: buf.readUInt16BE(0),
    offset: buf.readUIntBE(2, 6),
    timestamp: buf.readUIntBE(8, 6),
    value: buf.subarray(HEADER_BYTES),
  };
}

function weigh(key: string, packed: string): number {
  // A key of non-Latin-1 text takes two bytes a char; one-byte is the common case.
  return key.length + packed.length - HEADER_BYTES + ENTRY_OVERHEAD_BYTES;
}
