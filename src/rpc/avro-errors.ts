import { asBitacoraError, type BitacoraError } from '../errors/bitacora-error';
import type { ErrorCode } from '../errors/error-codes';
import { AVRO_NAMESPACE } from './avro-protocol';

/** The protocol's declared errors, and which error codes each one carries. */
export const AVRO_ERROR_OF: Readonly<Record<ErrorCode, 'BadInput' | 'Unavailable' | 'Timeout' | undefined>> = {
  KEY_MISSING: 'BadInput',
  KEY_INVALID: 'BadInput',
  KEY_TOO_LARGE: 'BadInput',
  TOO_MANY_KEYS: 'BadInput',
  VALUE_MISSING: 'BadInput',
  VALUE_AMBIGUOUS: 'BadInput',
  VALUE_TOO_LARGE: 'BadInput',
  BAD_ENCODING: 'BadInput',
  BAD_REQUEST: 'BadInput',
  NOT_READY: 'Unavailable',
  KAFKA_UNAVAILABLE: 'Unavailable',
  SHUTTING_DOWN: 'Unavailable',
  APPLY_TIMEOUT: 'Timeout',
  // These never reach an Avro client as such: absence is a null, routes and methods are HTTP's.
  NOT_FOUND: undefined,
  ROUTE_NOT_FOUND: undefined,
  METHOD_NOT_ALLOWED: undefined,
  // Refused at the handshake, before any message (docs/api.md, "Access").
  UNAUTHORIZED: undefined,
  INTERNAL: undefined,
};

/**
 * The value avsc expects for an error of a message with declared errors: the declared record, wrapped in its union
 * branch (the union is wrapped because BadInput and Unavailable have the same shape), or a system error (an Error,
 * which travels as the union's string branch) for anything else.
 */
export function toDeclaredError(error: unknown): Record<string, unknown> | Error {
  const failure = asBitacoraError(error);
  const declared = AVRO_ERROR_OF[failure.code];
  if (!declared) return toSystemError(failure);
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
