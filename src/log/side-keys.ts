import { RESERVED_KEY_PREFIX } from './reserved-keys';

/**
 * Side keys (#13): the copy, in a key's canonical partition, of the last record of that key found in another
 * partition (written there by a producer that partitions otherwise, or before partitions were added). Kafka key:
 * RESERVED_KEY_PREFIX, "side", 0x00, the source partition as a 4-byte big-endian number, then the user key's bytes.
 * The record's timestamp is the source record's; headers say which source offset it copies and whether that record
 * was a deletion. A mirrored deletion is a non-null marker (an empty value with SIDE_DELETED_HEADER): a Kafka
 * tombstone under the side key would be cleaned in its turn, and the deletion with it. A node's DEL tombstones the
 * side keys for real (with the source offset they cover), together with the main key.
 */
const SIDE_TAG = Buffer.from('side\x00', 'latin1');
const HEAD_BYTES = RESERVED_KEY_PREFIX.length + SIDE_TAG.length + 4;

/** Header: the offset, in the source partition, of the record a side record copies or (a tombstone) covers. */
export const SOURCE_OFFSET_HEADER = 'bitacora-source-offset';
/** Header: present ("1") on a marker that copies a deletion. */
export const SIDE_DELETED_HEADER = 'bitacora-deleted';

/** The Kafka key of `key`'s side slot for records found in partition `source`. */
export function encodeSideKey(key: Buffer, source: number): Buffer {
  const head = Buffer.alloc(HEAD_BYTES);
  RESERVED_KEY_PREFIX.copy(head, 0);
  SIDE_TAG.copy(head, RESERVED_KEY_PREFIX.length);
  head.writeUInt32BE(source, RESERVED_KEY_PREFIX.length + SIDE_TAG.length);
  return Buffer.concat([head, key]);
}

/** The user key bytes and source partition of a side key, or undefined when `raw` is not one. */
export function decodeSideKey(raw: Buffer): { readonly key: Buffer; readonly source: number } | undefined {
  if (raw.length <= HEAD_BYTES) return undefined;
  if (!raw.subarray(0, RESERVED_KEY_PREFIX.length).equals(RESERVED_KEY_PREFIX)) return undefined;
  if (!raw.subarray(RESERVED_KEY_PREFIX.length, RESERVED_KEY_PREFIX.length + SIDE_TAG.length).equals(SIDE_TAG)) return undefined;
  return { source: raw.readUInt32BE(RESERVED_KEY_PREFIX.length + SIDE_TAG.length), key: raw.subarray(HEAD_BYTES) };
}

/** Kafka record headers as kafkajs hands them over. */
export type RecordHeaders = Readonly<Record<string, Buffer | string | Array<Buffer | string> | undefined>>;

/** What a side record says: the source offset it copies (-1 when it names none) and whether it is a deletion. */
export function readSideHeaders(headers: RecordHeaders | undefined, value: Buffer | null): { readonly sourceOffset: number; readonly deleted: boolean } {
  const offset = Number(headerText(headers?.[SOURCE_OFFSET_HEADER]));
  const sourceOffset = Number.isSafeInteger(offset) && offset >= 0 ? offset : -1;
  return { sourceOffset, deleted: value === null || headerText(headers?.[SIDE_DELETED_HEADER]) === '1' };
}

/** The headers of a side record copying the source record at `sourceOffset` (`deleted`: a marker or a tombstone). */
export function sideHeaders(sourceOffset: number, deleted: boolean): Record<string, string> {
  return deleted ? { [SOURCE_OFFSET_HEADER]: String(sourceOffset), [SIDE_DELETED_HEADER]: '1' } : { [SOURCE_OFFSET_HEADER]: String(sourceOffset) };
}

function headerText(header: Buffer | string | Array<Buffer | string> | undefined): string | undefined {
  const first = Array.isArray(header) ? header[0] : header;
  return first === undefined ? undefined : first.toString();
}
