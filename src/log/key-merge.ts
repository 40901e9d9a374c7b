import type { EntryStore } from '../store/entry-store';

/** What a partition's last record of a key says: a value, or a deletion (null). */
interface Version {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly value: Buffer | null;
}

type Deletion = Omit<Version, 'value'>;

/**
 * A side record (side-keys.ts): in the canonical partition, the copy of source partition `source`'s record at
 * `sourceOffset`, stamped with that record's timestamp; value null for a deletion (a marker, or a node DEL's tombstone).
 */
export interface SideVersion {
  readonly source: number;
  readonly sourceOffset: number;
  readonly timestamp: number;
  readonly value: Buffer | null;
}

/** A record's place in its source partition and what it says, without its value. */
interface Meta {
  /** The offset in the source partition (for a side record, the source offset it copies or covers). */
  readonly offset: number;
  readonly timestamp: number;
  readonly deleted: boolean;
}

/**
 * One slot of a contested key per partition: the partition's own last record of the key (`direct`) and, outside the
 * canonical partition, its mirror (`side`). The slot says whichever of the two is later in the source partition, so
 * a node that still sees the direct record and one that sees only the mirror (after compaction) decide the same.
 * Only that candidate's value is kept: in `value`, or, when this slot is the key's winner, in the store alone
 * (`value` undefined), so a key's bytes are held once per slot and not again for the winner.
 */
interface Slot {
  direct?: Meta;
  side?: Meta;
  value: Buffer | null | undefined;
}

/** A key that has records outside its canonical partition, or side records: its slots, its canonical partition, its winner. */
interface Contested {
  readonly canonical: number;
  readonly slots: Map<number, Slot>;
  /** The slot whose candidate the store holds (or whose deletion it reflects); undefined while no slot has one. */
  winner: number | undefined;
}

/** What the mirroring node copies for a key: the source partition's last record of it, not yet mirrored. */
export interface Unmirrored {
  readonly canonical: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly value: Buffer | null;
}

/** The store methods the merge uses: the public ones only; deletions are kept in the store (markDeleted). */
export type MergedStore = Pick<EntryStore, 'get' | 'put' | 'delete' | 'markDeleted' | 'deletionOf' | 'deletions'>;

/**
 * Decides a key's state from its records in every partition, so that the result does not depend on the order in
 * which a node applies partitions (docs/architecture.md, "One value per key"):
 *
 * - Within a partition, the later offset wins, always (compaction keeps the last offset; timestamps never reorder a
 *   partition). A partition's side record in the canonical partition counts as its record at the source offset.
 * - Between partitions, each partition's last record of the key is a candidate, deletions included, and the one with
 *   the greatest timestamp wins; on equal timestamps the key's canonical partition wins, then the lowest partition.
 *
 * A key written only in its canonical partition (the usual case) costs nothing here: the store's entry is its
 * candidate. What this class keeps: for each such key whose last record is a deletion, that record's position and
 * timestamp (a later record of another partition must be weighed against it), as a deletion in the store (no
 * key-count cliff), and for each key with records
 * elsewhere (or side records) every slot's last records, the value of each slot but the winner's (which the store
 * holds), and which slots are not mirrored yet.
 */
export class KeyMerge {
  private readonly contested = new Map<string, Contested>();
  /**
   * Per source partition, the keys whose last record there is not mirrored yet (the mirroring node's work), each with
   * when it started waiting, oldest first. The time only paces the mirroring node; it never enters a key's state.
   */
  private readonly unmirrored = new Map<number, Map<string, number>>();

  /** Applies one record of `partition` (a value, or null for a tombstone) to the store. */
  apply(store: MergedStore, key: string, canonical: number, version: Version): void {
    let contested = this.contested.get(key);
    if (!contested) {
      // The usual case, without reading the store: a record in its canonical partition, of a key with no record elsewhere.
      if (version.partition === canonical) {
        this.setSingle(store, key, version);
        return;
      }
      contested = this.contest(store, key, canonical);
    }
    const slot = slotOf(contested, version.partition);
    slot.direct = { offset: version.offset, timestamp: version.timestamp, deleted: version.value === null };
    if (candidateMeta(slot) === slot.direct) slot.value = copyOf(version.value);
    this.settle(store, key, contested, version.partition);
  }

  /** Applies a side record of the key (found in its canonical partition) to the store. */
  applySide(store: MergedStore, key: string, canonical: number, side: SideVersion): void {
    if (side.source === canonical) return;
    const contested = this.contested.get(key) ?? this.contest(store, key, canonical);
    const slot = slotOf(contested, side.source);
    slot.side = { offset: side.sourceOffset, timestamp: side.timestamp, deleted: side.value === null };
    if (candidateMeta(slot) === slot.side) slot.value = copyOf(side.value);
    this.settle(store, key, contested, side.source);
  }

