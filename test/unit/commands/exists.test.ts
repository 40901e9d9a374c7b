import assert from 'node:assert/strict';
import { bytes, codeOf, fakeCommands } from '../../helpers/fake-command-deps';

describe('command: exists', () => {
  it('counts the keys present, a key named twice twice, synchronously when all are local', () => {
    const { commands, map, recorded } = fakeCommands();
    map.set('a', { value: bytes('1'), partition: 0, offset: 0, timestamp: 0 });
    const outcome = commands.exists('resp', [bytes('a'), bytes('b'), bytes('a')]);
    assert.deepEqual(outcome, { kind: 'ok', count: 2 });
    assert.deepEqual(recorded, [{ iface: 'resp', operation: 'exists', outcome: 'ok' }]);
  });

  it('fails as a whole on a bad key, and while loading (absence not yet known)', () => {
    assert.equal(codeOf(fakeCommands().commands.exists('resp', [bytes('a'), Buffer.alloc(0)]) as { kind: string }), 'KEY_MISSING');
    assert.equal(codeOf(fakeCommands({ ready: false }).commands.exists('resp', [bytes('a')]) as { kind: string }), 'NOT_READY');
  });

  it('refuses more than 1,000 keys with TOO_MANY_KEYS', () => {
    const keys = Array.from({ length: 1_001 }, (_, i) => bytes(`k${i}`));
    assert.equal(codeOf(fakeCommands().commands.exists('resp', keys) as { kind: string }), 'TOO_MANY_KEYS');
  });
});
