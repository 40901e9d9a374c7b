import querystring from 'node:querystring';
import assert from 'node:assert/strict';
import { BitacoraError } from '../../src/errors/bitacora-error';
import { parseQuery, singleParam } from '../../src/http/query';

describe('query parsing', () => {
  it('keeps values as raw bytes, so any byte survives', () => {
    const query = parseQuery('key=a%20b&value=%FF%00%C3%A9+x');
    assert.equal(query.get('key')![0].toString(), 'a b');
    assert.deepEqual([...query.get('value')![0]], [0xff, 0x00, 0xc3, 0xa9, 0x20, 0x78]);
  });

  it('treats a name without "=" as an empty value', () => {
    assert.equal(parseQuery('key').get('key')![0].length, 0);
  });

  it('refuses a malformed percent-escape', () => {
    for (const search of ['key=%', 'key=%G1', 'key=a%2', 'k%zz=1']) {
      assert.throws(() => parseQuery(search), (e: unknown) => e instanceof BitacoraError && e.code === 'BAD_ENCODING', search);
    }
  });

  it('refuses a parameter given twice', () => {
    assert.throws(() => singleParam(parseQuery('key=a&key=b'), 'key', 'KEY_INVALID'), (e: unknown) => e instanceof BitacoraError && e.code === 'KEY_INVALID');
  });

  it("reads names and values exactly as node's unescapeBuffer does, with or without escapes", () => {
    const unescapeBuffer = (querystring as unknown as { unescapeBuffer(s: string): Buffer }).unescapeBuffer;
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    // Latin-1 characters (what node:http gives a URL), '+', and well-formed escapes; '&' and '=' left out (separators).
    const pieces = (): string => {
      const c = random(10);
      if (c === 0) return '+';
      if (c === 1) return `%${random(256).toString(16).padStart(2, '0')}`;
      const code = random(256);
      return code === 38 || code === 61 || code === 37 || code === 43 ? 'x' : String.fromCharCode(code);
    };
    for (let round = 0; round < 2_000; round++) {
      const name = Array.from({ length: random(6) + 1 }, pieces).join('');
      const value = Array.from({ length: random(40) }, pieces).join('');
      const query = parseQuery(`${name}=${value}`);
      const expectedName = unescapeBuffer(name.replace(/\+/g, ' ')).toString('latin1');
      assert.deepEqual([...query.keys()], [expectedName], `name of round ${round}`);
      assert.deepEqual(query.get(expectedName)![0], unescapeBuffer(value.replace(/\+/g, ' ')), `value of round ${round}`);
    }
  });
});
