import { asBitacoraError, BitacoraError } from '../errors/bitacora-error';
import { outcomeOf } from '../errors/error-codes';
import { type CommandContext, failure, type Failure, type Interface } from './command-context';

/** Counts `result` as `operation`: `hit`/`ok` as ok, `miss` as not_found, an error by its code; returns it unchanged. */
export function recorded<T extends { readonly kind: string }>(ctx: CommandContext, iface: Interface, operation: string, result: T, startedAt: number): T {
  const recorder = ctx.recorder;
  if (recorder) {
    const kind = result.kind;
    const outcome = kind === 'error' ? outcomeOf((result as unknown as Failure).error.code) : kind === 'miss' ? 'not_found' : 'ok';
    recorder.record(iface, operation, outcome, startedAt);
  }
  return result;
}

/** A failure counted as `operation`. */
export function refused(ctx: CommandContext, iface: Interface, operation: string, error: unknown, startedAt: number): Failure {
  return recorded(ctx, iface, operation, failure(asBitacoraError(error)), startedAt);
}

/** SHUTTING_DOWN once the node is closing, else undefined. */
export function closingError(ctx: CommandContext): BitacoraError | undefined {
  if (!ctx.closing) return undefined;
  return new BitacoraError('SHUTTING_DOWN', 'this node is stopping and takes no new requests: send it to another node');
}
