import type { Entry } from '../store/entry';
import { type CommandContext, failure, type Failure, type Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import { decodeKey } from './key-validation';

/**
 * What this node holds of a key, from its own map only, with its applied position on the key's partition: the
 * peer lookup behind fan-out (src/cluster/peer-lookup.ts carries it over the wire). Never forwarded.
 */
export type LocalLookup =
  | { readonly kind: 'hit'; readonly key: string; readonly entry: Entry; readonly partition: number; readonly position: number }
  | { readonly kind: 'miss'; readonly key: string; readonly partition: number; readonly position: number };

export type LookupOutcome = LocalLookup | Failure;

/** LOOKUP: the local-only read peers send on every fan-out. */
export function lookup(ctx: CommandContext, iface: Interface, raw: Buffer | undefined, startedAt: number): LookupOutcome {
  const closing = closingError(ctx);
  if (closing) return refused(ctx, iface, 'lookup', closing, startedAt);
  const key = decodeKey(raw, ctx.limits);
  if (typeof key !== 'string') return recorded(ctx, iface, 'lookup', failure(key), startedAt);
  const partition = ctx.partitionOf(raw!);
  const position = ctx.positions.position(partition);
  const entry = ctx.store.get(key);
  const result: LocalLookup = entry ? { kind: 'hit', key, entry, partition, position } : { kind: 'miss', key, partition, position };
  return recorded(ctx, iface, 'lookup', result, startedAt);
}
