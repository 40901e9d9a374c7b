import assert from 'node:assert/strict';
import { BitacoraError } from '../../../src/errors/bitacora-error';
import { bytes, codeOf, fakeCommands } from '../../helpers/fake-command-deps';

describe('command: mset', () => {
  it('writes every pair and answers each landing, in order, counted once as multiset', async () => {
    const { commands, map, recorded } = fakeCommands();
    const outcome = await commands.mset('resp', [
      [bytes('a'), bytes('1')],
      [bytes('b'), bytes('2')],
    ]);
    assert.deepEqual(outcome.kind === 'ok' && outcome.writes.map((w) => w.key), ['a', 'b']);
    assert.deepEqual([map.get('a')?.value, map.get('b')?.value], [bytes('1'), bytes('2')]);
    assert.deepEqual(recorded, [{ iface: 'resp', operation: 'multiset', outcome: 'ok' }]);
  });

  it('checks every pair before writing any', async () => {
    const { commands, written } = fakeCommands({ maxValueBytes: 1 });
    const outcome = await commands.mset('resp', [
      [bytes('a'), bytes('1')],
      [bytes('b'), bytes('22')],
    ]);
    assert.equal(codeOf(outcome), 'VALUE_TOO_LARGE');
    assert.deepEqual(written, []);
  });

  it('answers the first failure of Kafka', async () => {
    const { commands, state } = fakeCommands();
    state.produceError = new BitacoraError('KAFKA_UNAVAILABLE', 'no ack');
    assert.equal(codeOf(await commands.mset('resp', [[bytes('a'), bytes('1')]])), 'KAFKA_UNAVAILABLE');
  });

  it('refuses more than 1,000 pairs with TOO_MANY_KEYS', async () => {
    const pairs = Array.from({ length: 1_001 }, (_, i) => [bytes(`k${i}`), bytes('v')] as const);
    assert.equal(codeOf(await fakeCommands().commands.mset('resp', pairs)), 'TOO_MANY_KEYS');
  });
});
