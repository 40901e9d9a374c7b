import assert from 'node:assert/strict';
import { FAST_HEAD_MAX_BYTES, type FastRequest, type PartialBody, type Recognized, recognizeRequest } from '../../src/http/fast-path/request-shape';
import { SeededRandom, fuzzSeed } from '../helpers/seeded-random';

/** The parser binding node:http itself uses (Node 20), as far as these tests call it. */
interface LlhttpBinding {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | Error;
  close(): void;
  [callback: number]: ((...args: never[]) => unknown) | undefined;
}

interface LlhttpBindingClass {
  new (): LlhttpBinding;
  readonly REQUEST: number;
  readonly kLenientNone: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

// The oracle is llhttp itself, through the binding node:http's server drives: '_http_common' is internal but
// exported, and any reimplementation of llhttp's rules here would only restate request-shape.ts's own reading.
const { HTTPParser, methods } = require('_http_common') as { HTTPParser: LlhttpBindingClass; methods: readonly string[] };

interface LlhttpMessage {
  head?: {
    readonly version: string;
    readonly method: string;
    readonly url: string;
    /** name, value, name, value, ... with the values' surrounding whitespace trimmed. */
    readonly headers: readonly string[];
    readonly upgrade: boolean;
    readonly shouldKeepAlive: boolean;
  };
  readonly body: Buffer[];
  complete: boolean;
}

/** One request stream as node:http's server parses it: default header limit, no lenient flags. */
class Llhttp {
  readonly messages: LlhttpMessage[] = [];
  private readonly parser = new HTTPParser();
  /** Headers and URL flushed before the head was complete (more than 32 headers, or a head split across reads). */
  private flushedHeaders: string[] = [];
  private flushedUrl = '';

  constructor() {
    this.parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
    this.parser[HTTPParser.kOnMessageBegin] = (): void => {
      this.messages.push({ body: [], complete: false });
    };
    this.parser[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
      this.flushedHeaders.push(...headers);
      this.flushedUrl += url;
    };
    this.parser[HTTPParser.kOnHeadersComplete] = (
      versionMajor: number,
      versionMinor: number,
      headers: string[] | undefined,
      method: number,
      url: string | undefined,
      _statusCode: unknown,
      _statusMessage: unknown,
      upgrade: boolean,
      shouldKeepAlive: boolean,
    ): number => {
      this.current().head = {
        version: `${versionMajor}.${versionMinor}`,
        method: methods[method] ?? `#${method}`,
        url: url ?? this.flushedUrl,
        headers: headers ?? this.flushedHeaders,
        upgrade,
        shouldKeepAlive,
      };
      this.flushedHeaders = [];
      this.flushedUrl = '';
      // The answer matters: 1 would tell llhttp to skip the body (as after HEAD, for responses), 2 to stop (upgrade).
      return 0;
    };
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer): void => {
      this.current().body.push(Buffer.from(chunk));
    };
    this.parser[HTTPParser.kOnMessageComplete] = (): void => {
      this.current().complete = true;
    };
  }

  execute(bytes: Buffer): number | Error {
    return this.parser.execute(bytes);
  }

  close(): void {
    this.parser.close();
  }

  private current(): LlhttpMessage {
    const message = this.messages[this.messages.length - 1];
    assert.ok(message, 'llhttp reported a message part before the message began');
    return message;
  }
}

/** The values llhttp gives for a header, its name compared without case. */
function headerValues(headers: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) values.push(headers[i + 1]!);
  return values;
}

const wire = (text: string): Buffer => Buffer.from(text, 'latin1');
const shown = (bytes: Buffer): string => JSON.stringify(bytes.toString('latin1'));
/** What execute() returned: the bytes it consumed, or llhttp's error code and reason. */
const refusal = (result: number | Error): string => {
  if (!(result instanceof Error)) return `${result}`;
  const { code, reason } = result as Error & { code?: string; reason?: string };
  return `${code}: ${reason}`;
};

const MAX_BODY = 100;

/**
 * Feeds [start, end) of the request the fast path recognized to `llhttp` (at a message boundary), cut just before
 * the head ends and just before the request ends, and asserts llhttp reads the same request, with the head ending
 * exactly at bodyStart and the message exactly at end.
 */
