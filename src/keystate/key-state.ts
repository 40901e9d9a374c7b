import type { Content, LogRecord, SlotKey } from './records';

/** The key -> partition map, pinned by the topic's control record (#13): never the topic's current partition count. */
export interface Layout {
  readonly partitionCount: number;
  readonly partitionOf: (key: string) => number;
}

/** One slot of a key (its main Kafka key, or one side key) as the records applied so far left it. */
export interface SlotState {
  /** undefined: no record of the slot took effect yet (or a restatement emptied it). */
  readonly content: Content | undefined;
  /** Offset of the slot's last record, effective or not: decisions and restatements are checked against it. */
  readonly lastRecord: number;
  /** The last record took effect as written, so replaying that record alone gives this slot's content. */
  readonly settled: boolean;
}

/** Every slot of one user key, in its canonical partition. */
export interface KeySlots {
  main: SlotState | undefined;
  readonly sides: Map<number, SlotState>;
}

/** What a record did when applied. `elsewhere`: not in the key's canonical partition (only its mirror counts). */
export type ApplyOutcome = 'effective' | 'void' | 'elsewhere' | 'already_applied';

/**
 * What one node holds for one partition: every key whose canonical partition this is, slot by slot. Written only by
 * applyRecord, in offset order; nothing in it depends on the applying node's clock or on other partitions.
 */
export class PartitionState {
  /** The next offset to apply. */
  position = 0;
  readonly keys = new Map<string, KeySlots>();
  /** Records of user keys found outside their canonical partition (a metric in the node). */
  misrouted = 0;

  constructor(
    readonly partition: number,
    readonly layout: Layout,
  ) {}

  /** The key's slots, if any record of it was applied here. */
  slots(key: string): KeySlots | undefined {
    return this.keys.get(key);
  }
}

/** The rank of a slot in #13's merge, after the timestamp: the main slot first, then side slots by source partition. */
function rank(source: number | 'main'): number {
  return source === 'main' ? Number.POSITIVE_INFINITY : -source;
}

/** The slot whose content wins #13's merge: the greatest (timestamp, rank); undefined if no slot holds content. */
export function winningSlot(slots: KeySlots): { readonly source: number | 'main'; readonly content: Content } | undefined {
  let best: { source: number | 'main'; content: Content } | undefined;
  const consider = (source: number | 'main', slot: SlotState | undefined): void => {
    const content = slot?.content;
    if (!content) return;
    if (!best || content.timestamp > best.content.timestamp || (content.timestamp === best.content.timestamp && rank(source) > rank(best.source))) {
      best = { source, content };
    }
  };
  consider('main', slots.main);
  for (const [source, slot] of slots.sides) consider(source, slot);
  return best;
}

/** The key's current content, deletions included (value null), with no clock applied. */
export function visibleContent(slots: KeySlots | undefined): Content | undefined {
  return slots ? winningSlot(slots)?.content : undefined;
}

/** The highest offset of any record that touched the key: a decision with a basis above it still holds. */
export function lastRecordOfKey(slots: KeySlots | undefined): number {
  if (!slots) return -1;
  let last = slots.main?.lastRecord ?? -1;
  for (const slot of slots.sides.values()) last = Math.max(last, slot.lastRecord);
  return last;
}

/** Whether the content counts as expired at `time` (a record's timestamp when deciding; the local clock when reading). */
export function isExpired(content: Content, time: number): boolean {
  return content.deadline !== null && content.deadline <= time;
}

/**
 * A read: the live value at the reader's clock `now`, or undefined. The only place a node's clock enters, and it
 * changes no state: two nodes whose clocks differ by d disagree on a key only within d of its deadline.
 */
export function readKey(state: PartitionState, key: string, now: number): Content | undefined {
  const content = visibleContent(state.slots(key));
  if (!content || content.value === null || isExpired(content, now)) return undefined;
  return content;
}

function slotOf(slots: KeySlots, key: SlotKey): SlotState | undefined {
  return key.kind === 'main' ? slots.main : slots.sides.get(key.source);
}

function setSlot(slots: KeySlots, key: SlotKey, slot: SlotState): void {
  if (key.kind === 'main') slots.main = slot;
  else slots.sides.set(key.source, slot);
}

/**
 * Applies one record of `state`'s partition. Deterministic: the outcome depends only on the record and the records
 * before it in this partition, so every node, `bitacora digest` and a replay of the compacted topic agree whenever
 * the slots' last records are settled (see the design note). A record below the position was applied already.
 */
export function applyRecord(state: PartitionState, record: LogRecord): ApplyOutcome {
  if (record.offset < state.position) return 'already_applied';
  state.position = record.offset + 1;
  const { key, body } = record;
  if (state.layout.partitionOf(key.key) !== state.partition) {
    state.misrouted++;
    return 'elsewhere';
  }
  if (key.kind === 'side' && (key.source === state.partition || key.source < 0 || key.source >= state.layout.partitionCount)) return 'elsewhere';
  let slots = state.keys.get(key.key);
  if (!slots) {
    slots = { main: undefined, sides: new Map() };
    state.keys.set(key.key, slots);
  }
  const previous = slotOf(slots, key);
  const offset = record.offset;
  let content: Content | undefined;
  switch (body.kind) {
    case 'plain':
      // A side slot remembers how far its source partition was mirrored, whatever overwrote it since.
      content = { value: body.value, timestamp: record.timestamp, version: offset, deadline: body.deadline, replies: [], sourceOffset: mirroredUpTo(key, previous) };
      break;
    case 'mirror':
      // A mirror lands on a side key only; one on a main key is some other producer's record that happens to parse.
      if (key.kind !== 'side') return voidRecord(slots, key, previous, offset);
      content = { value: body.value, timestamp: body.sourceTimestamp, version: offset, deadline: null, replies: [], sourceOffset: body.sourceOffset };
      break;
    case 'decided': {
      const touched = body.scope === 'key' ? lastRecordOfKey(slots) : (previous?.lastRecord ?? -1);
      if (touched >= body.basis) return voidRecord(slots, key, previous, offset);
      content = { ...body.content, timestamp: record.timestamp, version: offset, sourceOffset: mirroredUpTo(key, previous) };
      break;
    }
    case 'restate':
      if ((previous?.lastRecord ?? -1) >= body.basis) return voidRecord(slots, key, previous, offset);
      content = body.content ?? undefined;
      break;
  }
  setSlot(slots, key, { content, lastRecord: offset, settled: true });
  return 'effective';
}

function mirroredUpTo(key: SlotKey, previous: SlotState | undefined): number | null {
  return key.kind === 'side' ? (previous?.content?.sourceOffset ?? null) : null;
}

function voidRecord(slots: KeySlots, key: SlotKey, previous: SlotState | undefined, offset: number): ApplyOutcome {
  // The content stays, but the slot's last record no longer holds it: the restater must write it again.
  setSlot(slots, key, { content: previous?.content, lastRecord: offset, settled: false });
  return 'void';
}

/**
 * A comparable summary of what every key holds, with no clock (deadlines are data): value, version, timestamp,
 * deadline and replies of each key that holds a value; deleted and absent keys are left out alike.
 */
export function summarize(states: readonly PartitionState[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const state of states) {
    for (const [key, slots] of state.keys) {
      const content = visibleContent(slots);
      if (!content || content.value === null) continue;
      out.set(key, JSON.stringify([content.value, content.version, content.timestamp, content.deadline, content.replies]));
    }
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
