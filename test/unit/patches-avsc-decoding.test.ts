import assert from 'node:assert/strict';
import { Type } from 'avsc';
import { patchAvscDecoding } from '../../src/patches/avsc-decoding';

/** An Avro long, zigzag varint encoded. */
function avroLong(n: number): Buffer {
  let z = BigInt(n) >= 0n ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
  const bytes: number[] = [];
  do {
    let byte = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (z > 0n);
  return Buffer.from(bytes);
}

describe('Avro decoding guard', () => {
  before(() => patchAvscDecoding());

  it('refuses an array block declaring more items than bytes follow, at once (unguarded avsc spins for minutes)', () => {
    const type = Type.forSchema({ type: 'array', items: 'string' });
    const started = Date.now();
    assert.throws(() => type.fromBuffer(Buffer.concat([avroLong(2_000_000_000), Buffer.from([0x02, 0x61])])), /declares 2000000000 items/);
    assert.ok(Date.now() - started < 1_000);
  });

  it('refuses a map block the same way, and a negative (sized) block too', () => {
    const type = Type.forSchema({ type: 'map', values: 'bytes' });
    assert.throws(() => type.fromBuffer(Buffer.concat([avroLong(1_500_000_000), Buffer.from([0x02, 0x61, 0x00])])), /declares 1500000000 items/);
    assert.throws(() => type.fromBuffer(Buffer.concat([avroLong(-1_500_000_000), avroLong(10), Buffer.from([0x02])])), /declares 1500000000 items/);
  });

  it('still decodes what it should: arrays, maps, nested and multi-block, and arrays of nulls', () => {
    const nested = Type.forSchema({ type: 'array', items: { type: 'map', values: { type: 'array', items: 'long' } } });
    const value = [{ a: [1, 2, 3], b: [] }, {}, { c: [-7] }];
    assert.deepEqual(nested.fromBuffer(nested.toBuffer(value)), value);
    const nulls = Type.forSchema({ type: 'array', items: 'null' });
    assert.deepEqual(nulls.fromBuffer(Buffer.concat([avroLong(5), avroLong(0)])), [null, null, null, null, null]);
    const strings = Type.forSchema({ type: 'array', items: 'string' });
    const twoBlocks = Buffer.concat([avroLong(1), avroLong(1), Buffer.from('a'), avroLong(-1), avroLong(2), avroLong(1), Buffer.from('b'), avroLong(0)]);
    assert.deepEqual(strings.fromBuffer(twoBlocks), ['a', 'b']);
  });
});