function assertLlhttpAgrees(buffer: Buffer, start: number, request: FastRequest, llhttp: Llhttp, at: string): void {
  const index = llhttp.messages.length;
  const cuts = [...new Set([request.bodyStart - 1, request.end - 1, request.end])].sort((a, b) => a - b);
  let from = start;
  for (const cut of cuts) {
    const consumed = llhttp.execute(buffer.subarray(from, cut));
    assert.equal(refusal(consumed), `${cut - from}`, `${at}: llhttp refused [${from}, ${cut}) of the recognized request`);
    from = cut;
    const message = llhttp.messages[index];
    assert.equal(llhttp.messages.length, index + 1, `${at}: llhttp saw ${llhttp.messages.length - index} messages by ${cut}, not one`);
    assert.equal(message!.head !== undefined, cut >= request.bodyStart, `${at}: llhttp's head ended elsewhere than bodyStart ${request.bodyStart} (fed up to ${cut})`);
    assert.equal(message!.complete, cut >= request.end, `${at}: llhttp's request ended elsewhere than end ${request.end} (fed up to ${cut})`);
  }
  const { head, body } = llhttp.messages[index]!;
  assert.ok(head);
  assert.equal(head.version, '1.1', at);
  assert.equal(head.method, request.method, `${at}: method`);
  const q = head.url.indexOf('?');
  assert.equal(q < 0 ? head.url : head.url.slice(0, q), '/rpc', `${at}: llhttp's path`);
  assert.equal(q < 0 ? '' : head.url.slice(q + 1), request.search, `${at}: query string`);
  assert.deepEqual(headerValues(head.headers, 'accept'), request.accept === undefined ? [] : [request.accept], `${at}: Accept`);
  assert.deepEqual(headerValues(head.headers, 'authorization'), request.authorization === undefined ? [] : [request.authorization], `${at}: Authorization`);
  assert.equal(head.shouldKeepAlive, !request.close, `${at}: llhttp's keep-alive is ${head.shouldKeepAlive}, the fast path's close ${request.close}`);
  assert.equal(head.upgrade, false, `${at}: upgrade`);
  assert.equal(shown(Buffer.concat(body)), shown(buffer.subarray(request.bodyStart, request.end)), `${at}: body`);
}

/**
 * A partial body: llhttp must take the whole buffer as a complete head and an unfinished body; once the rest of the
 * body arrives, both must read the request that ends at `end`.
 */
function assertLlhttpAgreesPartial(buffer: Buffer, start: number, partial: PartialBody, llhttp: Llhttp, at: string): void {
  const bodyStart = buffer.indexOf('\r\n\r\n', start, 'latin1') + 4;
  assert.ok(bodyStart >= start + 4 && bodyStart <= buffer.length && partial.end > buffer.length, `${at}: not a partial body: ${JSON.stringify(partial)}`);
  const index = llhttp.messages.length;
  const consumed = llhttp.execute(buffer.subarray(start));
  assert.equal(refusal(consumed), `${buffer.length - start}`, `${at}: llhttp refused the partial request`);
  const message = llhttp.messages[index];
  assert.equal(llhttp.messages.length, index + 1, `${at}: llhttp saw ${llhttp.messages.length - index} messages, not one`);
  assert.ok(message!.head, `${at}: llhttp did not finish the head`);
  assert.equal(message!.complete, false, `${at}: llhttp finished the request`);
  assert.equal(shown(Buffer.concat(message!.body)), shown(buffer.subarray(bodyStart)), `${at}: body so far`);

  const whole = Buffer.concat([buffer, Buffer.alloc(partial.end - buffer.length, 'x')]);
  const recognized = recognizeRequest(whole, start, MAX_BODY);
  assert.ok(recognized !== 'other' && recognized.kind === 'request' && recognized.end === partial.end, `${at}: with its body whole, recognized as ${JSON.stringify(recognized)}`);
  const fresh = new Llhttp();
  try {
    assertLlhttpAgrees(whole, start, recognized, fresh, `${at} (body completed with x)`);
  } finally {
    fresh.close();
  }
}

