import assert from 'node:assert/strict';
import { KeyMerge } from '../../src/log/key-merge';
import { MIRROR_GRACE_MS, mirrorRound } from '../../src/log/partition-mirror';
import { decodeRecord } from '../../src/log/record-decoder';
import { designatedMirror } from '../../src/membership/mirror-role';
import { EntryStore } from '../../src/store/entry-store';

describe('mirroring (#13)', () => {
  it('designates one node per source partition, the same on every node whatever order it lists members in', () => {
    assert.equal(designatedMirror(0, ['b', 'a', 'c']), 'a');
    assert.equal(designatedMirror(4, ['c', 'b', 'a']), 'b');
    assert.equal(designatedMirror(2, ['a', 'b', 'c']), designatedMirror(2, ['c', 'a', 'b']));
    assert.equal(designatedMirror(1, []), undefined);
  });

  it('copies each key\'s last record in the source partition once, a deletion as a marker, after the grace period', async () => {
    const store = new EntryStore();
    const merge = new KeyMerge();
    const written: Array<{ key: Buffer; value: Buffer; timestamp: number; partition: number; headers: Readonly<Record<string, string>> }> = [];
    let offset = 0;
    const deps = {
      merge,
      store,
      applyTimeoutMs: 1_000,
      waitForApplied: () => Promise.resolve(),
      // The node applies what it wrote (here at once), as its consumer would before the next round.
      write: async (key: Buffer, value: Buffer, timestamp: number, partition: number, headers: Readonly<Record<string, string>>) => {
        written.push({ key, value, timestamp, partition, headers });
        const decoded = decodeRecord(key, value, { maxKeyBytes: 64, maxValueBytes: 64 }, headers);
        assert.equal(decoded.kind, 'side');
        if (decoded.kind === 'side') merge.applySide(store, decoded.key, partition, { source: decoded.source, sourceOffset: decoded.sourceOffset, timestamp, value: decoded.value });
        return { partition, offset: offset++ };
      },
    };
    merge.apply(store, 'a', 0, { partition: 2, offset: 10, timestamp: 100, value: Buffer.from('old') });
    merge.apply(store, 'a', 0, { partition: 2, offset: 11, timestamp: 101, value: Buffer.from('new') });
    merge.apply(store, 'b', 1, { partition: 2, offset: 12, timestamp: 102, value: null });
    assert.equal(await mirrorRound(2, deps), 0, 'nothing before the grace period');
    const now = Date.now;
    Date.now = () => now() + MIRROR_GRACE_MS + 1;
    try {
      assert.equal(await mirrorRound(2, deps), 2);
      assert.equal(await mirrorRound(2, deps), 0, 'nothing twice');
    } finally {
      Date.now = now;
    }
    assert.deepEqual(
      written.map((w) => ({ partition: w.partition, timestamp: w.timestamp, value: w.value.toString(), headers: w.headers })),
      [
        { partition: 0, timestamp: 101, value: 'new', headers: { 'bitacora-source-offset': '11' } },
        { partition: 1, timestamp: 102, value: '', headers: { 'bitacora-source-offset': '12', 'bitacora-deleted': '1' } },
      ],
    );
    assert.equal(merge.unmirroredCount(2), 0);
  });
});
