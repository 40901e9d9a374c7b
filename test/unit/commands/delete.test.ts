import assert from 'node:assert/strict';
import { bytes, codeOf, fakeCommands } from '../../helpers/fake-command-deps';

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
