import type { CommandContext, Failure, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import { checkKeyCount } from './key-validation';
import { checkWrite, type Written, writeChecked } from './write-record';

/** Where each write landed, in the order given. */
export interface MultiWritten {
  readonly kind: 'ok';
  readonly writes: readonly Written[];
}

export type MultiWriteOutcome = MultiWritten | Failure;

/**
 * MSET: several writes, checked all before any reaches Kafka, then sent together (they share produce requests).
 * Not atomic: on a failure (the first is answered) the other writes may have been made; retrying the whole
 * command is safe, since each is a plain set.
 */
export async function mset(ctx: CommandContext, iface: Interface, pairs: ReadonlyArray<readonly [Buffer | undefined, Buffer]>, startedAt: number): Promise<MultiWriteOutcome> {
  const closing = closingError(ctx) ?? checkKeyCount('mset', pairs.length);
  if (closing) return refused(ctx, iface, 'multiset', closing, startedAt);
  const keys: string[] = [];
  for (const [key, value] of pairs) {
    const checked = checkWrite(ctx, key, value);
    if (typeof checked !== 'string') return recorded(ctx, iface, 'multiset', checked, startedAt);
    keys.push(checked);
  }
  const writes = await Promise.all(pairs.map(([key, value], i) => writeChecked(ctx, keys[i], key!, value)));
  const failed = writes.find((write): write is Failure => write.kind === 'error');
  const outcome: MultiWriteOutcome = failed ?? { kind: 'ok', writes: writes as Written[] };
  return recorded(ctx, iface, 'multiset', outcome, startedAt);
}
