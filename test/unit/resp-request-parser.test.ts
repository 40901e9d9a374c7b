import assert from 'node:assert/strict';
import { MAX_INLINE_BYTES, type ParsedRequest, RequestParser, splitInlineArgs } from '../../src/resp/request-parser';

const limits = { maxBulkBytes: 16, maxRequestBytes: 40, maxArgs: 8 };

/** Everything `input` parses to, fed in pieces of `step` bytes. */
function parseAll(input: string | Buffer, step = Infinity): ParsedRequest[] {
  const parser = new RequestParser(limits);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: ParsedRequest[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(step, bytes.length)) {
    parser.push(bytes.subarray(i, i + Math.min(step, bytes.length)));
    for (let request = parser.next(); request; request = parser.next()) out.push(request);
  }
  return out;
}

const commands = (requests: ParsedRequest[]): string[][] =>
  requests.map((r) => (r.kind === 'command' ? r.args.map((a) => a.toString('latin1')) : [r.kind, 'message' in r ? r.message : '']));

describe('RESP request parser', () => {
  it('parses pipelined multibulk requests, whole or a byte at a time', () => {
    const wire = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$0\r\n\r\n';
    const expected = [['SET', 'k', 'va\r\nl'], ['GET', 'k'], ['']];
    assert.deepEqual(commands(parseAll(wire)), expected);
    assert.deepEqual(commands(parseAll(wire, 1)), expected);
    assert.deepEqual(commands(parseAll(wire, 7)), expected);
  });

  it('keeps binary arguments byte for byte', () => {
    const value = Buffer.from([0, 255, 13, 10, 128]);
    const wire = Buffer.concat([Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\n'), value, Buffer.from('\r\n')]);
    const [request] = parseAll(wire, 3);
    assert.ok(request?.kind === 'command');
    assert.deepEqual(request.args[1], value);
  });

  it('parses inline commands with Redis quoting, and skips blank lines and empty multibulks', () => {
    assert.deepEqual(commands(parseAll('PING\r\n\r\nset  k "a b\\x41\\n"\n*0\r\n*-1\r\necho \'it\\\'s\'\r\n')), [
      ['PING'],
      ['set', 'k', 'a bA\n'],
      ['echo', "it's"],
    ]);
    assert.equal(splitInlineArgs(Buffer.from('"unbalanced')), undefined);
    assert.equal(splitInlineArgs(Buffer.from('"a"b')), undefined);
  });

  it('refuses an oversized bulk without keeping it, then goes on with the next request', () => {
    const big = 'x'.repeat(1_000);
    const wire = `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${big.length}\r\n${big}\r\n*1\r\n$4\r\nPING\r\n`;
    const parsed = parseAll(wire, 10);
    assert.equal(parsed.length, 2);
    assert.equal(parsed[0]!.kind, 'refused');
    assert.match((parsed[0] as { message: string }).message, /^ERR an argument is 1000 bytes, over the 16/);
    assert.deepEqual(commands([parsed[1]!]), [['PING']]);
  });

  it('refuses a request whose arguments together exceed maxRequestBytes', () => {
    const arg = 'y'.repeat(15);
    const wire = `*4\r\n$4\r\nMSET\r\n$15\r\n${arg}\r\n$15\r\n${arg}\r\n$15\r\n${arg}\r\n`;
    const [request] = parseAll(wire);
    assert.equal(request?.kind, 'refused');
    assert.match((request as { message: string }).message, /exceed 40 bytes/);
  });

  it('buffers no more than one read while skipping an oversized bulk', () => {
    const parser = new RequestParser(limits);
    parser.push(Buffer.from('*2\r\n$3\r\nSET\r\n$100000\r\n'));
    assert.equal(parser.next(), undefined);
    for (let i = 0; i < 100; i++) {
      parser.push(Buffer.alloc(1_000, 120));
      assert.equal(parser.next(), undefined);
      assert.equal(parser.buffered, 0);
    }
    parser.push(Buffer.from('\r\n'));
    assert.equal(parser.next()?.kind, 'refused');
  });

  const protocolErrors: Array<[string, string]> = [
    ['*2\r\n*1\r\n$1\r\na\r\n', "expected '$', got '*'"],
    ['*1\r\n:1\r\n', "expected '$', got ':'"],
    ['*9\r\n', 'invalid multibulk length'],
    ['*abc\r\n', 'invalid multibulk length'],
    ['*1\r\n$-5\r\n', 'invalid bulk length'],
    ['*1\r\n$99999999999\r\n', 'invalid bulk length'],
    ['*1\r\n$x\r\n', 'invalid bulk length'],
    [`*${'1'.repeat(40)}`, 'too big mbulk count string'],
    ['*1\r\n$3\r\nabcXY', 'expected CRLF after a bulk string'],
    ['GET "k\r\n', 'unbalanced quotes in request'],
    ['a '.repeat(9) + '\r\n', 'invalid multibulk length'],
    ['x'.repeat(MAX_INLINE_BYTES + 1), 'too big inline request'],
  ];
  for (const [wire, message] of protocolErrors) {
    it(`answers ${JSON.stringify(wire.slice(0, 24))} with the protocol error "${message}" and parses nothing after it`, () => {
      const parser = new RequestParser(limits);
      parser.push(Buffer.from(wire + '*1\r\n$4\r\nPING\r\n', 'latin1'));
      assert.deepEqual(parser.next(), { kind: 'protocol-error', message });
      assert.equal(parser.next(), undefined);
      parser.push(Buffer.from('*1\r\n$4\r\nPING\r\n'));
      assert.equal(parser.next(), undefined);
    });
  }

  it('reports a partly received request as mid-request and a finished one as not', () => {
    const parser = new RequestParser(limits);
    parser.push(Buffer.from('*1\r\n$4\r\nPI'));
    assert.equal(parser.next(), undefined);
    assert.equal(parser.midRequest, true);
    parser.push(Buffer.from('NG\r\n'));
    assert.equal(parser.next()?.kind, 'command');
    assert.equal(parser.midRequest, false);
  });
});
