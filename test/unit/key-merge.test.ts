import assert from 'node:assert/strict';
import { KeyMerge } from '../../src/log/key-merge';
import { SeededRandom, fuzzSeed } from '../helpers/seeded-random';
import { EntryStore } from '../../src/store/entry-store';

interface Rec {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly value: string | null;
}

/** Applies each partition's records in offset order, partitions interleaved as `order` says. */
function replay(partitions: ReadonlyMap<number, readonly Rec[]>, order: readonly number[], canonical: number): string | null {
  const store = new EntryStore();
  const merge = new KeyMerge();
  const next = new Map([...partitions.keys()].map((p) => [p, 0]));
  for (const p of order) {
    const i = next.get(p)!;
    const rec = partitions.get(p)![i]!;
    next.set(p, i + 1);
    merge.apply(store, 'k', canonical, { ...rec, value: rec.value === null ? null : Buffer.from(rec.value) });
  }
  return store.get('k')?.value.toString() ?? null;
}

describe('key merge across partitions', () => {
  it('within a partition the later offset wins whatever the timestamps', () => {
    const partitions = new Map([[0, [{ partition: 0, offset: 0, timestamp: 500, value: 'first' }, { partition: 0, offset: 1, timestamp: 100, value: 'second' }]]]);
    assert.equal(replay(partitions, [0, 0], 0), 'second');
  });

  it('between partitions the greatest timestamp wins, deletions included, in either apply order', () => {
    const partitions = new Map([
      [0, [{ partition: 0, offset: 0, timestamp: 100, value: 'node' }, { partition: 0, offset: 1, timestamp: 300, value: null }]],
      [2, [{ partition: 2, offset: 0, timestamp: 200, value: 'foreign' }]],
    ]);
    assert.equal(replay(partitions, [0, 0, 2], 0), null);
    assert.equal(replay(partitions, [2, 0, 0], 0), null);
    assert.equal(replay(partitions, [0, 2, 0], 0), null);
  });

  it('on equal timestamps the canonical partition wins, then the lowest partition', () => {
    const partitions = new Map([
      [1, [{ partition: 1, offset: 0, timestamp: 100, value: 'one' }]],
      [2, [{ partition: 2, offset: 0, timestamp: 100, value: 'two' }]],
      [3, [{ partition: 3, offset: 0, timestamp: 100, value: 'three' }]],
    ]);
    assert.equal(replay(partitions, [3, 2, 1], 2), 'two');
    assert.equal(replay(partitions, [1, 3, 2], 0), 'one');
  });

  it('reaches the same state in every interleaving (seeded)', () => {
    const seed = fuzzSeed();
    const rnd = new SeededRandom(seed);
    for (let round = 0; round < 300; round++) {
      const partitions = new Map<number, Rec[]>();
      const count = rnd.between(1, 4);
      for (let p = 0; p < count; p++) {
        const records: Rec[] = [];
        for (let o = 0, n = rnd.between(1, 5); o < n; o++) records.push({ partition: p, offset: o, timestamp: rnd.between(0, 6), value: rnd.between(0, 3) === 0 ? null : `v${p}.${o}` });
        partitions.set(p, records);
      }
      const canonical = rnd.between(0, count - 1);
      // What the rule says: each partition's last record, greatest (timestamp, canonical first, lowest partition).
      const lasts = [...partitions.values()].map((records) => records[records.length - 1]!);
      const rank = (p: number): number => (p === canonical ? Infinity : -p);
      lasts.sort((a, b) => b.timestamp - a.timestamp || rank(b.partition) - rank(a.partition));
      const expected = lasts[0]!.value;
      const order = [...partitions.entries()].flatMap(([p, records]) => records.map(() => p));
      for (let shuffle = 0; shuffle < 5; shuffle++) {
        for (let i = order.length - 1; i > 0; i--) {
          const j = rnd.between(0, i);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        assert.equal(replay(partitions, order, canonical), expected, `seed ${seed} round ${round} order ${order.join(',')}`);
      }
    }
  });
});

/** The merge as it was before deletions moved into the store (a Map of deletions), kept as the reference. */
class MapDeletionsMerge {
  readonly deletions = new Map<string, { partition: number; offset: number; timestamp: number }>();
  readonly contested = new Map<string, { canonical: number; versions: Map<number, Version> }>();
  readonly offCanonical = new Set<string>();
  readonly store = new Map<string, Version>();

  apply(key: string, canonical: number, version: Version): void {
    let contested = this.contested.get(key);
    if (!contested) {
      if (version.partition === canonical && !this.offCanonical.has(key)) return this.setSingle(key, version);
      const deletion = this.deletions.get(key);
      const current = this.store.get(key) ?? (deletion && { ...deletion, value: null });
      if (!current || current.partition === version.partition) {
        this.setSingle(key, version);
        if (version.partition === canonical) this.offCanonical.delete(key);
        else this.offCanonical.add(key);
        return;
      }
      this.deletions.delete(key);
      this.offCanonical.delete(key);
      contested = { canonical, versions: new Map([[current.partition, current]]) };
      this.contested.set(key, contested);
    }
    contested.versions.set(version.partition, version);
    const rank = (p: number): number => (p === contested.canonical ? Infinity : -p);
    let best: Version | undefined;
    for (const v of contested.versions.values()) if (!best || v.timestamp > best.timestamp || (v.timestamp === best.timestamp && rank(v.partition) > rank(best.partition))) best = v;
    if (best!.value === null) this.store.delete(key);
    else this.store.set(key, best!);
  }

  highestTimestamp(key: string): number | undefined {
    const contested = this.contested.get(key);
    if (contested) return Math.max(...[...contested.versions.values()].map((v) => v.timestamp));
    return this.store.get(key)?.timestamp ?? this.deletions.get(key)?.timestamp;
  }

  private setSingle(key: string, version: Version): void {
    if (version.value === null) {
      this.store.delete(key);
      this.deletions.set(key, { partition: version.partition, offset: version.offset, timestamp: version.timestamp });
    } else {
      this.store.set(key, version);
      this.deletions.delete(key);
    }
  }
}

type Version = { readonly partition: number; readonly offset: number; readonly timestamp: number; readonly value: Buffer | null };

describe('key merge with deletions kept in the store', () => {
  it('behaves as the merge that kept them in a Map: same contents, timestamps and counts (seeded)', () => {
    const seed = fuzzSeed();
    const rnd = new SeededRandom(seed);
    const store = new EntryStore();
    const merge = new KeyMerge();
    const reference = new MapDeletionsMerge();
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
    const offsets = new Map<number, number>();
    for (let i = 0; i < 60_000; i++) {
      const key = rnd.pick(keys);
      const canonical = Number(key.slice(4)) % 3;
      // Mostly the canonical partition, as a node writes; sometimes another, as a partition change or a mirror does.
      const partition = rnd.chance(0.98) ? canonical : rnd.between(0, 3);
      const offset = offsets.get(partition) ?? 0;
      offsets.set(partition, offset + 1);
      const version: Version = { partition, offset, timestamp: 1_700_000_000_000 + rnd.between(0, 50), value: rnd.chance(0.4) ? null : Buffer.from(`v${i}`) };
      merge.apply(store, key, canonical, version);
      reference.apply(key, canonical, version);
      const at = `FUZZ_SEED=${seed}: ${key} after record ${i}`;
      const got = store.get(key);
      const want = reference.store.get(key);
      assert.deepEqual(got && { ...got, value: got.value.toString() }, want && { ...want, value: want.value!.toString() }, at);
      assert.equal(merge.highestTimestamp(store, key), reference.highestTimestamp(key), at);
      assert.equal(store.has(key), want !== undefined, at);
    }
    assert.equal(store.size, reference.store.size);
    assert.deepEqual(merge.sizes(store), { contested: reference.contested.size, deletions: reference.deletions.size });
    assert.ok(reference.deletions.size > 0 && reference.contested.size > 0, 'the run held both deletions and contested keys');
    assert.deepEqual([...store.keys()].sort(), [...reference.store.keys()].sort());
  });
});
