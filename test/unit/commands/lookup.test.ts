import assert from 'node:assert/strict';
import { decodePeerLookup, encodePeerLookup } from '../../../src/cluster/peer-lookup-wire';
import { bytes, codeOf, fakeCommands } from '../../helpers/fake-command-deps';

describe('command: lookup (what peers ask on a fan-out)', () => {
  it('answers from the local map only, with the position, counted as lookup (a miss as not_found)', () => {
    const { commands, map, recorded } = fakeCommands({ ready: false });
    map.set('k', { value: bytes('v'), partition: 2, offset: 4, timestamp: 9 });
    const hit = commands.lookup('http', bytes('k'));
    const miss = commands.lookup('http', bytes('absent'));
    assert.equal(hit.kind, 'hit');
    // A loading node still answers "absent as of my position": the asking node weighs it, never NOT_READY here.
    assert.equal(miss.kind, 'miss');
    assert.deepEqual(recorded.map((r) => `${r.operation}:${r.outcome}`), ['lookup:ok', 'lookup:not_found']);
  });

  it('travels through the wire format and back unchanged (one definition for both ends)', () => {
    const { commands, map } = fakeCommands();
    map.set('k', { value: Buffer.from([0, 0xff]), partition: 2, offset: 4, timestamp: 9 });
    const hit = commands.lookup('http', bytes('k'));
    const miss = commands.lookup('http', bytes('absent'));
    assert.ok(hit.kind === 'hit' && miss.kind === 'miss');
    const roundTrip = (wire: ReturnType<typeof encodePeerLookup>) => decodePeerLookup('b', wire.status, Buffer.from(JSON.stringify(wire.body)));
    assert.deepEqual(roundTrip(encodePeerLookup(hit)), { kind: 'value', from: 'b', entry: hit.entry });
    assert.deepEqual(roundTrip(encodePeerLookup(miss)), { kind: 'absent', from: 'b', partition: miss.partition, position: miss.position });
    assert.deepEqual(decodePeerLookup('b', 200, Buffer.from('not json')), { kind: 'failed', from: 'b', reason: 'error' });
  });

  it('refuses a bad key', () => {
    assert.equal(codeOf(fakeCommands().commands.lookup('http', undefined)), 'KEY_MISSING');
  });
});
