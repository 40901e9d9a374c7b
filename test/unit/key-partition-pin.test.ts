import assert from 'node:assert/strict';
import { decodePin, encodePin } from '../../src/log/key-partition-pin';
import { decodeRecord } from '../../src/log/record-decoder';
import { PARTITION_PIN_KEY, RESERVED_KEY_PREFIX, isReservedKey } from '../../src/log/reserved-keys';

const limits = { maxKeyBytes: 64, maxValueBytes: 64 };

describe('key→partition pin', () => {
  it('round-trips the pinned count and refuses values a node would not write', () => {
    assert.equal(decodePin(encodePin(3)), 3);
    for (const bad of [null, Buffer.from('{}'), Buffer.from('{"keyPartitions":0}'), Buffer.from('{"keyPartitions":2.5}'), Buffer.from('not json')]) {
      assert.equal(decodePin(bad), undefined, String(bad));
    }
  });

  it('lives under a reserved key that is never valid UTF-8, so never a user key, and is never applied or counted as skipped', () => {
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(RESERVED_KEY_PREFIX));
    assert.ok(isReservedKey(PARTITION_PIN_KEY));
    assert.deepEqual(decodeRecord(PARTITION_PIN_KEY, encodePin(3), limits), { kind: 'internal' });
    // Other undecodable keys are still skipped as invalid.
    assert.deepEqual(decodeRecord(Buffer.from([0xff, 0xfe]), Buffer.from('x'), limits), { kind: 'skip', reason: 'invalid_key' });
  });
});
