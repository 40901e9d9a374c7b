import { hybridTimestamp } from './hybrid-clock';
import type { PartitionState } from './key-state';
import type { RecordDraft } from './records';

/**
 * A node's unconditional SET (with an optional absolute deadline, so SET EX needs no decider): one record, which is
 * the key's whole state and so safe under any compaction.
 */
export function plainSet(view: PartitionState, key: string, value: string, deadline: number | null, now: number): RecordDraft[] {
  const timestamp = hybridTimestamp(now, view.slots(key));
  return [{ partition: view.partition, key: { kind: 'main', key }, timestamp, body: { kind: 'plain', value, deadline } }];
}

/**
 * A node's unconditional DEL: a tombstone of the main key and of every side key, in one produce request to the
 * canonical partition (#13), so no mirrored value outlives the deletion once the cleaner drops the main tombstone.
 * Side tombstones are mirror records with no value that keep how far each source partition was mirrored.
 */
export function plainDelete(view: PartitionState, key: string, now: number): RecordDraft[] {
  const slots = view.slots(key);
  const timestamp = hybridTimestamp(now, slots);
  const drafts: RecordDraft[] = [{ partition: view.partition, key: { kind: 'main', key }, timestamp, body: { kind: 'plain', value: null, deadline: null } }];
  for (let source = 0; source < view.layout.partitionCount; source++) {
    if (source === view.partition) continue;
    const mirrored = slots?.sides.get(source)?.content?.sourceOffset ?? -1;
    drafts.push({ partition: view.partition, key: { kind: 'side', key, source }, timestamp, body: { kind: 'mirror', sourceOffset: mirrored, sourceTimestamp: timestamp, value: null } });
  }
  return drafts;
}
