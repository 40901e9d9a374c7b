import { ERROR_CODES, type ErrorCode } from './error-codes';

/** An error a client sees: a stable code, its HTTP status, a message that says what to change, and optional details. */
export class BitacoraError extends Error {
  override name = 'BitacoraError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
  }

  /** The JSON body of an error answer: `{error: {code, message, ...details}}`. */
  toJSON(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** Any thrown value as a BitacoraError; unknown errors become INTERNAL without leaking their text. */
export function asBitacoraError(error: unknown): BitacoraError {
  if (error instanceof BitacoraError) return error;
  return new BitacoraError('INTERNAL', 'internal error; see the node log');
}
