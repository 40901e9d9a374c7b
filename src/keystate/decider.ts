import { evaluate, type Command } from './commands';
import { hybridTimestamp } from './hybrid-clock';
import { isExpired, visibleContent, type PartitionState } from './key-state';
import type { KeptReply, RecordDraft, Reply } from './records';

/** What deciding a command gives: records to append (none when the command changes nothing) and the reply they carry. */
export interface Decision {
  readonly records: RecordDraft[];
  readonly reply: Reply;
  /** The reply came from the idempotency window: an earlier attempt of this command already took effect. */
  readonly replayed: boolean;
}

/** How many replies a key keeps for retried commands (the idempotency window, counted in commands). */
export const KEPT_REPLIES = 16;

/**
 * Decides a state-dependent command against `view`, the decider's applied state of the key's canonical partition.
 * The result is written as a whole state, with the decider's position as its basis: it takes effect only if no
 * record touched the key since, so a stale view (a lagging or replaced decider) costs a retry, never a wrong state.
 * The record's timestamp is the decision time: expiry is judged by it, so a replay judges it the same way. The
 * caller first makes `view` catch up with the partition's end offset as of the request's arrival (a read barrier),
 * so that a refused condition, which writes nothing, is never answered from a state older than the request.
 */
export function decide(view: PartitionState, key: string, command: Command, options: { readonly now: number; readonly id?: string }): Decision {
  const slots = view.slots(key);
  const content = visibleContent(slots);
  if (options.id !== undefined) {
    const kept = content?.replies.find((entry) => entry.id === options.id);
    if (kept) return { records: [], reply: kept.reply, replayed: true };
  }
  const timestamp = hybridTimestamp(options.now, slots);
  const { next, reply } = evaluate(command, content, timestamp);
  if (next === 'unchanged') return { records: [], reply, replayed: false };
  const carried = content?.replies ?? [];
  const replies: KeptReply[] = options.id === undefined ? [...carried] : [...carried, { id: options.id, reply }].slice(-KEPT_REPLIES);
  const records: RecordDraft[] = [
    { partition: view.partition, key: { kind: 'main', key }, timestamp, body: { kind: 'decided', scope: 'key', basis: view.position, content: { ...next, replies } } },
  ];
  if (next.value === null && slots) {
    // A deletion also deletes what side slots hold, in the same produce request, or it would come back once the
    // cleaner drops the main tombstone. Each is checked against its own slot only: the main record before it in
    // the batch has touched the key.
    for (const [source, slot] of slots.sides) {
      if (slot.content?.value == null) continue;
      records.push({
        partition: view.partition,
        key: { kind: 'side', key, source },
        timestamp,
        body: { kind: 'decided', scope: 'slot', basis: view.position, content: { value: null, deadline: null, replies: [] } },
      });
    }
  }
  return { records, reply, replayed: false };
}

/**
 * The expiry collector (run by the partition's decider): tombstones for keys whose content expired at least
 * `graceMs` before `now`. Each is a decision like any other, so it deletes only the very version it saw expire;
 * a value written meanwhile voids it. The grace keeps readers whose clocks lag from seeing a key vanish early.
 */
export function collectExpired(view: PartitionState, now: number, graceMs: number): RecordDraft[] {
  const records: RecordDraft[] = [];
  for (const [key, slots] of view.keys) {
    const content = visibleContent(slots);
    if (!content || content.value === null || !isExpired(content, now - graceMs)) continue;
    records.push(...decide(view, key, { op: 'collect_expired', version: content.version }, { now }).records);
  }
  return records;
}
