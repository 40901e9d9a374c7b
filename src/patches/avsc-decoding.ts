import { isUtf8 } from 'node:buffer';
import { types as avroTypes } from 'avsc';

/** The avsc version these patches were written for and checked against (test/unit/patches.test.ts). */
export const AVSC_PATCHED_VERSION = '5.7.9';

/**
 * Patch 1, bounded blocks. avsc reads an Avro array or map block by looping over the block's declared item count, without checking it
 * against the bytes left. A peer can declare billions of items in a few bytes, and the read spins synchronously
 * for minutes: the whole node stops (found by the socket fuzz test). This guard refuses a block whose count exceeds
 * the bytes left, which no valid encoding can have when each item takes at least one byte (true of every type
 * except null). The error it throws is one avsc already handles: the call is answered INVALID_REQUEST.
 */

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}

interface ItemType {
  _read(tap: Tap): unknown;
  typeName?: string;
}

type Prototype = { _read(this: { itemsType?: ItemType; valuesType?: ItemType }, tap: Tap): unknown; __bitacoraGuarded?: boolean };

/** The declared size of the next block, refused when it cannot fit in what is left of the buffer. */
function readBlockCount(tap: Tap, itemType: ItemType): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong(); // the block's size in bytes
  }
  if (n > tap.buf.length - tap.pos && itemType.typeName !== 'null') {
    throw new Error(`an Avro block declares ${n} items but only ${Math.max(0, tap.buf.length - tap.pos)} bytes follow`);
  }
  return n;
}

/**
 * Applies both decoding patches to avsc's types, process-wide (avsc's types are shared); idempotent. Called by the
 * code that builds a Bitacora Avro service (src/rpc/avro-protocol.ts), never at import time.
 */
export function patchAvscDecoding(): void {
  const arrayProto = (avroTypes.ArrayType as unknown as { prototype: Prototype }).prototype;
  const mapProto = (avroTypes.MapType as unknown as { prototype: Prototype }).prototype;
  if (arrayProto.__bitacoraGuarded) return;
  arrayProto._read = function boundedArrayRead(tap: Tap): unknown[] {
    const items = this.itemsType!;
    const values: unknown[] = [];
    let n: number;
    while ((n = readBlockCount(tap, items))) while (n--) values.push(items._read(tap));
    return values;
  };
  mapProto._read = function boundedMapRead(tap: Tap): Record<string, unknown> {
    const values = this.valuesType!;
    const map: Record<string, unknown> = {};
    let n: number;
    // A map entry is a key (at least its length byte) and a value: never under one byte.
    while ((n = readBlockCount(tap, { _read: values._read, typeName: 'map-entry' }))) {
      while (n--) {
        const key = tap.readString();
        map[key] = values._read(tap);
      }
    }
    return map;
  };
  arrayProto.__bitacoraGuarded = true;
  mapProto.__bitacoraGuarded = true;
  markNonUtf8Strings();
}

/**
 * Marks a string whose bytes are not UTF-8. A lone low surrogate cannot start the decoding of any valid UTF-8, so
 * the mark is unambiguous; the bytes follow it as latin1, one char per byte.
 */
const NOT_UTF8 = '\udc00';

/** The bytes a string field carried on the wire, as sent (UTF-8 or not): what request fields are validated on. */
export function stringBytes(text: string): Buffer {
  return text.startsWith(NOT_UTF8) ? Buffer.from(text.slice(1), 'latin1') : Buffer.from(text, 'utf8');
}

/**
 * Patch 2, strings as sent. avsc decodes an Avro string with replacement characters, so a key that is not UTF-8 (FF FE) turned into another
 * key ("\uFFFD\uFFFD") and was stored, where HTTP refuses it with KEY_INVALID (found by the socket fuzz test).
 * Strings whose bytes are not UTF-8 are read as the marked bytes instead, so stringBytes() hands them as sent to the
 * same validation as HTTP's. Valid strings cost one scan for U+FFFD.
 */
function markNonUtf8Strings(): void {
  const stringProto = (avroTypes.StringType as unknown as { prototype: { _read(tap: Tap): string | undefined } }).prototype;
  const lossyRead = stringProto._read;
  stringProto._read = function markedStringRead(tap: Tap): string | undefined {
    const start = tap.pos;
    const text = lossyRead.call(this, tap);
    if (text === undefined || !text.includes('\ufffd')) return text;
    const end = tap.pos;
    tap.pos = start;
    const length = tap.readLong();
    tap.pos = end;
    const bytes = tap.buf.subarray(end - length, end);
    return isUtf8(bytes) ? text : NOT_UTF8 + bytes.toString('latin1');
  };
}
