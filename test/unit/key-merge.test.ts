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
