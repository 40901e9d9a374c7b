import type { CommandContext, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import { type ReadOutcome, readKey } from './read-key';

/** GET: a key's value and the record that wrote it; synchronous on a local hit. */
export function get(ctx: CommandContext, iface: Interface, key: Buffer | undefined, startedAt: number): ReadOutcome | Promise<ReadOutcome> {
  const closing = closingError(ctx);
  if (closing) return refused(ctx, iface, 'get', closing, startedAt);
  const outcome = readKey(ctx, key);
  if (outcome instanceof Promise) return outcome.then((settled) => recorded(ctx, iface, 'get', settled, startedAt));
  return recorded(ctx, iface, 'get', outcome, startedAt);
}
