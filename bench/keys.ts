/** Every benchmark key is this many bytes of ASCII, so HTTP, Redis and Kafka all carry the same sizes. */
export const KEY_BYTES = 16;
/** Every benchmark value is this many bytes of ASCII letters and digits (nothing to percent-encode). */
export const VALUE_BYTES = 100;

const VALUE_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The key `index` of a key space: `prefix` then the index zero-padded to KEY_BYTES, e.g. r000000000000042. */
export function benchKey(prefix: string, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`a key index is a whole number >= 0, got ${index}`);
  const digits = String(index);
  const width = KEY_BYTES - prefix.length;
  if (digits.length > width) throw new RangeError(`index ${index} does not fit a ${KEY_BYTES}-byte key with prefix "${prefix}"`);
  return prefix + digits.padStart(width, '0');
}

/**
 * A VALUE_BYTES value derived from `key` and `tag`, so a read can tell which write it sees, and different keys
 * hold different bytes (no value is shared).
 */
export function benchValue(key: string, tag = ''): string {
  const head = `${tag}${key}`;
  let out = head.slice(0, VALUE_BYTES);
  let seed = 0;
  for (let i = 0; i < head.length; i++) seed = (seed * 31 + head.charCodeAt(i)) >>> 0;
  while (out.length < VALUE_BYTES) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out += VALUE_ALPHABET[seed % VALUE_ALPHABET.length];
  }
  return out;
}
