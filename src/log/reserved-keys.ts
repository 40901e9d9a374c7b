/**
 * Kafka keys that Bitacora writes for itself. They start with 0xff, which never begins valid UTF-8, so no user key
 * (always UTF-8) can collide with one. Other consumers of the topic see them: docs/architecture.md lists their shape.
 */
export const RESERVED_KEY_PREFIX = Buffer.from('\xffbitacora\x00', 'latin1');

/** The control record that pins the key→partition map (see key-partition-pin.ts). */
export const PARTITION_PIN_KEY = Buffer.concat([RESERVED_KEY_PREFIX, Buffer.from('key-partitions', 'latin1')]);

export function isReservedKey(key: Buffer): boolean {
  return key.length >= RESERVED_KEY_PREFIX.length && key.subarray(0, RESERVED_KEY_PREFIX.length).equals(RESERVED_KEY_PREFIX);
}
