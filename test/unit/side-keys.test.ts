import assert from 'node:assert/strict';
import { KeyMerge, type SideVersion } from '../../src/log/key-merge';
import { decodeRecord } from '../../src/log/record-decoder';
import { PARTITION_PIN_KEY } from '../../src/log/reserved-keys';
import { decodeSideKey, encodeSideKey, SIDE_DELETED_HEADER, SOURCE_OFFSET_HEADER, sideHeaders } from '../../src/log/side-keys';
import { EntryStore } from '../../src/store/entry-store';
import { SeededRandom, fuzzSeed } from '../helpers/seeded-random';

const LIMITS = { maxKeyBytes: 64, maxValueBytes: 64 };
const value = (text: string): Buffer => Buffer.from(text);

describe('side keys (#13 mirroring)', () => {
  it('encodes the source partition and the user key, and decodes them back', () => {
    const raw = encodeSideKey(Buffer.from('ключ'), 7);
    assert.deepEqual(decodeSideKey(raw), { source: 7, key: Buffer.from('ключ') });
    assert.equal(raw[0], 0xff, 'starts with the reserved prefix, never valid UTF-8');
    assert.equal(decodeSideKey(PARTITION_PIN_KEY), undefined);
    assert.equal(decodeSideKey(Buffer.from('plain')), undefined);
  });

  it('decodes side records: a value, a marker (empty value with the deleted header), a tombstone, and junk as internal', () => {
    const raw = encodeSideKey(Buffer.from('k'), 2);
    assert.deepEqual(decodeRecord(raw, value('v'), LIMITS, sideHeaders(41, false)), { kind: 'side', key: 'k', keyBytes: Buffer.from('k'), source: 2, sourceOffset: 41, value: value('v') });
    assert.deepEqual(decodeRecord(raw, Buffer.alloc(0), LIMITS, sideHeaders(42, true)), { kind: 'side', key: 'k', keyBytes: Buffer.from('k'), source: 2, sourceOffset: 42, value: null });
    assert.deepEqual(decodeRecord(raw, Buffer.alloc(0), LIMITS, { [SOURCE_OFFSET_HEADER]: Buffer.from('43') }), { kind: 'side', key: 'k', keyBytes: Buffer.from('k'), source: 2, sourceOffset: 43, value: Buffer.alloc(0) });
    assert.deepEqual(decodeRecord(raw, null, LIMITS, { [SOURCE_OFFSET_HEADER]: '44', [SIDE_DELETED_HEADER]: '1' }), { kind: 'side', key: 'k', keyBytes: Buffer.from('k'), source: 2, sourceOffset: 44, value: null });
    assert.deepEqual(decodeRecord(raw, value('v'), LIMITS, undefined), { kind: 'side', key: 'k', keyBytes: Buffer.from('k'), source: 2, sourceOffset: -1, value: value('v') });
    assert.deepEqual(decodeRecord(encodeSideKey(Buffer.from([0xc3]), 2), value('v'), LIMITS), { kind: 'internal' });
    assert.deepEqual(decodeRecord(PARTITION_PIN_KEY, value('{}'), LIMITS), { kind: 'internal' });
  });
});

