import type { CommandContext, Interface } from './command-context';
import { closingError, recorded, refused } from './command-outcome';
import { type WriteOutcome, writeRecord } from './write-record';

/** SET: writes a value; resolves once Kafka has it (acks=all) and this node has applied it. */
export function set(ctx: CommandContext, iface: Interface, key: Buffer | undefined, value: Buffer, startedAt: number): Promise<WriteOutcome> {
  const closing = closingError(ctx);
  if (closing) return Promise.resolve(refused(ctx, iface, 'set', closing, startedAt));
  const written = writeRecord(ctx, key, value);
  // One promise layer fewer than an async function awaiting it: writeRecord never rejects.
  return written instanceof Promise ? written.then((outcome) => recorded(ctx, iface, 'set', outcome, startedAt)) : Promise.resolve(recorded(ctx, iface, 'set', written, startedAt));
}
