import type { Layout, PartitionState } from './key-state';
import type { LogRecord, RecordDraft } from './records';

/**
 * #13's mirroring, for one source partition: every plain record of a user key found outside the key's canonical
 * partition is copied into the canonical partition under the side key (key, source), with its own timestamp and
 * offset. A record already mirrored (its offset at or below what the side slot says was mirrored) is skipped, so a
 * new mirroring node that caught up first repeats nothing.
 */
export function mirrorRecords(source: number, records: readonly LogRecord[], layout: Layout, canonical: (partition: number) => PartitionState): RecordDraft[] {
  const drafts: RecordDraft[] = [];
  const mirroredUpTo = new Map<string, number>();
  for (const record of records) {
    if (record.key.kind !== 'main' || record.body.kind !== 'plain') continue;
    const key = record.key.key;
    const target = layout.partitionOf(key);
    if (target === source) continue;
    const done = mirroredUpTo.get(key) ?? canonical(target).slots(key)?.sides.get(source)?.content?.sourceOffset ?? -1;
    if (record.offset <= done) continue;
    mirroredUpTo.set(key, record.offset);
    drafts.push({
      partition: target,
      key: { kind: 'side', key, source },
      timestamp: record.timestamp,
      body: { kind: 'mirror', sourceOffset: record.offset, sourceTimestamp: record.timestamp, value: record.body.value },
    });
  }
  return drafts;
}
