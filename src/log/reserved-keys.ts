/**
 * Kafka keys that Bitacora writes for itself. They start with 0xff, which never begins valid UTF-8, so no user key
 * (always UTF-8) can collide with one. Other consumers of the topic see them: docs/architecture.md lists their shape.
 */
export const RESERVED_KEY_PREFIX = Buffer.from('\xffbitacora\x00', 'latin1');

/** The control record that pins the key→partition map (see key-partition-pin.ts). */
export const PARTITION_PIN_KEY = Buffer.concat([RESERVED_KEY_PREFIX, Buffer.from('key-partitions', 'latin1')]);

/** Checked for every record applied: the first byte rules out user keys before any comparison (no view, no call). */
export function isReservedKey(key: Buffer): boolean {
  const prefix = RESERVED_KEY_PREFIX;
  if (key.length < prefix.length || key[0] !== prefix[0]) return false;
  for (let i = 1; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
