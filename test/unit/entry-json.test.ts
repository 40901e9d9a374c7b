import assert from 'node:assert/strict';
import { entryJsonText, entryToJson } from '../../src/commands/entry-json';
import { AWKWARD_TEXT, fuzzValue, INVALID_UTF8 } from '../helpers/fuzz-values';
import { fuzzSeed, SeededRandom } from '../helpers/seeded-random';

describe('entry JSON', () => {
  it('writes the text of entryToJson exactly, for every kind of key and value', () => {
    const rnd = new SeededRandom(fuzzSeed());
    const keys = [...AWKWARD_TEXT, 'plain', '"quoted"\\back', '\u2028\u2029', '\u0001\u001f\u007f'];
    const values: Buffer[] = [...INVALID_UTF8.map((bytes) => Buffer.from(bytes)), ...AWKWARD_TEXT.map((text) => Buffer.from(text))];
    for (let i = 0; i < 2_000; i++) values.push(fuzzValue(rnd, 1_024).bytes);
    for (const [i, value] of values.entries()) {
      const key = keys[i % keys.length]!;
      const entry = { value, partition: rnd.int(64), offset: rnd.int(2 ** 40), timestamp: 1_700_000_000_000 + rnd.int(2 ** 30) };
      const source = i % 2 === 0 ? 'local' : 'peer';
      const expected = JSON.stringify(entryToJson(key, entry, { source }));
      assert.equal(entryJsonText(key, entry, source), expected, `seed ${rnd.seed}, value ${value.toString('hex')}`);
    }
  });
});