describe('key merge with side records', () => {
  const CANONICAL = 0;
  const side = (source: number, sourceOffset: number, timestamp: number, text: string | null): SideVersion => ({ source, sourceOffset, timestamp, value: text === null ? null : value(text) });

  it('a mirror stands for its source record: the same store entry whether a node sees the direct record, the mirror, or both', () => {
    const direct = { store: new EntryStore(), merge: new KeyMerge() };
    direct.merge.apply(direct.store, 'k', CANONICAL, { partition: 2, offset: 5, timestamp: 100, value: value('foreign') });
    const mirrored = { store: new EntryStore(), merge: new KeyMerge() };
    mirrored.merge.applySide(mirrored.store, 'k', CANONICAL, side(2, 5, 100, 'foreign'));
    const both = { store: new EntryStore(), merge: new KeyMerge() };
    both.merge.applySide(both.store, 'k', CANONICAL, side(2, 5, 100, 'foreign'));
    both.merge.apply(both.store, 'k', CANONICAL, { partition: 2, offset: 5, timestamp: 100, value: value('foreign') });
    const expected = { value: value('foreign'), partition: 2, offset: 5, timestamp: 100 };
    assert.deepEqual(direct.store.get('k'), expected);
    assert.deepEqual(mirrored.store.get('k'), expected);
    assert.deepEqual(both.store.get('k'), expected);
  });

  it('closes the gap: a mirrored foreign deletion keeps an older value hidden once the tombstone itself is cleaned', () => {
    // Live: node value in the canonical partition (ts 100), foreign value in 1 (ts 50), foreign tombstone in 2 (ts 200).
    const live = { store: new EntryStore(), merge: new KeyMerge() };
    live.merge.apply(live.store, 'k', CANONICAL, { partition: 0, offset: 3, timestamp: 100, value: value('node') });
    live.merge.apply(live.store, 'k', CANONICAL, { partition: 2, offset: 8, timestamp: 200, value: null });
    assert.equal(live.store.get('k'), undefined);
    assert.deepEqual(live.merge.unmirroredKeys(2), ['k']);
    const todo = live.merge.unmirroredRecord(live.store, 'k', 2)!;
    assert.deepEqual(todo, { canonical: CANONICAL, offset: 8, timestamp: 200, value: null });
    live.merge.applySide(live.store, 'k', CANONICAL, side(2, todo.offset, todo.timestamp, null));
    assert.deepEqual(live.merge.unmirroredKeys(2), [], 'mirrored once: nothing left to copy');
    // Replay after the cleaner dropped partition 2's tombstone: the marker (non-null in Kafka) is still there.
    const replay = { store: new EntryStore(), merge: new KeyMerge() };
    replay.merge.applySide(replay.store, 'k', CANONICAL, side(2, 8, 200, null));
    replay.merge.apply(replay.store, 'k', CANONICAL, { partition: 0, offset: 3, timestamp: 100, value: value('node') });
    assert.equal(replay.store.get('k'), undefined);
    assert.deepEqual(replay.merge.unmirroredKeys(2), []);
  });

  it('is idempotent: a record at or below the side slot\'s source offset is not copied again; a later one is', () => {
    const { store, merge } = { store: new EntryStore(), merge: new KeyMerge() };
    merge.applySide(store, 'k', CANONICAL, side(1, 9, 100, 'v9'));
    merge.apply(store, 'k', CANONICAL, { partition: 1, offset: 4, timestamp: 90, value: value('v4') });
    merge.apply(store, 'k', CANONICAL, { partition: 1, offset: 9, timestamp: 100, value: value('v9') });
    assert.equal(merge.unmirroredCount(1), 0);
    assert.equal(merge.unmirroredRecord(store, 'k', 1), undefined);
    assert.equal(store.get('k')!.value.toString(), 'v9');
    merge.apply(store, 'k', CANONICAL, { partition: 1, offset: 12, timestamp: 95, value: value('v12') });
    assert.equal(merge.unmirroredCount(1), 1);
    assert.equal(store.get('k')!.value.toString(), 'v12', 'within a partition the later offset wins, whatever the timestamps');
  });

  it("a node DEL's side tombstones cover the source offsets it names, so nothing is mirrored again", () => {
    const { store, merge } = { store: new EntryStore(), merge: new KeyMerge() };
    merge.apply(store, 'k', CANONICAL, { partition: 1, offset: 4, timestamp: 90, value: value('foreign') });
    assert.deepEqual(merge.otherValuePartitions('k', CANONICAL), [1]);
    // The DEL: a tombstone in 1 (offset 5), then main + side tombstones in the canonical partition, covering 5.
    merge.apply(store, 'k', CANONICAL, { partition: 1, offset: 5, timestamp: 300, value: null });
    assert.deepEqual([...merge.sideSlots('k', CANONICAL)], [[1, 5]]);
    merge.apply(store, 'k', CANONICAL, { partition: 0, offset: 20, timestamp: 300, value: null });
    merge.applySide(store, 'k', CANONICAL, side(1, 5, 300, null));
    assert.equal(store.get('k'), undefined);
    assert.equal(merge.unmirroredCount(1), 0);
    assert.deepEqual(merge.otherValuePartitions('k', CANONICAL), []);
    assert.equal(merge.highestTimestamp(store, 'k'), 300);
  });

  it('ignores a side record of the canonical partition itself', () => {
    const { store, merge } = { store: new EntryStore(), merge: new KeyMerge() };
    merge.applySide(store, 'k', CANONICAL, side(CANONICAL, 1, 100, 'v'));
    assert.equal(store.get('k'), undefined);
    assert.equal(merge.sizes(store).contested, 0);
  });
});

/** One record of the simulated topic: a user key's own record, or a side record (in partition 0, the canonical one). */
interface SimRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly value: string | null;
  /** Side records: the source partition and the source offset copied or covered; a marker is a non-null deletion. */
  readonly side?: { readonly source: number; readonly sourceOffset: number; readonly marker: boolean };
}

