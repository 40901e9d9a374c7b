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
});
