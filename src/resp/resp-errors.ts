import { asBitacoraError } from '../errors/bitacora-error';
import type { ErrorCode } from '../errors/error-codes';
import { error, type Reply } from './reply';

/**
 * The first word of the RESP error line for each catalogue code that a command can meet (Redis's own words where
 * Redis has one: LOADING while the dataset loads, TRYAGAIN for a retriable refusal). Issue #15's catalogue
 * carries this as ERROR_CODES[code].resp; this table goes when that lands.
 */
const RESP_PREFIX: Partial<Record<ErrorCode, string>> = {
  NOT_READY: 'LOADING',
  KAFKA_UNAVAILABLE: 'TRYAGAIN',
  SHUTTING_DOWN: 'TRYAGAIN',
  APPLY_TIMEOUT: 'TIMEOUT',
  UNAUTHORIZED: 'NOAUTH',
};

/** Messages whose HTTP wording ("pass it as ?key=K") means nothing to a Redis client. */
const RESP_MESSAGES: Partial<Record<ErrorCode, string>> = {
  KEY_MISSING: 'the key is empty: Bitacora keys are 1 to MAX_KEY_BYTES bytes',
  KEY_INVALID: 'the key is not valid UTF-8: Bitacora keys are UTF-8 text (binary values are fine)',
};

/** A thrown error as a Redis error reply: `<PREFIX> <CODE> <message>`, the code being the catalogue's, as over HTTP. */
export function errorReply(thrown: unknown): Reply {
  const failure = asBitacoraError(thrown);
  const prefix = RESP_PREFIX[failure.code] ?? 'ERR';
  return error(`${prefix} ${failure.code} ${RESP_MESSAGES[failure.code] ?? failure.message}`);
}

/** The HTTP status a thrown error stands for (the status label of bitacora_requests_total). */
export function statusOfThrown(thrown: unknown): number {
  return asBitacoraError(thrown).status;
}

// Redis's own wording, which clients and scripts match on.
export const redisErrors = {
  unknownCommand: (name: Buffer, args: readonly Buffer[]): Reply => {
    const shown = args
      .slice(0, 32)
      .map((a) => `'${printable(a, 128)}' `)
      .join('');
    return error(`ERR unknown command '${printable(name, 128)}', with args beginning with: ${shown}`);
  },
  wrongArity: (name: string): Reply => error(`ERR wrong number of arguments for '${name}' command`),
  syntax: (): Reply => error('ERR syntax error'),
  notInteger: (): Reply => error('ERR value is not an integer or out of range'),
  noAuth: (): Reply => error('NOAUTH Authentication required.'),
  wrongPass: (): Reply => error('WRONGPASS invalid username-password pair or user is disabled.'),
  unknownSubcommand: (command: string, sub: Buffer): Reply => error(`ERR unknown subcommand '${printable(sub, 128)}'. Try ${command.toUpperCase()} HELP.`),
};

/** An argument as Redis echoes it in an error: at most `max` bytes, control characters and quotes made harmless. */
function printable(arg: Buffer, max: number): string {
  return arg
    .subarray(0, max)
    .toString('latin1')
    .replace(/[^\x20-\x7e]|'/g, ' ');
}
