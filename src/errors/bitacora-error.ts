import { ERROR_CODES, type ErrorCode, type ExitCode, statusOf } from './error-codes';

/** An error of the catalogue: a stable code, a message that says what to change, and optional details. */
export class BitacoraError<C extends ErrorCode = ErrorCode> extends Error {
  override name = 'BitacoraError';

  constructor(
    readonly code: C,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The HTTP status the code answers with. */
  get status(): number {
    return statusOf(this.code);
  }

  /** The CLI exit code the code ends a command with. */
  get exitCode(): ExitCode {
    return ERROR_CODES[this.code].exit;
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

/**
 * The RESP error line of an error (Redis style, CRLF included): `-LOADING NOT_READY: this node is still loading…`.
 * The first word is the catalogue's RESP kind, so Redis clients that branch on LOADING, NOAUTH or TRYAGAIN can.
 */
export function respErrorLine(error: BitacoraError): string {
  const kind = ERROR_CODES[error.code].resp ?? 'ERR';
  return `-${kind} ${error.code}: ${error.message.replace(/[\r\n]+/g, ' ')}\r\n`;
}
