import { BitacoraError } from '../errors/bitacora-error';
import type { Limits } from './command-context';

// ignoreBOM: a leading U+FEFF is part of the key. Stripped, "\uFEFFk" would alias "k" while its record went to another partition.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A key as bytes (from a query string, an Avro message or a RESP bulk string), decoded: present, within
 * MAX_KEY_BYTES, UTF-8. Returns the error rather than throwing it, so the hot path never unwinds.
 */
export function decodeKey(raw: Buffer | undefined, limits: Limits): string | BitacoraError {
  if (raw === undefined || raw.length === 0) {
    return new BitacoraError('KEY_MISSING', 'the key is missing or empty: give a key of 1 to MAX_KEY_BYTES bytes');
  }
  if (raw.length > limits.maxKeyBytes) {
    return new BitacoraError('KEY_TOO_LARGE', `the key is ${raw.length} bytes, over MAX_KEY_BYTES (${limits.maxKeyBytes}): use a shorter key`, {
      limit: limits.maxKeyBytes,
      size: raw.length,
    });
  }
  try {
    return utf8.decode(raw);
  } catch {
    return new BitacoraError('KEY_INVALID', 'the key is not valid UTF-8: keys are text; send its UTF-8 bytes');
  }
}

/** A value's size against MAX_VALUE_BYTES: the error, or undefined when it fits. */
export function checkValue(value: Buffer, limits: Limits): BitacoraError | undefined {
  return value.length > limits.maxValueBytes ? valueTooLarge(value.length, limits) : undefined;
}

export function valueTooLarge(size: number, limits: Limits): BitacoraError {
  return new BitacoraError('VALUE_TOO_LARGE', `the value is ${size} bytes, over MAX_VALUE_BYTES (${limits.maxValueBytes}): store a smaller value`, {
    limit: limits.maxValueBytes,
    size,
  });
}

/** Most keys one multi-key command (mget, mset, exists) may name. */
export const MAX_KEYS_PER_COMMAND = 1_000;

/** TOO_MANY_KEYS when `count` is over MAX_KEYS_PER_COMMAND, else undefined. */
export function checkKeyCount(command: string, count: number): BitacoraError | undefined {
  if (count <= MAX_KEYS_PER_COMMAND) return undefined;
  return new BitacoraError('TOO_MANY_KEYS', `${command} names ${count} keys; name at most ${MAX_KEYS_PER_COMMAND} at once`, {
    limit: MAX_KEYS_PER_COMMAND,
    size: count,
  });
}