  /** The highest timestamp of any candidate of the key (values and deletions), or undefined when none is known. */
  highestTimestamp(store: MergedStore, key: string): number | undefined {
    const contested = this.contested.get(key);
    if (contested) {
      const stamps = [...contested.slots.values()].flatMap((slot) => [slot.direct?.timestamp ?? -Infinity, slot.side?.timestamp ?? -Infinity]);
      return Math.max(...stamps);
    }
    return store.get(key)?.timestamp ?? store.deletionOf(key)?.timestamp;
  }

  /**
   * The partitions other than the canonical one whose last record of the key holds a value. A delete through a node
   * tombstones the key there too, so that no older value outlives the canonical tombstone once the cleaner drops it.
   */
  otherValuePartitions(key: string, canonical: number): number[] {
    const contested = this.contested.get(key);
    if (!contested) return [];
    return [...contested.slots.entries()].filter(([p, slot]) => p !== canonical && slot.direct !== undefined && !slot.direct.deleted).map(([p]) => p);
  }

  /**
   * The key's slots outside the canonical partition, each with the highest source offset known for it (direct or
   * mirrored): a node DEL tombstones their side keys with the main key, each covering that offset, so the mirroring
   * node copies none of it again.
   */
  sideSlots(key: string, canonical: number): Map<number, number> {
    const sides = new Map<number, number>();
    for (const [p, slot] of this.contested.get(key)?.slots ?? []) {
      if (p !== canonical) sides.set(p, Math.max(slot.direct?.offset ?? -1, slot.side?.offset ?? -1));
    }
    return sides;
  }

  /**
   * Up to `limit` keys whose last record in `source` is not mirrored yet, as this node has applied the topic, oldest
   * first; with `waitingSince`, only those waiting since then or earlier.
   */
  unmirroredKeys(source: number, limit = Number.POSITIVE_INFINITY, waitingSince = Number.POSITIVE_INFINITY): string[] {
    const keys: string[] = [];
    for (const [key, since] of this.unmirrored.get(source) ?? []) {
      if (keys.length >= limit || since > waitingSince) break;
      keys.push(key);
    }
    return keys;
  }

  /** How many keys wait to be mirrored from `source` (the mirror lag, in records). */
  unmirroredCount(source: number): number {
    return this.unmirrored.get(source)?.size ?? 0;
  }

  /**
   * What the mirroring node of `source` writes for `key`, or undefined when nothing: the record of `key` in `source`
   * that its side key does not copy yet; or, for a value of `source` hidden behind a deletion in the main slot, a
   * marker covering that value (see hiddenBehindMain), stamped with the value's own timestamp.
   */
  unmirroredRecord(store: MergedStore, key: string, source: number): Unmirrored | undefined {
    const contested = this.contested.get(key);
    const slot = contested?.slots.get(source);
    if (!contested || !slot || source === contested.canonical) return undefined;
    if (hiddenBehindMain(contested, slot)) {
      const { offset, timestamp } = candidateMeta(slot)!;
      return { canonical: contested.canonical, offset, timestamp, value: null };
    }
    if (!slot.direct || !needsMirror(slot)) return undefined;
    const { offset, timestamp, deleted } = slot.direct;
    return { canonical: contested.canonical, offset, timestamp, value: deleted ? null : this.valueOf(store, key, slot) };
  }

  /** Keys with records in more than one partition; keys whose last record is a deletion. */
  sizes(store: MergedStore): { contested: number; deletions: number } {
    return { contested: this.contested.size, deletions: store.deletions };
  }

  /** Moves a key from the single-candidate path to slots: its store entry or deletion (always canonical) is the main slot. */
  private contest(store: MergedStore, key: string, canonical: number): Contested {
    const held = store.get(key);
    const current: Deletion | undefined = held ?? store.deletionOf(key);
    // From here the main slot keeps the deletion; the store's deletion entry goes (settle() rewrites the store).
    if (!held && current) store.delete(key);
    const contested: Contested = { canonical, slots: new Map(), winner: undefined };
    if (current) {
      // The store keeps holding the value: this slot is the winner until another one outranks it.
      contested.slots.set(canonical, { direct: { offset: current.offset, timestamp: current.timestamp, deleted: !held }, value: held ? undefined : null });
      contested.winner = canonical;
    }
    this.contested.set(key, contested);
    return contested;
  }

