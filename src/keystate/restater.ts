import { winningSlot, type KeySlots, type PartitionState, type SlotState } from './key-state';
import type { RecordDraft, SlotKey } from './records';

/**
 * The restater's work on one partition (one designated node, the same as #13's mirroring node): records that make
 * every slot's last record hold the slot's whole state again, so the cleaner, which keeps only last records, can
 * change nothing. Two kinds of slot need one:
 *  - an unsettled slot, whose last record did not take effect (a decision that lost its race, a stale
 *    restatement): its content is restated, version and timestamp kept, checked against the slot alone;
 *  - a value hidden by a deletion in another slot of the key: it would come back when the cleaner drops that
 *    tombstone, so it is deleted, keeping its own timestamp so that the merge is unchanged meanwhile.
 * Appended within min.compaction.lag.ms of the records that call for them (the design note's bound).
 */
export function settlements(view: PartitionState, now: number): RecordDraft[] {
  const records: RecordDraft[] = [];
  for (const [key, slots] of view.keys) {
    const restate = (slotKey: SlotKey, slot: SlotState | undefined): void => {
      if (!slot || slot.settled) return;
      records.push({ partition: view.partition, key: slotKey, timestamp: now, body: { kind: 'restate', basis: view.position, content: slot.content ?? null } });
    };
    restate({ kind: 'main', key }, slots.main);
    for (const [source, slot] of slots.sides) restate({ kind: 'side', key, source }, slot);
    records.push(...hiddenValueDeletions(view, key, slots));
  }
  return records;
}

function hiddenValueDeletions(view: PartitionState, key: string, slots: KeySlots): RecordDraft[] {
  const winner = winningSlot(slots);
  if (!winner || winner.content.value !== null) return [];
  const records: RecordDraft[] = [];
  const remove = (slotKey: SlotKey, slot: SlotState | undefined): void => {
    const content = slot?.content;
    if (!content || content.value === null || !slot.settled) return;
    records.push({
      partition: view.partition,
      key: slotKey,
      timestamp: content.timestamp,
      body: { kind: 'decided', scope: 'slot', basis: view.position, content: { value: null, deadline: null, replies: [] } },
    });
  };
  if (winner.source !== 'main') remove({ kind: 'main', key }, slots.main);
  for (const [source, slot] of slots.sides) if (source !== winner.source) remove({ kind: 'side', key, source }, slot);
  return records;
}
