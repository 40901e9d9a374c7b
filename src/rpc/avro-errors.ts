import { asBitacoraError, type BitacoraError } from '../errors/bitacora-error';
import { ERROR_CODES } from '../errors/error-codes';
import { AVRO_NAMESPACE } from './avro-protocol';

/**
 * The value avsc expects for an error of a message with declared errors: the declared record of the code's Avro
 * error (src/errors/error-codes.ts), wrapped in its union branch (the union is wrapped because BadInput and
 * Unavailable have the same shape), or a system error (an Error, which travels as the union's string branch).
 */
export function toDeclaredError(error: unknown): Record<string, unknown> | Error {
  const failure = asBitacoraError(error);
  const declared = ERROR_CODES[failure.code].avro;
  if (declared === null || declared === 'system') return toSystemError(failure);
  const record: Record<string, unknown> = { code: failure.code, message: failure.message };
  if (declared === 'Timeout') {
    record.partition = typeof failure.details.partition === 'number' ? { int: failure.details.partition } : null;
    record.offset = typeof failure.details.offset === 'number' ? { long: failure.details.offset } : null;
  }
  return { [`${AVRO_NAMESPACE}.${declared}`]: record };
}

/** For the original messages, which declare no errors: a system error whose text starts with the code. */
export function toSystemError(error: unknown): Error {
  const failure: BitacoraError = asBitacoraError(error);
  return new Error(`${failure.code}: ${failure.message}`);
}
