import assert from 'node:assert/strict';
import { BitacoraError } from '../../../src/errors/bitacora-error';
import { bytes, codeOf, fakeCommands } from '../../helpers/fake-command-deps';

describe('command: set', () => {
  it('writes the value and answers where it landed once applied, counted ok', async () => {
    const { commands, map, recorded, written } = fakeCommands();
    const outcome = await commands.set('http', bytes('k'), bytes('v'));
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(outcome.kind === 'ok' && { key: outcome.key, offset: outcome.offset }, { key: 'k', offset: 0 });
    assert.deepEqual(written, [{ key: 'k', value: bytes('v') }]);
    assert.deepEqual(map.get('k')?.value, bytes('v'));
    assert.deepEqual(recorded, [{ iface: 'http', operation: 'set', outcome: 'ok' }]);
  });

  it('refuses a bad key or a value over MAX_VALUE_BYTES before anything reaches Kafka', async () => {
    const { commands, written, recorded } = fakeCommands({ maxValueBytes: 2 });
    assert.equal(codeOf(await commands.set('avro', undefined, bytes('v'))), 'KEY_MISSING');
    assert.equal(codeOf(await commands.set('avro', bytes('k'), bytes('vvv'))), 'VALUE_TOO_LARGE');
    assert.deepEqual(written, []);
    assert.deepEqual(recorded.map((r) => r.outcome), ['client_error', 'client_error']);
  });

  it('answers what Kafka and the apply wait said: KAFKA_UNAVAILABLE, APPLY_TIMEOUT', async () => {
    const { commands, state, recorded } = fakeCommands();
    state.produceError = new BitacoraError('KAFKA_UNAVAILABLE', 'no ack');
    assert.equal(codeOf(await commands.set('http', bytes('k'), bytes('v'))), 'KAFKA_UNAVAILABLE');
    state.produceError = undefined;
    state.applyError = new BitacoraError('APPLY_TIMEOUT', 'not applied', { partition: 1, offset: 2 });
    assert.equal(codeOf(await commands.set('http', bytes('k'), bytes('v'))), 'APPLY_TIMEOUT');
    assert.deepEqual(recorded.map((r) => r.outcome), ['unavailable', 'timeout']);
  });

  it('turns an unexpected failure into INTERNAL without its text, and never rejects', async () => {
    const { commands, state } = fakeCommands();
    state.produceError = new TypeError('secret detail') as unknown as BitacoraError;
    const outcome = await commands.set('http', bytes('k'), bytes('v'));
    assert.equal(codeOf(outcome), 'INTERNAL');
    assert.doesNotMatch(outcome.kind === 'error' ? outcome.error.message : '', /secret/);
  });

  it('answers SHUTTING_DOWN once closed, writing nothing', async () => {
    const { commands, written } = fakeCommands();
    commands.close();
    assert.equal(codeOf(await commands.set('http', bytes('k'), bytes('v'))), 'SHUTTING_DOWN');
    assert.deepEqual(written, []);
  });
});
