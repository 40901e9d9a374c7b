import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COMMAND_TABLE, findCommand } from '../../src/resp/command-table';

/** What the lookup means: the name decoded as latin1 and lower-cased, then looked up (the former implementation). */
const byString = (name: Buffer) => COMMAND_TABLE.get(name.toString('latin1').toLowerCase());

/** A name with each ASCII letter in a random case. */
const anyCase = (name: string, flips: boolean[]): Buffer =>
  Buffer.from([...name].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join(''), 'latin1');

describe('RESP command table', () => {
  it('finds every command by its name in any case', () => {
    for (const [name, spec] of COMMAND_TABLE) {
      assert.equal(findCommand(Buffer.from(name)), spec, name);
      assert.equal(findCommand(Buffer.from(name.toUpperCase())), spec, name);
    }
  });

  it('agrees with a lower-cased string lookup on names near and far from real ones', () => {
    const names = [...COMMAND_TABLE.keys()];
    const nearName = fc
      .tuple(fc.constantFrom(...names), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.nat(20), fc.integer({ min: 0, max: 255 }), fc.nat(3))
      .map(([name, flips, at, byte, how]) => {
        const bytes = anyCase(name, flips);
        const i = at % bytes.length;
        // 0: as is; 1: one byte changed (to anything, a non-ASCII letter included); 2: a byte dropped; 3: a byte added.
        if (how === 1) bytes[i] = byte;
        if (how === 2) return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
        if (how === 3) return Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
        return bytes;
      });
    const anyBytes = fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(fc.oneof(nearName, anyBytes), (name) => {
        assert.equal(findCommand(name), byString(name));
      }),
      { numRuns: 20_000, seed: 17 },
    );
  });

  it('matches nothing for an empty name or one with bytes that only look like letters', () => {
    assert.equal(findCommand(Buffer.alloc(0)), undefined);
    // Latin-1 capitals fold to Latin-1 small letters, never to ASCII: "GÉT" is not "get".
    assert.equal(findCommand(Buffer.from('G\xc9T', 'latin1')), undefined);
    assert.equal(findCommand(Buffer.from('get\0', 'latin1')), undefined);
  });
});
