import assert from 'node:assert/strict';
import { fastRecordDecoder } from '../../src/patches/kafkajs-record-decoding';
import { SeededRandom } from '../helpers/seeded-random';

// kafkajs' own pieces, loaded from their files: the patch must give what they give, byte for byte.
type Decoder = { offset: number; readVarIntBytes(): Buffer };
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => Decoder;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => { buffer: Buffer };
const Long = require('kafkajs/src/utils/long') as { fromString(value: string): unknown };
type RecordDecoder = (decoder: Decoder, context: object) => Record<string, unknown>;
const original = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as RecordDecoder;
const patched = fastRecordDecoder(original as never) as unknown as RecordDecoder;

/** Decodes one encoded record with `decoder`, as kafkajs' batch decoder does (a length-prefixed slice). */
function decodeWith(decoder: RecordDecoder, encoded: Buffer, context: object): { record: Record<string, unknown>; end: number } {
  const outer = new KafkajsDecoder(encoded);
  const inner = new KafkajsDecoder(outer.readVarIntBytes());
  const record = decoder(inner, context);
  return { record, end: inner.offset };
}

const EDGES = ['0', '1', '-1', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808'];

function randomLongString(rnd: SeededRandom): string {
  if (rnd.chance(0.2)) return EDGES[rnd.int(EDGES.length)]!;
  if (rnd.chance(0.1)) return String(BigInt(rnd.int(2 ** 30)) * BigInt(rnd.int(2 ** 30)) * BigInt(rnd.int(2 ** 3) + 1));
  return String(rnd.int(2 ** 31) * 1_000 + rnd.int(1_000));
}

function randomDelta(rnd: SeededRandom): string {
  const pick = rnd.int(6);
  if (pick === 0) return '0';
  if (pick === 1) return String(rnd.int(1_000));
  if (pick === 2) return String(-rnd.int(1_000_000));
  // Around the 7-byte varint edge (2^48 zigzag) and past it.
  if (pick === 3) return String((rnd.chance(0.5) ? 1 : -1) * (2 ** 48 + rnd.between(-3, 3)));
  if (pick === 4) return String(BigInt(rnd.int(2 ** 31)) * BigInt(2 ** 31) * (rnd.chance(0.5) ? 1n : -1n));
  return EDGES[rnd.int(EDGES.length)]!;
}

describe('the faster kafkajs record decoder (src/patches/kafkajs-record-decoding.ts)', () => {
  it('gives the same record as kafkajs on random records, the 64-bit edges included', () => {
    const rnd = new SeededRandom(20261204);
    for (let i = 0; i < 20_000; i++) {
      const headers: Record<string, Buffer | Buffer[]> = {};
      for (let h = rnd.int(3); h > 0; h--) headers[`h${rnd.int(3)}`] = rnd.chance(0.3) ? [rnd.bytes(rnd.int(4)), rnd.bytes(2)] : rnd.bytes(rnd.int(5));
      const offsetDelta = rnd.chance(0.9) ? rnd.int(100_000) : rnd.int(2 ** 31 - 1);
      const encoded = encodeRecord({
        offsetDelta,
        timestampDelta: Long.fromString(randomDelta(rnd)),
        key: rnd.chance(0.1) ? null : rnd.bytes(rnd.int(40)),
        value: rnd.chance(0.1) ? null : rnd.bytes(rnd.int(200)),
        headers,
      }).buffer;
      const context = {
        firstOffset: randomLongString(rnd),
        firstTimestamp: randomLongString(rnd),
        magicByte: 2,
        isControlBatch: rnd.chance(0.05),
        timestampType: rnd.chance(0.1) ? 1 : 0,
        maxTimestamp: randomLongString(rnd),
      };
      const expected = decodeWith(original, encoded, context);
      const actual = decodeWith(patched, encoded, context);
      assert.deepEqual(actual, expected, `record ${i}: ${JSON.stringify(context)}`);
    }
  });
});
