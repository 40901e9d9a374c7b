import type { EntryStore } from '../store/entry-store';

/** What a partition's last record of a key says: a value, or a deletion (null). */
interface Version {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly value: Buffer | null;
}

/** A key that has records in more than one partition: the last version per partition, and its canonical partition. */
interface Contested {
  readonly canonical: number;
  readonly versions: Map<number, Version>;
}

/** The store methods the merge uses: the public ones only; deletions are kept in the store (markDeleted). */
export type MergedStore = Pick<EntryStore, 'get' | 'put' | 'delete' | 'markDeleted' | 'deletionOf' | 'deletions'>;

/**
 * Decides a key's state from its records in every partition, so that the result does not depend on the order in
 * which a node applies partitions (docs/architecture.md, "One value per key"):
 *
 * - Within a partition, the later offset wins, always (compaction keeps the last offset; timestamps never reorder a
 *   partition).
 * - Between partitions, each partition's last record of the key is a candidate, deletions included, and the one with
 *   the greatest timestamp wins; on equal timestamps the key's canonical partition wins, then the lowest partition.
 *
 * A key written only in one partition (the usual case) costs nothing here: the store's entry is its candidate. What
 * the merge keeps: for each key whose last record is a deletion, that record's position and timestamp (a later
 * record of another partition must be weighed against it), as a deletion in the store (no key-count cliff), and for
 * each key with records in several partitions, every partition's last version (values copied).
 */
export class KeyMerge {
  private readonly contested = new Map<string, Contested>();
  /** Keys not contested whose one version (value or deletion) is outside their canonical partition. */
  private readonly offCanonical = new Set<string>();

  /** Applies one record of `partition` (a value, or null for a tombstone) to the store. */
  apply(store: MergedStore, key: string, canonical: number, version: Version): void {
    let contested = this.contested.get(key);
    if (!contested) {
      // The usual case, without reading the store: a record in its canonical partition, of a key with no version elsewhere.
      if (version.partition === canonical && !this.offCanonical.has(key)) {
        this.setSingle(store, key, version);
        return;
      }
      const held = store.get(key);
      const current: Version | undefined = held ? { partition: held.partition, offset: held.offset, timestamp: held.timestamp, value: held.value } : this.deletionOf(store, key);
      if (!current || current.partition === version.partition) {
        this.setSingle(store, key, version);
        if (version.partition === canonical) this.offCanonical.delete(key);
        else this.offCanonical.add(key);
        return;
      }
      this.offCanonical.delete(key);
      contested = { canonical, versions: new Map([[current.partition, copy(current)]]) };
      this.contested.set(key, contested);
    }
    contested.versions.set(version.partition, copy(version));
    const winner = pick(contested);
    if (winner.value === null) store.delete(key);
    else store.put(key, winner.value, winner.partition, winner.offset, winner.timestamp);
  }

  /** The highest timestamp of any candidate of the key (values and deletions), or undefined when none is known. */
  highestTimestamp(store: MergedStore, key: string): number | undefined {
    const contested = this.contested.get(key);
    if (contested) return Math.max(...[...contested.versions.values()].map((v) => v.timestamp));
    return store.get(key)?.timestamp ?? store.deletionOf(key)?.timestamp;
  }

  /**
   * The partitions other than the canonical one whose last record of the key holds a value. A delete through a node
   * tombstones the key there too, so that no older value outlives the canonical tombstone once the cleaner drops it.
   */
  otherValuePartitions(store: MergedStore, key: string, canonical: number): number[] {
    const contested = this.contested.get(key);
    if (!contested) {
      const held = store.get(key);
      return held && held.partition !== canonical ? [held.partition] : [];
    }
    return [...contested.versions.values()].filter((v) => v.value !== null && v.partition !== canonical).map((v) => v.partition);
  }

  /** Keys with records in more than one partition; keys whose last record is a deletion. */
  sizes(store: MergedStore): { contested: number; deletions: number } {
    return { contested: this.contested.size, deletions: store.deletions };
  }

  private deletionOf(store: MergedStore, key: string): Version | undefined {
    const deletion = store.deletionOf(key);
    return deletion && { ...deletion, value: null };
  }

  private setSingle(store: MergedStore, key: string, version: Version): void {
    if (version.value === null) store.markDeleted(key, version.partition, version.offset, version.timestamp);
    else store.put(key, version.value, version.partition, version.offset, version.timestamp);
  }
}

/** The greatest (timestamp, rank) version, rank being the canonical partition first, then the lowest partition. */
function pick(contested: Contested): Version {
  const rank = (partition: number): number => (partition === contested.canonical ? Number.POSITIVE_INFINITY : -partition);
  let best: Version | undefined;
  for (const version of contested.versions.values()) {
    if (!best || version.timestamp > best.timestamp || (version.timestamp === best.timestamp && rank(version.partition) > rank(best.partition))) best = version;
  }
  return best!;
}

/** kafkajs' buffers are views into a whole fetch response, which must not be kept alive. */
function copy(version: Version): Version {
  return version.value === null ? version : { ...version, value: Buffer.from(version.value) };
}
