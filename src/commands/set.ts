import type { CommandContext, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import { type WriteOutcome, writeRecord } from './write-record';

/** SET: writes a value; resolves once Kafka has it (acks=all) and this node has applied it. */
export async function set(ctx: CommandContext, iface: Interface, key: Buffer | undefined, value: Buffer, startedAt: number): Promise<WriteOutcome> {
  const closing = closingError(ctx);
  if (closing) return refused(ctx, iface, 'set', closing, startedAt);
  return recorded(ctx, iface, 'set', await writeRecord(ctx, key, value), startedAt);
}
