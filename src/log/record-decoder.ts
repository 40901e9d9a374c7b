import { isReservedKey } from './reserved-keys';

// ignoreBOM: a leading U+FEFF is part of the key (the HTTP and Avro sides keep it too), never stripped into another key.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why a record from the topic was not applied; each reason is counted. */
/** `null_key` covers empty keys too (Kafka itself refuses null keys on a compacted topic). */
export type SkipReason = 'null_key' | 'invalid_key' | 'key_too_large' | 'value_too_large';

export type DecodedRecord =
  | { readonly kind: 'set'; readonly key: string; readonly value: Buffer }
  | { readonly kind: 'delete'; readonly key: string }
  /** A record Bitacora wrote for itself under a reserved key (the key→partition pin): no user key. */
  | { readonly kind: 'internal' }
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
): DecodedRecord {
  if (key === null || key.length === 0) return { kind: 'skip', reason: 'null_key' };
  if (isReservedKey(key)) return { kind: 'internal' };
  if (key.length > limits.maxKeyBytes) return { kind: 'skip', reason: 'key_too_large' };
  let text: string;
  try {
    text = utf8.decode(key);
  } catch {
    return { kind: 'skip', reason: 'invalid_key' };
  }
  if (value === null) return { kind: 'delete', key: text };
  if (value.length > limits.maxValueBytes) return { kind: 'skip', reason: 'value_too_large', key: text };
  return { kind: 'set', key: text, value };
}
