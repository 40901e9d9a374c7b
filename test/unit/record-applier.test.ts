import assert from 'node:assert/strict';
import { KeyMerge } from '../../src/log/key-merge';
import { PartitionPositions } from '../../src/log/partition-positions';
import { applyBatch, newApplyCounters, type AppliedStore, type LogRecord } from '../../src/log/record-applier';
import { EntryStore } from '../../src/store/entry-store';

function record(offset: number, key: string | Buffer | null, value: string | Buffer | null): LogRecord {
  return {
    offset: String(offset),
    timestamp: String(1_700_000_000_000 + offset),
    key: key === null ? null : Buffer.isBuffer(key) ? key : Buffer.from(key),
    value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
  };
}

describe('record applier', () => {
  function setup() {
    const store = new EntryStore();
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 0, low: 0, high: 100 }]);
    const counters = newApplyCounters();
    const deps = { store, positions, counters, limits: { maxKeyBytes: 16, maxValueBytes: 8 }, merge: new KeyMerge(), canonicalPartition: () => 0 };
    return { store, positions, counters, deps };
  }

  it('sets on a value, deletes on a tombstone, and keeps partition, offset and timestamp', () => {
    const { store, positions, deps } = setup();
    applyBatch(0, [record(0, 'a', '1'), record(1, 'b', '2'), record(2, 'a', null), record(3, 'b', '3')], 3, deps);
    assert.equal(store.get('a'), undefined);
    assert.deepEqual(store.get('b'), { value: Buffer.from('3'), partition: 0, offset: 3, timestamp: 1_700_000_000_003 });
    assert.equal(positions.position(0), 4);
  });

  it('ignores records below the position, so a refetch never moves a key backwards', () => {
    const { store, deps } = setup();
    applyBatch(0, [record(0, 'a', 'old'), record(1, 'a', 'new')], 1, deps);
    applyBatch(0, [record(0, 'a', 'old')], 0, deps);
    assert.equal(store.get('a')!.value.toString(), 'new');
  });

  it('skips and counts undecodable records without stopping', () => {
    const { store, counters, deps } = setup();
    applyBatch(
      0,
      [record(0, null, 'x'), record(1, Buffer.from([0xff, 0xfe]), 'x'), record(2, 'k'.repeat(17), 'x'), record(3, 'ok', 'fine')],
      3,
      deps,
    );
    assert.deepEqual(counters.skipped, { null_key: 1, invalid_key: 1, key_too_large: 1, value_too_large: 0 });
    assert.equal(store.size, 1);
    assert.equal(counters.applied, 1);
  });

  it('drops the older value when a newer one is too large to hold', () => {
    const { store, counters, deps } = setup();
    applyBatch(0, [record(0, 'a', 'small'), record(1, 'a', 'much too large')], 1, deps);
    assert.equal(store.get('a'), undefined);
    assert.equal(counters.skipped.value_too_large, 1);
  });

  it('moves the position past a batch whose tail holds no records (control records, compaction)', () => {
    const { positions, deps } = setup();
    applyBatch(0, [record(5, 'a', '1')], 9, deps);
    assert.equal(positions.position(0), 10);
  });

  it('copies values out of the fetch buffer', () => {
    const { store, deps } = setup();
    const fetched = Buffer.from('abc');
    applyBatch(0, [record(0, 'a', fetched)], 0, deps);
    fetched.write('zzz');
    assert.equal(store.get('a')!.value.toString(), 'abc');
  });

  it('moves the position with each record, so a batch retried after a failure never applies a record twice', () => {
    const { store, positions, counters } = setup();
    const puts = new Map<string, number>();
    let refusals = 1;
    // A store that refuses "c" once (as a full map would), and counts every put.
    const refusing: AppliedStore = {
      get: (key) => store.get(key),
      put(key, value, partition, offset, timestamp) {
        if (key === 'c' && refusals-- > 0) throw new RangeError('refused');
        puts.set(key, (puts.get(key) ?? 0) + 1);
        store.put(key, value, partition, offset, timestamp);
      },
      delete: (key) => store.delete(key),
      markDeleted: (key, partition, offset, timestamp) => store.markDeleted(key, partition, offset, timestamp),
      deletionOf: (key) => store.deletionOf(key),
      deletions: 0,
    };
    const deps = { store: refusing, positions, counters, limits: { maxKeyBytes: 16, maxValueBytes: 8 }, merge: new KeyMerge(), canonicalPartition: () => 0 };
    const batch = [record(0, 'a', '1'), record(1, 'b', '2'), record(2, 'c', '3'), record(3, 'd', '4')];
    assert.throws(() => applyBatch(0, batch, 3, deps), /refused/);
    assert.equal(positions.position(0), 2, 'the position stops just before the record that failed');
    applyBatch(0, batch, 3, deps);
    assert.deepEqual(Object.fromEntries(puts), { a: 1, b: 1, c: 1, d: 1 });
    assert.equal(counters.applied, 4);
    assert.equal(positions.position(0), 4);
  });
});
