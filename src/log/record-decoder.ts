import { isReservedKey } from './reserved-keys';
import { decodeSideKey, readSideHeaders, type RecordHeaders } from './side-keys';

// ignoreBOM: a leading U+FEFF is part of the key (the HTTP and Avro sides keep it too), never stripped into another key.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why a record from the topic was not applied; each reason is counted. */
/** `null_key` covers empty keys too (Kafka itself refuses null keys on a compacted topic). */
export type SkipReason = 'null_key' | 'invalid_key' | 'key_too_large' | 'value_too_large';

export type DecodedRecord =
  | { readonly kind: 'set'; readonly key: string; readonly value: Buffer }
  | { readonly kind: 'delete'; readonly key: string }
  /** A record Bitacora wrote for itself under a reserved key (the key→partition pin, or a side key it cannot hold): no user key. */
  | { readonly kind: 'internal' }
  /** A side record (side-keys.ts): the copy of partition `source`'s record of `key` at `sourceOffset`; value null: a deletion. */
  | { readonly kind: 'side'; readonly key: string; readonly keyBytes: Buffer; readonly source: number; readonly sourceOffset: number; readonly value: Buffer | null }
  | { readonly kind: 'skip'; readonly reason: SkipReason; readonly key?: string };

/**
 * Turns a Kafka record into a map operation. Keys are UTF-8 strings; values are opaque bytes and a null value is a
 * tombstone. Records any producer could write but the node cannot hold are skipped, never fatal. A value over the
 * limit still names its key, so the caller can drop the older value that this record superseded.
 */
export function decodeRecord(
  key: Buffer | null,
  value: Buffer | null,
  limits: { readonly maxKeyBytes: number; readonly maxValueBytes: number },
  headers?: RecordHeaders,
): DecodedRecord {
  if (key === null || key.length === 0) return { kind: 'skip', reason: 'null_key' };
  if (isReservedKey(key)) return decodeSide(key, value, limits, headers);
  if (key.length > limits.maxKeyBytes) return { kind: 'skip', reason: 'key_too_large' };
  const text = userKey(key);
  if (text === undefined) return { kind: 'skip', reason: 'invalid_key' };
  if (value === null) return { kind: 'delete', key: text };
  if (value.length > limits.maxValueBytes) return { kind: 'skip', reason: 'value_too_large', key: text };
  return { kind: 'set', key: text, value };
}

function userKey(key: Buffer): string | undefined {
  try {
    return utf8.decode(key);
  } catch {
    return undefined;
  }
}

/**
 * A side record of a key a node could hold; anything else under the reserved prefix is internal. A copied value
 * over the limit is a deletion, as in its source partition (the node would have skipped it there too).
 */
function decodeSide(
  raw: Buffer,
  value: Buffer | null,
  limits: { readonly maxKeyBytes: number; readonly maxValueBytes: number },
  headers: RecordHeaders | undefined,
): DecodedRecord {
  const side = decodeSideKey(raw);
  if (!side || side.key.length > limits.maxKeyBytes) return { kind: 'internal' };
  const key = userKey(side.key);
  if (key === undefined) return { kind: 'internal' };
  const { sourceOffset, deleted } = readSideHeaders(headers, value);
  const held = deleted || value === null || value.length > limits.maxValueBytes ? null : value;
  return { kind: 'side', key, keyBytes: side.key, source: side.source, sourceOffset, value: held };
}
