import { asBitacoraError } from '../errors/bitacora-error';
import { ERROR_CODES } from '../errors/error-codes';
import { error, type Reply } from './reply';

/** A thrown error as a Redis error reply: `<PREFIX> <CODE>: <message>` (docs/api.md, "Errors"), the code being the catalogue's, as over HTTP. */
export function errorReply(thrown: unknown): Reply {
  const failure = asBitacoraError(thrown);
  // The catalogue's RESP word: Redis's own where Redis has one (LOADING while loading, TRYAGAIN for a retriable refusal).
  const prefix = ERROR_CODES[failure.code].resp ?? 'ERR';
  return error(`${prefix} ${failure.code}: ${failure.message}`);
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