describe('key merge with side records (seeded: node writes, foreign writes elsewhere, mirroring, node deletes)', () => {
  const CANONICAL = 0;

  /** Applies the partitions' records in the interleaving `order` (partition numbers); the store's entry for the key. */
  function replay(logs: ReadonlyMap<number, readonly SimRecord[]>, order: readonly number[]): string {
    return JSON.stringify(applyAll(logs, order).store.get('k') ?? null);
  }

  function applyAll(logs: ReadonlyMap<number, readonly SimRecord[]>, order: readonly number[]): { store: EntryStore; merge: KeyMerge } {
    const store = new EntryStore();
    const merge = new KeyMerge();
    const next = new Map([...logs.keys()].map((p) => [p, 0]));
    for (const p of order) {
      const i = next.get(p)!;
      next.set(p, i + 1);
      const r = logs.get(p)![i]!;
      const value = r.value === null ? null : Buffer.from(r.value);
      if (r.side) merge.applySide(store, 'k', CANONICAL, { source: r.side.source, sourceOffset: r.side.sourceOffset, timestamp: r.timestamp, value: r.side.marker ? null : value });
      else merge.apply(store, 'k', CANONICAL, { partition: p, offset: r.offset, timestamp: r.timestamp, value });
    }
    return { store, merge };
  }

  const inOrder = (logs: ReadonlyMap<number, readonly SimRecord[]>): number[] => [...logs.entries()].flatMap(([p, records]) => records.map(() => p));

  /** What the cleaner leaves past delete.retention.ms: each Kafka key's last record, unless it is a tombstone. */
  function compact(logs: ReadonlyMap<number, readonly SimRecord[]>): Map<number, SimRecord[]> {
    const out = new Map<number, SimRecord[]>();
    for (const [p, records] of logs) {
      const last = new Map<string, SimRecord>();
      for (const r of records) last.set(r.side ? `side/${r.side.source}` : 'main', r);
      out.set(p, [...last.values()].filter((r) => r.value !== null).sort((a, b) => a.offset - b.offset));
    }
    return out;
  }

  it('decides the same in every interleaving, and a replay of the cleaned topic decides as the live nodes did (hidden values restated as markers)', () => {
    const seed = fuzzSeed();
    const rnd = new SeededRandom(seed);
    for (let round = 0; round < 400; round++) {
      const logs = new Map<number, SimRecord[]>([[0, []], [1, []], [2, []]]);
      const append = (p: number, r: Omit<SimRecord, 'offset'>): number => {
        const offset = logs.get(p)!.length;
        logs.get(p)!.push({ ...r, offset });
        return offset;
      };
      // The live view, as a node that applied everything so far sees it (for the hybrid clock, mirroring and DEL).
      const live = (): { store: EntryStore; merge: KeyMerge } => applyAll(logs, inOrder(logs));
      const mirrorAll = (): void => {
        const { store, merge } = live();
        for (const source of [1, 2]) {
          const todo = merge.unmirroredRecord(store, 'k', source);
          if (todo) append(0, { timestamp: todo.timestamp, value: todo.value?.toString() ?? '', side: { source, sourceOffset: todo.offset, marker: todo.value === null } });
        }
      };
      for (let step = 0, steps = rnd.between(1, 8); step < steps; step++) {
        const what = rnd.between(0, 5);
        const { store, merge } = live();
        const hybrid = Math.max(rnd.between(0, 20), (merge.highestTimestamp(store, 'k') ?? -1) + 1);
        if (what <= 1) append(rnd.between(1, 2), { timestamp: rnd.between(0, 20), value: rnd.chance(0.3) ? null : `f${round}.${step}` });
        else if (what === 2) append(CANONICAL, { timestamp: hybrid, value: `n${round}.${step}` });
        else if (what === 3) mirrorAll();
        else {
          // A node DEL: tombstones where a value is held elsewhere, then main and side tombstones together.
          const covered = new Map(merge.sideSlots('k', CANONICAL));
          for (const p of merge.otherValuePartitions('k', CANONICAL)) covered.set(p, append(p, { timestamp: hybrid, value: null }));
          append(CANONICAL, { timestamp: hybrid, value: null });
          for (const [source, sourceOffset] of covered) append(CANONICAL, { timestamp: hybrid, value: null, side: { source, sourceOffset, marker: true } });
        }
      }
      mirrorAll();
      const order = inOrder(logs);
      const expected = replay(logs, order);
      for (let shuffle = 0; shuffle < 4; shuffle++) {
        for (let i = order.length - 1; i > 0; i--) {
          const j = rnd.between(0, i);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        assert.equal(replay(logs, order), expected, `seed ${seed} round ${round}: interleaving ${order.join(',')}`);
      }
      const cleaned = compact(logs);
      // A value's entry names its own partition and offset, which compaction keeps: the entries are equal, not just the values.
      assert.equal(replay(cleaned, inOrder(cleaned)), expected, `seed ${seed} round ${round}: after compaction, logs ${JSON.stringify([...logs])}`);
    }
  });
});
