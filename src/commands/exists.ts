import type { CommandContext, Failure, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import type { Hit, Miss } from './read-key';
import { readMany } from './read-many';

/** How many of the keys asked are present; a key named twice counts twice (as Redis's EXISTS counts). */
export interface Existing {
  readonly kind: 'ok';
  readonly count: number;
}

export type ExistsOutcome = Existing | Failure;

/** EXISTS: how many of the keys are present, with get's rules for each (fan-out on a miss, NOT_READY while loading). */
export function exists(ctx: CommandContext, iface: Interface, keys: readonly (Buffer | undefined)[], startedAt: number): ExistsOutcome | Promise<ExistsOutcome> {
  const closing = closingError(ctx);
  if (closing) return refused(ctx, iface, 'exists', closing, startedAt);
  const settle = (reads: Array<Hit | Miss> | Failure): ExistsOutcome => {
    let count = 0;
    if (Array.isArray(reads)) for (const read of reads) if (read.kind === 'hit') count++;
    return recorded(ctx, iface, 'exists', Array.isArray(reads) ? { kind: 'ok', count } : reads, startedAt);
  };
  const reads = readMany(ctx, 'exists', keys);
  return reads instanceof Promise ? reads.then(settle) : settle(reads);
}
