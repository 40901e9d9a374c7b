import type { KeyMerge, MergedStore } from './key-merge';
import { encodeSideKey, sideHeaders } from './side-keys';
import type { WriteAck } from './write-producer';

/** The most side records one mirroring round writes, so a large backlog goes out in bounded steps. */
export const MIRROR_ROUND_RECORDS = 1_000;

/**
 * A record is mirrored once it has waited this long. A node's DEL writes its tombstone in the source partition a
 * round trip before the side tombstone that covers it: copying that tombstone meanwhile would leave a marker for good.
 */
export const MIRROR_GRACE_MS = 1_000;

/** What a round of mirroring uses: the node's merge (what is not mirrored yet), producer and applied positions. */
export interface PartitionMirrorDeps {
  readonly merge: Pick<KeyMerge, 'unmirroredKeys' | 'unmirroredRecord'>;
  /** The node's map: the merge keeps a winning value there only. */
  readonly store: MergedStore;
  readonly write: (key: Buffer, value: Buffer, timestamp: number, partition: number, headers: Readonly<Record<string, string>>) => Promise<WriteAck>;
  readonly waitForApplied: (partition: number, offset: number, timeoutMs: number) => Promise<void>;
  readonly applyTimeoutMs: number;
}

/**
 * One round of #13's mirroring for source partition `source`: for each key whose last record there is not copied
 * yet (as this node has applied the topic: the caller makes sure it applied every partition up to the end it had
 * when it took the fence), a side record in the key's canonical partition, with the source record's timestamp and
 * offset; a deletion is copied as a non-null marker. Waits until this node has applied what it wrote, so the next
 * round's check sees it and copies nothing twice. Resolves with the number of side records written.
 */
export async function mirrorRound(source: number, deps: PartitionMirrorDeps): Promise<number> {
  const writes: Array<Promise<WriteAck>> = [];
  for (const key of deps.merge.unmirroredKeys(source, MIRROR_ROUND_RECORDS, Date.now() - MIRROR_GRACE_MS)) {
    const record = deps.merge.unmirroredRecord(deps.store, key, source);
    if (!record) continue;
    const deleted = record.value === null;
    writes.push(deps.write(encodeSideKey(Buffer.from(key, 'utf8'), source), record.value ?? Buffer.alloc(0), record.timestamp, record.canonical, sideHeaders(record.offset, deleted)));
  }
  const acks = await Promise.all(writes);
  await Promise.all(acks.map((ack) => deps.waitForApplied(ack.partition, ack.offset, deps.applyTimeoutMs)));
  return acks.length;
}
