import type { CommandContext, Failure, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import type { Hit, Miss } from './read-key';
import { readMany } from './read-many';

/** Each key's read, in the order asked. */
export interface MultiRead {
  readonly kind: 'ok';
  readonly reads: ReadonlyArray<Hit | Miss>;
}

export type MultiReadOutcome = MultiRead | Failure;

/** MGET: several keys at once (at most MAX_KEYS_PER_COMMAND); a miss is an answer, a bad key fails the whole command. */
export function mget(ctx: CommandContext, iface: Interface, keys: readonly (Buffer | undefined)[], startedAt: number): MultiReadOutcome | Promise<MultiReadOutcome> {
  const closing = closingError(ctx);
  if (closing) return refused(ctx, iface, 'multiget', closing, startedAt);
  const settle = (reads: Array<Hit | Miss> | Failure): MultiReadOutcome =>
    recorded(ctx, iface, 'multiget', Array.isArray(reads) ? { kind: 'ok', reads } : reads, startedAt);
  const reads = readMany(ctx, 'mget', keys);
  return reads instanceof Promise ? reads.then(settle) : settle(reads);
}
