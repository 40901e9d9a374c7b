import { evaluate, type Command } from './commands';
import { hybridTimestamp } from './hybrid-clock';
import { isExpired, visibleContent, type PartitionState } from './key-state';
import type { KeptReply, RecordDraft, Reply } from './records';

/** One client command waiting at the decider, with its idempotency id if the client sent one. */
export interface Request {
  readonly command: Command;
  readonly id?: string;
}

/** What deciding gives: records to append (none when nothing changes) and a reply per request. */
export interface Decision {
  readonly records: RecordDraft[];
  /** In request order. Final at once when `records` is empty; otherwise once the main record took effect. */
  readonly replies: readonly Reply[];
  /** Per request: the reply came from the idempotency window (an earlier attempt already took effect). */
  readonly replayed: readonly boolean[];
}

/** How many replies a key keeps for retried commands (the idempotency window, counted in commands; more when one record commits more). */
export const KEPT_REPLIES = 64;

/**
 * Decides the commands waiting on one key, in order, against `view`, the decider's applied state of the key's
 * canonical partition, and writes the result as one whole state (group commit: one record answers them all), with
 * the decider's position as its basis: it takes effect only if no record touched the key since, so a stale view (a
 * lagging or replaced decider) costs a retry, never a wrong state. The decider keeps at most one decision per key in
 * flight: the next would be decided before this one is applied and be void. The record's timestamp is the decision
 * time, and expiry is judged by it, so a replay judges it the same way. The caller first makes `view` catch up with
 * the partition's end offset as of the requests' arrival (a read barrier), so that a refused condition, which
 * writes nothing, is never answered from a state older than the request.
 */
export function decideAll(view: PartitionState, key: string, requests: readonly Request[], options: { readonly now: number; readonly keepReplies?: number }): Decision {
  const keep = options.keepReplies ?? KEPT_REPLIES;
  const slots = view.slots(key);
  const content = visibleContent(slots);
  const timestamp = hybridTimestamp(options.now, slots);
  let current = content;
  let window: KeptReply[] = [...(content?.replies ?? [])];
  let next: { value: string | null; deadline: number | null } | undefined;
  const replies: Reply[] = [];
  const replayed: boolean[] = [];
  let added = 0;
  for (const { command, id } of requests) {
    const kept = id === undefined ? undefined : window.find((entry) => entry.id === id);
    replayed.push(kept !== undefined);
    if (kept) {
      replies.push(kept.reply);
      continue;
    }
    const evaluation = evaluate(command, current, timestamp);
    replies.push(evaluation.reply);
    if (evaluation.next === 'unchanged') continue;
    next = evaluation.next;
    if (id !== undefined) {
      // The window never drops an id this record commits, however large the batch.
      added++;
      window = [...window, { id, reply: evaluation.reply }].slice(-Math.max(keep, added));
    }
    // Later commands in the batch see this result; its version is not known before Kafka's ack, so If-Match fails.
    current = { ...next, timestamp, version: -1, replies: window, sourceOffset: null };
  }
  if (next === undefined) return { records: [], replies, replayed };
  const records: RecordDraft[] = [
    { partition: view.partition, key: { kind: 'main', key }, timestamp, body: { kind: 'decided', scope: 'key', basis: view.position, content: { ...next, replies: window } } },
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
  return { records, replies, replayed };
}

/** decideAll for one command. */
export function decide(view: PartitionState, key: string, command: Command, options: { readonly now: number; readonly id?: string }): Decision {
  return decideAll(view, key, [{ command, id: options.id }], options);
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
