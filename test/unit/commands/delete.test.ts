import assert from 'node:assert/strict';
import { Commands } from '../../../src/commands/commands';
import { decodeSideKey, readSideHeaders } from '../../../src/log/side-keys';
import { bytes, codeOf, fakeCommands, mapStore } from '../../helpers/fake-command-deps';

describe('command: delete', () => {
  it('writes a tombstone and answers where it landed, counted as delete', async () => {
    const { commands, map, written, recorded } = fakeCommands();
    map.set('k', { value: bytes('v'), partition: 0, offset: 0, timestamp: 0 });
    const outcome = await commands.delete('resp', bytes('k'));
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(written, [{ key: 'k', value: null }]);
    assert.equal(map.has('k'), false);
    assert.deepEqual(recorded, [{ iface: 'resp', operation: 'delete', outcome: 'ok' }]);
  });

  it('deleting an absent key is no error', async () => {
    const { commands } = fakeCommands();
    assert.equal((await commands.delete('http', bytes('never'))).kind, 'ok');
  });

  it('refuses an invalid key before anything reaches Kafka', async () => {
    const { commands, written } = fakeCommands();
    assert.equal(codeOf(await commands.delete('http', Buffer.from([0xc3]))), 'KEY_INVALID');
    assert.deepEqual(written, []);
  });
});

describe('command: delete of a key with records outside its canonical partition (#13)', () => {
  it('tombstones the other value-holding partitions first, then the main key and every side key in one request, each covering its source offset', async () => {
    const requests: Array<Array<{ partition: number; key: Buffer; value: Buffer | null; headers?: Readonly<Record<string, string>>; timestamp: number }>> = [];
    let next = 100;
    const commands = new Commands({
      store: mapStore(new Map()),
      positions: { position: () => 0, isReady: () => true, isCaughtUp: () => true, waitForApplied: () => Promise.resolve() },
      producer: {
        async write(key, value, timestamp = 0, partition = 0) {
          requests.push([{ partition, key, value, timestamp }]);
          return { partition, offset: next++ };
        },
        async writeTogether(records, timestamp, partition) {
          requests.push(records.map((r) => ({ ...r, partition, timestamp })));
          return records.map(() => ({ partition, offset: next++ }));
        },
      },
      partitionOf: () => 0,
      timestampFor: () => 5_000,
      otherValuePartitions: () => [2],
      // Slot 1 was mirrored up to offset 7; slot 2 holds a value at offset 40 (its tombstone lands at 100).
      sideSlots: () => new Map([[1, 7], [2, 40]]),
      limits: { maxKeyBytes: 16, maxValueBytes: 32 },
      applyTimeoutMs: 1_000,
    });
    const outcome = await commands.delete('http', bytes('k'));
    assert.deepEqual(outcome, { kind: 'ok', key: 'k', partition: 0, offset: 101 });
    assert.equal(requests.length, 2);
    assert.deepEqual(requests[0], [{ partition: 2, key: bytes('k'), value: null, timestamp: 5_000 }]);
    const [main, ...sides] = requests[1]!;
    assert.deepEqual({ ...main, headers: undefined }, { partition: 0, key: bytes('k'), value: null, timestamp: 5_000, headers: undefined });
    const covered = sides.map((s) => ({ ...decodeSideKey(s.key)!, ...readSideHeaders(s.headers, s.value), partition: s.partition, timestamp: s.timestamp }));
    assert.deepEqual(covered, [
      { key: bytes('k'), source: 1, sourceOffset: 7, deleted: true, partition: 0, timestamp: 5_000 },
      { key: bytes('k'), source: 2, sourceOffset: 100, deleted: true, partition: 0, timestamp: 5_000 },
    ]);
  });
});
