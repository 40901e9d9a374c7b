import assert from 'node:assert/strict';
import fc from 'fast-check';
import { array, bulk, bulks, error, integer, map, NULL_ARRAY, NULL_BULK, OK, type Reply, verbatim } from '../../src/resp/reply';
import { encodeReply, joinChunks, type ProtocolVersion } from '../../src/resp/reply-encoder';

const wire = (reply: Reply, protocol: ProtocolVersion): string => Buffer.concat(encodeReply(reply, protocol).map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).toString('latin1');

describe('RESP reply encoder', () => {
  it('writes the RESP2 shapes', () => {
    assert.equal(wire(OK, 2), '+OK\r\n');
    assert.equal(wire(error('ERR syntax error'), 2), '-ERR syntax error\r\n');
    assert.equal(wire(integer(-3), 2), ':-3\r\n');
    assert.equal(wire(bulk('héllo'), 2), '$6\r\nh\xc3\xa9llo\r\n');
    assert.equal(wire(bulk(Buffer.from([0, 13, 10])), 2), '$3\r\n\x00\r\n\r\n');
    assert.equal(wire(NULL_BULK, 2), '$-1\r\n');
    assert.equal(wire(NULL_ARRAY, 2), '*-1\r\n');
    assert.equal(wire(bulks(['a', null]), 2), '*2\r\n$1\r\na\r\n$-1\r\n');
    assert.equal(wire(map([['proto', integer(2)]]), 2), '*2\r\n$5\r\nproto\r\n:2\r\n');
    assert.equal(wire(verbatim('# Server\r\nx:1'), 2), '$13\r\n# Server\r\nx:1\r\n');
  });

  it('writes the RESP3 shapes: maps, verbatim strings, _ for null', () => {
    assert.equal(wire(NULL_BULK, 3), '_\r\n');
    assert.equal(wire(bulks([null]), 3), '*1\r\n_\r\n');
    assert.equal(wire(map([['a', bulk('b')], ['n', array([])]]), 3), '%2\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nn\r\n*0\r\n');
    assert.equal(wire(verbatim('x:1'), 3), '=7\r\ntxt:x:1\r\n');
  });

  it('keeps errors and simple strings on one line', () => {
    assert.equal(wire(error('ERR a\r\nb'), 2), '-ERR a b\r\n');
  });

  it('joins chunks into one buffer, passing long values on uncopied between joined runs', () => {
    const long = Buffer.alloc(20_000, 7);
    const chunks: Array<string | Buffer> = ['$3\r\n', Buffer.from('abc'), '\r\n', '+héllo\r\n', '$20000\r\n', long, '\r\n', long, ':1\r\n'];
    const joined = joinChunks(chunks);
    const expected = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    assert.deepEqual(Buffer.concat(joined), expected);
    // [run before the first long value], long, [CRLF], long, [:1]
    assert.equal(joined.length, 5);
    assert.equal(joined[1], long);
    assert.equal(joined[3], long);
    assert.deepEqual(joinChunks(['+OK\r\n', ':2\r\n']), [Buffer.from('+OK\r\n:2\r\n')]);
    assert.deepEqual(joinChunks([]), []);
  });

  it('joins any mix of strings (ASCII or not, short or long) and buffers to the bytes they encode', () => {
    const chunk = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.integer({ min: 16_000, max: 17_000 }).map((n) => Buffer.alloc(n, 3)),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
        const expected = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
        assert.deepEqual(Buffer.concat(joinChunks(chunks)), expected);
      }),
      { numRuns: 2_000, seed: 17 },
    );
  });
});
