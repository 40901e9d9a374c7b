import assert from 'node:assert/strict';
import type { PeerFanOut } from '../../../src/commands/command-context';
import { bytes, codeOf, fakeCommands } from '../../helpers/fake-command-deps';

describe('command: mget', () => {
  it('answers each key in order, a miss as a miss, counted once as multiget', () => {
    const { commands, map, recorded } = fakeCommands();
    map.set('a', { value: bytes('1'), partition: 0, offset: 0, timestamp: 0 });
    const outcome = commands.mget('avro', [bytes('a'), bytes('b')]);
    assert.ok(!(outcome instanceof Promise));
    assert.deepEqual(outcome.kind === 'ok' && outcome.reads.map((r) => r.kind), ['hit', 'miss']);
    assert.deepEqual(recorded, [{ iface: 'avro', operation: 'multiget', outcome: 'ok' }]);
  });

  it('refuses more than 1,000 keys with TOO_MANY_KEYS (not KEY_INVALID), counted client_error', () => {
    const { commands, recorded } = fakeCommands();
    const outcome = commands.mget('avro', Array.from({ length: 1_001 }, (_, i) => bytes(`k${i}`)));
    assert.equal(codeOf(outcome as { kind: string }), 'TOO_MANY_KEYS');
    assert.deepEqual(recorded, [{ iface: 'avro', operation: 'multiget', outcome: 'client_error' }]);
  });

  it('waits for the keys that ask the peers', async () => {
    const fanOut: PeerFanOut = {
      shouldAsk: () => true,
      lookup: async () => ({ kind: 'value', entry: { value: bytes('far'), partition: 0, offset: 1, timestamp: 0 }, source: 'peer:b' }),
    };
    const outcome = await fakeCommands({ ready: false, fanOut }).commands.mget('avro', [bytes('x'), bytes('y')]);
    assert.deepEqual(outcome.kind === 'ok' && outcome.reads.map((r) => r.kind === 'hit' && r.source), ['peer:b', 'peer:b']);
  });

  it('fails as a whole on one bad key', () => {
    assert.equal(codeOf(fakeCommands({ maxKeyBytes: 2 }).commands.mget('avro', [bytes('a'), bytes('abc')]) as { kind: string }), 'KEY_TOO_LARGE');
  });
});
