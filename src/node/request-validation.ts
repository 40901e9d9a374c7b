import { BitacoraError } from '../errors/bitacora-error';

// ignoreBOM: a leading U+FEFF is part of the key. Stripped, "\uFEFFk" would alias "k" while its record went to another partition.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface Limits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

/** A key as bytes (from a query string or an Avro message), validated: present, within MAX_KEY_BYTES, UTF-8. */
export function validateKey(raw: Buffer | undefined, limits: Limits): { key: string; bytes: Buffer } {
  if (raw === undefined || raw.length === 0) {
    throw new BitacoraError('KEY_MISSING', 'the key is missing or empty: pass it as ?key=K');
  }
  if (raw.length > limits.maxKeyBytes) {
    throw new BitacoraError('KEY_TOO_LARGE', `the key is ${raw.length} bytes, over MAX_KEY_BYTES (${limits.maxKeyBytes}): use a shorter key`, {
      limit: limits.maxKeyBytes,
      size: raw.length,
    });
  }
  try {
    return { key: utf8.decode(raw), bytes: raw };
  } catch {
    throw new BitacoraError('KEY_INVALID', 'the key is not valid UTF-8: keys are text; percent-encode its UTF-8 bytes');
  }
}

/** A value's size against MAX_VALUE_BYTES. */
export function validateValue(value: Buffer, limits: Limits): Buffer {
  if (value.length > limits.maxValueBytes) {
    throw valueTooLarge(value.length, limits);
  }
  return value;
}

export function valueTooLarge(size: number, limits: Limits): BitacoraError {
  return new BitacoraError('VALUE_TOO_LARGE', `the value is ${size} bytes, over MAX_VALUE_BYTES (${limits.maxValueBytes}): store a smaller value`, {
    limit: limits.maxValueBytes,
    size,
  });
}
