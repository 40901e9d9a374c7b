import type { CommandContext, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import { type WriteOutcome, writeRecord } from './write-record';

/** DELETE: writes a tombstone, with set's acknowledgement rule; deleting an absent key is no error. */
export async function del(ctx: CommandContext, iface: Interface, key: Buffer | undefined, startedAt: number): Promise<WriteOutcome> {
  const closing = closingError(ctx);
  if (closing) return refused(ctx, iface, 'delete', closing, startedAt);
  return recorded(ctx, iface, 'delete', await writeRecord(ctx, key, null), startedAt);
}