  /**
   * Puts the key's winner in the store, and notes whether slot `partition` waits for the mirroring node; a change
   * of the main slot may hide or uncover a value in every other slot, so then each of them is looked at again.
   */
  private settle(store: MergedStore, key: string, contested: Contested, partition: number): void {
    if (partition !== contested.canonical) this.noteWork(key, contested, partition, true);
    else for (const other of contested.slots.keys()) if (other !== partition) this.noteWork(key, contested, other, false);
    const winner = pick(contested);
    const previous = contested.winner === undefined ? undefined : contested.slots.get(contested.winner);
    // The store is about to change: the slot it held the value of keeps its own copy from now on.
    if (previous && previous.value === undefined && contested.winner !== winner) previous.value = store.get(key)?.value ?? null;
    contested.winner = winner;
    if (winner === undefined) {
      store.delete(key);
      return;
    }
    const slot = contested.slots.get(winner)!;
    // undefined: the store already holds this slot's candidate, unchanged.
    if (slot.value === undefined) return;
    const meta = candidateMeta(slot)!;
    if (slot.value === null || meta.deleted) store.delete(key);
    else {
      store.put(key, slot.value, winner, meta.offset, meta.timestamp);
      slot.value = undefined;
    }
  }

  /**
   * Adds `key` to, or removes it from, the mirroring work of `source`. `changed`: the slot's own record changed, so
   * its wait starts again (the mirroring node's grace is counted from the record it would copy); otherwise a key
   * already waiting keeps its place.
   */
  private noteWork(key: string, contested: Contested, source: number, changed: boolean): void {
    const slot = contested.slots.get(source)!;
    let waiting = this.unmirrored.get(source);
    const work = needsMirror(slot) || hiddenBehindMain(contested, slot);
    if (!work) {
      waiting?.delete(key);
      return;
    }
    if (!waiting) this.unmirrored.set(source, (waiting = new Map()));
    if (changed) waiting.delete(key);
    if (!waiting.has(key)) waiting.set(key, Date.now());
  }

  private valueOf(store: MergedStore, key: string, slot: Slot): Buffer | null {
    return slot.value === undefined ? (store.get(key)?.value ?? null) : slot.value;
  }

  private setSingle(store: MergedStore, key: string, version: Version): void {
    if (version.value === null) store.markDeleted(key, version.partition, version.offset, version.timestamp);
    else store.put(key, version.value, version.partition, version.offset, version.timestamp);
  }
}

function slotOf(contested: Contested, partition: number): Slot {
  let slot = contested.slots.get(partition);
  if (!slot) contested.slots.set(partition, (slot = { value: null }));
  return slot;
}

/** A direct record later in its partition than what the side key copies (or covers). */
function needsMirror(slot: Slot): boolean {
  return slot.direct !== undefined && (slot.side === undefined || slot.side.offset < slot.direct.offset);
}

/**
 * Whether the slot's candidate is a value that a deletion in the main slot outranks (equal timestamps go to the
 * canonical partition). Every node hides such a value, but the main slot's deletion is a tombstone, which the cleaner
 * drops after delete.retention.ms, while the value stays the last record of its key in its own partition: a replay
 * would then serve it. The mirroring node of the value's partition restates the slot as a deletion instead (a marker
 * covering the value, stamped with the value's own timestamp, so no node's decision changes meanwhile), which the
 * cleaner keeps. Two ways to get here: a foreign tombstone in the canonical partition over an older value elsewhere,
 * and a value written elsewhere after a deletion but stamped before it (a producer whose clock is behind).
 */
function hiddenBehindMain(contested: Contested, slot: Slot): boolean {
  const candidate = candidateMeta(slot);
  if (!candidate || candidate.deleted) return false;
  const main = contested.slots.get(contested.canonical);
  const mainCandidate = main && candidateMeta(main);
  return mainCandidate !== undefined && mainCandidate.deleted && mainCandidate.timestamp >= candidate.timestamp;
}

/**
 * A slot's candidate: the later, in the source partition, of its direct record and its mirror. A mirror stands for
 * the source record (its partition, offset and timestamp), so the store entry and the digest are the same either way.
 */
function candidateMeta(slot: Slot): Meta | undefined {
  const { direct, side } = slot;
  return side && (!direct || side.offset >= direct.offset) ? side : direct;
}

/** The greatest (timestamp, rank) candidate's slot, rank being the canonical partition first, then the lowest partition. */
function pick(contested: Contested): number | undefined {
  const rank = (partition: number): number => (partition === contested.canonical ? Number.POSITIVE_INFINITY : -partition);
  let best: { partition: number; timestamp: number } | undefined;
  for (const [partition, slot] of contested.slots) {
    const meta = candidateMeta(slot);
    if (!meta) continue;
    if (!best || meta.timestamp > best.timestamp || (meta.timestamp === best.timestamp && rank(partition) > rank(best.partition))) best = { partition, timestamp: meta.timestamp };
  }
  return best?.partition;
}

/** kafkajs' buffers are views into a whole fetch response, which must not be kept alive. */
function copyOf(value: Buffer | null): Buffer | null {
  return value === null ? null : Buffer.from(value);
}