const ODD_METHODS = ['PUT', 'get', 'Post', 'PATCH', 'OPTIONS', 'CONNECT', 'PRI', 'GETS', 'G\x00T', '', 'POST ', 'GET\t', 'DELETE/'];
const ODD_TARGETS = ['/rpc/cluster', '/rpcx', '/RPC', '/rpc/', '*', 'http://h/rpc', '//rpc', '/rpc;x', 'rpc', '/', '/rpc%3Fa', '', '/rpc#', '/rpc ?a'];
const QUERY_CHARS = "ABCXYZabcxyz0189-._~!$&'()*+,;=:@/?%".split('');
const TRICKY_QUERY_CHARS = ['#', ' ', '\t', '\x00', '\x7f', '\x80', '\xe9', '\xff', '"', '<', '>', '\\', '^', '`', '{', '|', '}', '[', ']', '\r', '\n'];
const ODD_VERSIONS = ['HTTP/1.0', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.10', 'HTTP/1.', 'HTTP/0.9', 'HTTP/11', 'HTTP/1.1\t'];
const ODD_SPACES = ['  ', '\t', ''];
const ODD_LINE_ENDS = ['\n', '\r', '\r\r\n', ' \r\n', '\n\r'];
const TRICKY_VALUE_BYTES = ['\t', '\x00', '\x7f', '\x80', '\r', '\n', ':', '\xff', '\x0b', '\x1f', '\r\n ', '\r\n', '\r\n\r\n'];
const TRICKY_NAME_BYTES = [' ', '\t', '(', '"', '@', '\x00', '\x80', '/', ':', '\r', '\n', '\x7f'];
const HOSTS = ['localhost', 'example.com:8080', '', 'h', '[::1]:7070'];
const ACCEPTS = ['application/json', '*/*', 'avro/binary', 'text/plain;q=0.5, */*', 'application/vnd.bitacora+json', ''];
const CONNECTION_TOKENS = ['close', 'keep-alive', 'Close', 'CLOSE', 'Keep-Alive'];
const ODD_CONNECTION_TOKENS = ['upgrade', 'Upgrade', 'te', 'closed', 'clos', '', 'keep-alive close', 'close\t', 'close \t', 'x'];
const CONNECTION_SEPARATORS = [',', ', ', ' ,', ' , ', ',\t', '\t,', ',,'];
const OTHER_NAMES = ['X-Request-Id', 'User-Agent', 'Accept-Encoding', 'Cache-Control', 'Content-Lengths', 'Host2', 'Accepts', 'Transfer_Encoding', 'Content-Type', 'Proxy-Connection', 'Keep-Alive', 'Te', 'Trailer'];
/** Content-Length values, `n` standing for the length. */
const ODD_LENGTHS = [' n ', '0n', 'n,n', '-1', '+n', '', 'n, n', '0xn', 'n n', '\tn', '99999999999999999999', 'n.0', '1n', 'n\x00', 'n\t', '\tn\t'];
const RAW_LINES = [' folded continuation', '\tfolded', 'NoColon', 'Name : v', ': empty-name', 'Bad\x00Name: v', '', 'Transfer-Encoding : chunked', 'GET /rpc HTTP/1.1'];

/** The ways a generated request departs from the shape, each forced alone now and then. */
const MUTATIONS = [
  'method',
  'target',
  'query byte',
  'version',
  'spaces',
  'line end',
  'leading CRLF',
  'hosts',
  'duplicate',
  'connection',
  'transfer-encoding',
  'expect',
  'upgrade',
  'length',
  'body length',
  'raw line',
  'value byte',
  'name byte',
] as const;
type Mutation = (typeof MUTATIONS)[number];

/**
 * One generated request, and now and then another pipelined after it: mostly of the shape the fast path serves.
 * Either one kind of mutation is forced (so each deviation also comes up alone, on an otherwise plain request), or
 * every kind happens at a rate chosen per request.
 */
function generate(rnd: SeededRandom, depth = 0): Buffer {
  const forced: Mutation | undefined = rnd.chance(0.5) ? rnd.pick(MUTATIONS) : undefined;
  const rate = forced ? 0 : rnd.pick([0, 0, 0.02, 0.06, 0.15, 0.4]);
  const mutate = (kind: Mutation, scale = 1): boolean => rnd.chance(kind === forced ? 0.5 : rate * scale);
  const chars = (length: number, pool: readonly string[], tricky: readonly string[], kind: Mutation): string => {
    let out = '';
    for (let i = 0; i < length; i++) out += mutate(kind, 0.5) ? rnd.pick(tricky) : rnd.pick(pool);
    return out;
  };
  const withTricky = (text: string, tricky: readonly string[], kind: Mutation): string => {
    if (!mutate(kind)) return text;
    const at = rnd.int(text.length + 1);
    return text.slice(0, at) + rnd.pick(tricky) + text.slice(at);
  };
  const eol = (): string => (mutate('line end', 0.3) ? rnd.pick(ODD_LINE_ENDS) : '\r\n');
  const sp = (): string => (mutate('spaces', 0.3) ? rnd.pick(ODD_SPACES) : ' ');
  const value = (text: string): string =>
    rnd.weighted([[6, ' '], [2, ''], [1, '  '], [1, '\t']] as const) + withTricky(text, TRICKY_VALUE_BYTES, 'value byte') + rnd.weighted([[8, ''], [1, ' '], [1, '\t'], [1, ' \t']] as const);
  const name = (text: string): string =>
    withTricky(rnd.chance(0.3) ? text.split('').map((c) => (rnd.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('') : text, TRICKY_NAME_BYTES, 'name byte');
  const header = (field: string, text: () => string): string[] => {
    const line = (): string => `${name(field)}:${value(text())}`;
    return mutate('duplicate', 0.5) ? [line(), line()] : [line()];
  };

  const method = mutate('method', 0.5) ? rnd.pick(ODD_METHODS) : rnd.weighted([[4, 'GET'], [4, 'POST'], [1, 'HEAD'], [1, 'DELETE']] as const);
  const target = mutate('target', 0.5) ? rnd.pick(ODD_TARGETS) : `/rpc${rnd.chance(0.7) ? `?${chars(rnd.int(14), QUERY_CHARS, TRICKY_QUERY_CHARS, 'query byte')}` : ''}`;
  const version = mutate('version', 0.5) ? rnd.pick(ODD_VERSIONS) : 'HTTP/1.1';

  const lines: string[] = [];
  for (let i = 0, hosts = mutate('hosts', 0.5) ? rnd.pick([0, 2]) : 1; i < hosts; i++) lines.push(`${name('Host')}:${value(rnd.pick(HOSTS))}`);
  if (rnd.chance(0.5)) lines.push(...header('Accept', () => rnd.pick(ACCEPTS)));
  if (rnd.chance(0.4)) lines.push(...header('Authorization', () => rnd.pick(['Bearer ', 'Basic ', 'bearer ']) + chars(rnd.between(0, 20), QUERY_CHARS, TRICKY_QUERY_CHARS, 'value byte')));
  const upgrade = mutate('upgrade', 0.3);
  if (rnd.chance(0.35) || upgrade) {
    lines.push(
      ...header('Connection', () => {
        const tokens = Array.from({ length: rnd.weighted([[6, 1], [3, 2], [1, 3]] as const) }, () => (mutate('connection', 0.5) ? rnd.pick(ODD_CONNECTION_TOKENS) : rnd.pick(CONNECTION_TOKENS)));
        if (upgrade) tokens.push('Upgrade');
        return tokens.reduce((joined, token) => `${joined}${rnd.chance(0.7) ? ', ' : rnd.pick(CONNECTION_SEPARATORS)}${token}`);
      }),
    );
  }
  if (upgrade) lines.push(`${name('Upgrade')}:${value('websocket')}`);
  if (mutate('transfer-encoding', 0.5)) lines.push(`${name('Transfer-Encoding')}:${value(rnd.pick(['chunked', 'gzip, chunked', 'identity', '']))}`);
  if (mutate('expect', 0.3)) lines.push(`${name('Expect')}:${value('100-continue')}`);
  for (let i = 0, extra = rnd.chance(0.02) ? 40 : rnd.int(4); i < extra; i++) {
    lines.push(`${name(rnd.chance(0.2) ? `X-${chars(rnd.between(1, 8), QUERY_CHARS, TRICKY_NAME_BYTES, 'name byte')}` : rnd.pick(OTHER_NAMES))}:${value(chars(rnd.int(16), QUERY_CHARS, TRICKY_VALUE_BYTES, 'value byte'))}`);
  }

  // The body the headers declare, and the one sent (now and then of another length).
  let declared: number | undefined;
  if (method === 'POST' ? rnd.chance(0.85) : rnd.chance(0.05) || mutate('length')) declared = rnd.chance(0.1) ? rnd.between(MAX_BODY - 10, MAX_BODY + 10) : rnd.chance(0.15) ? 0 : rnd.between(1, 30);
  if (declared !== undefined) {
    const n = declared;
    lines.push(...header('Content-Length', () => (mutate('length') ? rnd.pick(ODD_LENGTHS).replace(/n/g, `${rnd.chance(0.8) ? n : rnd.int(40)}`) : `${n}`)));
  }
  for (let i = mutate('raw line') ? rnd.between(1, 2) : 0; i > 0; i--) lines.splice(rnd.int(lines.length + 1), 0, rnd.pick(RAW_LINES));
  for (let i = lines.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }

  const head = `${mutate('leading CRLF', 0.3) ? '\r\n' : ''}${method}${sp()}${target}${sp()}${version}${eol()}${lines.map((line) => line + eol()).join('')}${eol()}`;
  let bodyLength = declared ?? 0;
  if (mutate('body length')) bodyLength = Math.max(0, bodyLength + rnd.between(-3, 3));
  // Bodies that look like the end of a head or a whole request, so that framing mistakes show.
  const from = rnd.int(8);
  const body = rnd.chance(0.3)
    ? 'GET /rpc HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(4).slice(from, from + bodyLength).padEnd(bodyLength, '\r\n')
    : rnd.chance(0.2)
      ? rnd.bytes(bodyLength).toString('latin1')
      : Array.from({ length: bodyLength }, () => (rnd.chance(0.1) ? rnd.pick(['\r\n', '\r\n\r\n', '\x00']) : rnd.pick(QUERY_CHARS))).join('').slice(0, bodyLength);
  let bytes = wire(head + body);
  // A body cut short (the rest not yet read), or a cut anywhere.
  if (bodyLength > 0 && rnd.chance(0.2)) bytes = bytes.subarray(0, wire(head).length + rnd.int(bodyLength));
  else if (rnd.chance(0.03)) bytes = bytes.subarray(0, rnd.int(bytes.length));
  else if (depth < 2 && rnd.chance(0.4)) bytes = Buffer.concat([bytes, generate(rnd, depth + 1)]);
  return bytes;
}

describe('HTTP fast path: request shape', () => {
  describe('examples', () => {
    it('recognizes a GET with a query, with its Accept and Authorization values trimmed', () => {
      const request = wire('GET /rpc?key=a%20b&x=+ HTTP/1.1\r\nHost: localhost:7070\r\nAccept:  application/json \r\nAuthorization:\tBearer t0k\t\r\n\r\n');
      assert.deepEqual(recognizeRequest(request, 0, MAX_BODY), {
        kind: 'request',
        method: 'GET',
        search: 'key=a%20b&x=+',
        accept: 'application/json',
        authorization: 'Bearer t0k',
        close: false,
        bodyStart: request.length,
        end: request.length,
      });
    });

    it('recognizes a POST whose body is in the buffer, framed by its Content-Length', () => {
      const head = 'POST /rpc HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nConnection: keep-alive, Close\r\n\r\n';
      const request = wire(`${head}helloextra`);
      assert.deepEqual(recognizeRequest(request, 0, MAX_BODY), {
        kind: 'request',
        method: 'POST',
        search: '',
        accept: undefined,
        authorization: undefined,
        close: true,
        bodyStart: head.length,
        end: head.length + 5,
      });
    });

    it('says partial-body, and where the request will end, when the body is cut', () => {
      const head = 'POST /rpc?a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n';
      assert.deepEqual(recognizeRequest(wire(`${head}hel`), 0, MAX_BODY), { kind: 'partial-body', end: head.length + 5 });
      assert.deepEqual(recognizeRequest(wire(head), 0, MAX_BODY), { kind: 'partial-body', end: head.length + 5 });
    });

    it('reads pipelined requests one after the other, each from where the last ended', () => {
      const first = 'POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok';
      const second = 'GET /rpc?b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n';
      const request = wire(first + second);
      const one = recognizeRequest(request, 0, MAX_BODY);
      assert.ok(one !== 'other' && one.kind === 'request');
      assert.equal(one.end, first.length);
      assert.equal(request.toString('latin1', one.bodyStart, one.end), 'ok');
      const two = recognizeRequest(request, one.end, MAX_BODY);
      assert.deepEqual(two, { kind: 'request', method: 'GET', search: 'b', accept: '*/*', authorization: undefined, close: false, bodyStart: request.length, end: request.length });
    });

    const OTHERS: ReadonlyArray<readonly [reason: string, request: string]> = [
      ['HTTP/1.0: its keep-alive rules are node:http’s', 'GET /rpc HTTP/1.0\r\nHost: h\r\n\r\n'],
      ['another path', 'GET /rpc/cluster HTTP/1.1\r\nHost: h\r\n\r\n'],
      ['a path that only starts like /rpc', 'GET /rpcx HTTP/1.1\r\nHost: h\r\n\r\n'],
      ['a lowercase method (methods are case-sensitive)', 'get /rpc HTTP/1.1\r\nHost: h\r\n\r\n'],
      ['a method the fast path does not serve', 'PUT /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n'],
      ['a chunked body', 'POST /rpc HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['Expect: 100-continue (node:http answers it)', 'POST /rpc HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok'],
      ['two Content-Lengths, even equal', 'POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok'],
      ['a Content-Length that is not plain digits', 'POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: +2\r\n\r\nok'],
      ['a body on a GET', 'GET /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok'],
      ['no Host (node:http answers 400)', 'GET /rpc HTTP/1.1\r\n\r\n'],
      ['two Hosts', 'GET /rpc HTTP/1.1\r\nHost: h\r\nhost: h\r\n\r\n'],
      ['an obs-fold continuation line', 'GET /rpc HTTP/1.1\r\nHost: h\r\nAccept: a/b,\r\n c/d\r\n\r\n'],
      ['a space before the colon', 'GET /rpc HTTP/1.1\r\nHost : h\r\n\r\n'],
      ['a 0x80 byte in a value', 'GET /rpc HTTP/1.1\r\nHost: h\r\nAccept: caf\x80\r\n\r\n'],
      ['a bare CR in a value', 'GET /rpc HTTP/1.1\r\nHost: h\r\nAccept: a\rb\r\n\r\n'],
      ['bare LF line endings', 'GET /rpc HTTP/1.1\nHost: h\n\n'],
      ['a bare LF ending one header line', 'GET /rpc HTTP/1.1\r\nHost: h\nAccept: a\r\n\r\n'],
      ["a '#' in the target", 'GET /rpc?a#b HTTP/1.1\r\nHost: h\r\n\r\n'],
      ['a space in the target', 'GET /rpc?a b HTTP/1.1\r\nHost: h\r\n\r\n'],
      ['a head not complete yet that cannot begin a plain request', 'PUT /rpc HTTP/1.1\r\nHost: h\r\n'],
      ['a head not complete yet with a control byte', 'GET /rpc HTTP/1.1\r\nHost: h\x00\r\n'],
      ['bytes that are not HTTP, without a line end', 'hello'],
      ['a head not complete yet, its lines ended by LF alone', 'GET /rpc HTTP/1.1\nHost: h\n'],
      ['a head not complete yet with a bare CR', 'GET /rpc HTTP/1.1\rHost: h'],
      ['a Content-Length over maxBodyBytes', `POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n`],
      ['Connection: upgrade', 'GET /rpc HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n'],
      ['an Upgrade header', 'GET /rpc HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n'],
      ['a CRLF before the request line (llhttp skips it; the fast path need not)', '\r\nGET /rpc HTTP/1.1\r\nHost: h\r\n\r\n'],
      ['a head over FAST_HEAD_MAX_BYTES', `GET /rpc HTTP/1.1\r\nHost: h\r\nX-Pad: ${'p'.repeat(FAST_HEAD_MAX_BYTES)}\r\n\r\n`],
    ];
    it('waits for the rest of a head that could still begin a plain request, wherever a read cut it', () => {
      const whole = 'POST /rpc?key=a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok';
      const headEnd = whole.indexOf('\r\n\r\n') + 3;
      for (let cut = 1; cut <= headEnd; cut++) {
        assert.deepEqual(recognizeRequest(wire(whole.slice(0, cut)), 0, MAX_BODY), { kind: 'partial-head' }, shown(wire(whole.slice(0, cut))));
      }
      // A head longer than the fast path reads goes to node:http even before its end arrives.
      const long = wire(`GET /rpc HTTP/1.1\r\nHost: h\r\nX-Pad: ${'p'.repeat(FAST_HEAD_MAX_BYTES)}`);
      assert.equal(recognizeRequest(long, 0, MAX_BODY), 'other');
    });

    for (const [reason, request] of OTHERS) {
      it(`hands to node:http: ${reason}`, () => {
        assert.equal(recognizeRequest(wire(request), 0, MAX_BODY), 'other', shown(wire(request)));
      });
    }
  });

  describe('against llhttp (node:http’s parser)', () => {
    it('the oracle works: it reads a known request and refuses known-bad ones', () => {
      const good = new Llhttp();
      const request = wire('POST /rpc?a HTTP/1.1\r\nHost: h\r\nAccept:  x/y \r\nContent-Length: 5\r\n\r\nhelloGET /rpc HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
      assert.equal(good.execute(request.subarray(0, 60)), 60);
      assert.equal(good.execute(request.subarray(60)), request.length - 60);
      good.close();
      assert.equal(good.messages.length, 2);
      const [post, get] = good.messages;
      assert.deepEqual(post!.head, { version: '1.1', method: 'POST', url: '/rpc?a', headers: ['Host', 'h', 'Accept', 'x/y', 'Content-Length', '5'], upgrade: false, shouldKeepAlive: true });
      assert.equal(Buffer.concat(post!.body).toString(), 'hello');
      assert.equal(post!.complete, true);
      assert.deepEqual(get!.head, { version: '1.1', method: 'GET', url: '/rpc', headers: ['Host', 'h', 'Connection', 'close'], upgrade: false, shouldKeepAlive: false });
      assert.equal(get!.complete, true);

      // More than 32 headers come in two flushes.
      const many = new Llhttp();
      const manyHeaders = Array.from({ length: 40 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
      assert.equal(many.execute(wire(`GET /rpc?m HTTP/1.1\r\nHost: h\r\n${manyHeaders}Accept: z\r\n\r\n`)) instanceof Error, false);
      many.close();
      assert.equal(many.messages[0]!.head!.url, '/rpc?m');
      assert.deepEqual(headerValues(many.messages[0]!.head!.headers, 'accept'), ['z']);
      assert.equal(many.messages[0]!.head!.headers.length, 84);

      for (const bad of [
        'POST /rpc HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n',
        'GET /rpc HTTP/1.1\r\nHost: h\r\nAccept: a\rb\r\n\r\n',
        'GET /rpc HTTP/1.1\r\nHost: h\r\nAccept: a\x00b\r\n\r\n',
        'GET /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
        'GET /rpc HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /rpc HTTP/1.1\r\nHost: h\r\n\r\n',
      ]) {
        const llhttp = new Llhttp();
        assert.ok(llhttp.execute(wire(bad)) instanceof Error, `llhttp accepted ${JSON.stringify(bad)}`);
        llhttp.close();
      }
    });

    // Bytes the generated requests found the two disagreeing on: llhttp refuses a tab after Content-Length's
    // digits, and does not take "close" followed by a tab as the close token (so it keeps the connection alive).
    // Either answer passes here: 'other', or the same reading as llhttp's.
    const ONCE_DISAGREED = [
      'POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 5\t\r\n\r\nhello',
      'POST /rpc HTTP/1.1\r\nHost: h\r\nContent-Length: 5 \t\r\n\r\nhello',
      'GET /rpc HTTP/1.1\r\nHost: h\r\nConnection: close\t\r\n\r\n',
      'GET /rpc HTTP/1.1\r\nHost: h\r\nConnection: close \t\r\n\r\n',
      'GET /rpc HTTP/1.1\r\nHost: h\r\nConnection: close\t, keep-alive\r\n\r\nGET /rpc HTTP/1.1\r\nHost: h\r\n\r\n',
    ];
    for (const text of ONCE_DISAGREED) {
      it(`agrees with llhttp on ${JSON.stringify(text)}`, () => {
        const request = wire(text);
        const recognized = recognizeRequest(request, 0, MAX_BODY);
        if (recognized === 'other') return;
        assert.equal(recognized.kind, 'request');
        const llhttp = new Llhttp();
        try {
          assertLlhttpAgrees(request, 0, recognized as FastRequest, llhttp, shown(request));
        } finally {
          llhttp.close();
        }
      });
    }

    it('whatever the fast path recognizes, llhttp reads the same way (seeded, 10000 generated requests)', () => {
      const seed = fuzzSeed();
      const rnd = new SeededRandom(seed);
      const cases = 10_000;
      const count = { request: 0, partial: 0, partialHead: 0, other: 0, withBody: 0, close: 0, followers: 0, accept: 0, authorization: 0, search: 0 };
      for (let i = 0; i < cases; i++) {
        const buffer = generate(rnd);
        const llhttp = new Llhttp();
        try {
          for (let start = 0, n = 0; start < buffer.length; n++) {
            const at = `FUZZ_SEED=${seed} case ${i}, request at ${start} of ${shown(buffer)}`;
            let recognized: Recognized;
            try {
              recognized = recognizeRequest(buffer, start, MAX_BODY);
            } catch (error) {
              throw new Error(`${at}: recognizeRequest threw ${String(error)}`);
            }
            if (n === 0) count[recognized === 'other' ? 'other' : recognized.kind === 'request' ? 'request' : recognized.kind === 'partial-head' ? 'partialHead' : 'partial']++;
            if (recognized === 'other') break;
            // Nothing is decided on a head that has not all arrived: the fast path waits for the rest.
            if (recognized.kind === 'partial-head') {
              assert.ok(buffer.indexOf('\r\n\r\n', start) < 0, `${at}: partial-head with the head's end in the buffer`);
              if (n > 0) count.followers++;
              break;
            }
            if (n > 0) count.followers++;
            if (recognized.kind === 'partial-body') {
              assertLlhttpAgreesPartial(buffer, start, recognized, llhttp, at);
              break;
            }
            assertLlhttpAgrees(buffer, start, recognized, llhttp, at);
            if (recognized.end > recognized.bodyStart) count.withBody++;
            if (recognized.accept !== undefined) count.accept++;
            if (recognized.authorization !== undefined) count.authorization++;
            if (recognized.search !== '') count.search++;
            // llhttp refuses any byte after a Connection: close request; the fast path reads no further either.
            if (recognized.close) {
              count.close++;
              break;
            }
            start = recognized.end;
          }
        } finally {
          llhttp.close();
        }
      }
      // Not vacuous: the generator reaches both answers and every kind of accepted request.
      const counts = `FUZZ_SEED=${seed}: ${JSON.stringify(count)}`;
      assert.ok(count.request + count.partial >= cases * 0.2, `too few recognized: ${counts}`);
      assert.ok(count.other >= cases * 0.2, `too few handed to node:http: ${counts}`);
      assert.ok(count.partial >= cases * 0.005, `too few partial bodies: ${counts}`);
      for (const key of ['withBody', 'close', 'followers', 'accept', 'authorization', 'search'] as const) assert.ok(count[key] >= cases * 0.01, `too few with ${key}: ${counts}`);
    });
  });
});
