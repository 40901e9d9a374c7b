import type { ErrorCode } from '../../src/errors/error-codes';
import { AWKWARD_TEXT, fuzzValue, INVALID_UTF8, keyFaults } from './fuzz-values';
import { SeededRandom } from './seeded-random';

/**
 * Generated HTTP requests for the fuzz test, each with the answers docs/api.md allows for it. The generator builds
 * a request from parts (method, path, query, headers, body, how it is sent); the oracle then reads the bytes the
 * way the docs say a node reads them, with no code of the node's own, and says which answers are right.
 */

export interface FuzzLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

/** What a good request does when it succeeds. */
export type Success =
  | { readonly kind: 'read'; readonly key: string; readonly raw: boolean; readonly cluster: boolean }
  | { readonly kind: 'write'; readonly key: string; readonly value: Buffer }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'page' };

/** The answers that are right for one request. */
export interface Expected {
  /** Error codes of which any one is right (a request with several faults: the docs fix no order among them). */
  readonly errors: ReadonlySet<ErrorCode>;
  /** The answer of a good request; with `errors` too, either is right (the docs leave that case open). */
  readonly success?: Success;
  /** The Allow header a 405 carries. */
  readonly allow?: string;
  /** Bare answers, without a JSON body: 400 to what is not HTTP, 431 to an oversized head, 417 (node:http's) to an unknown Expect. */
  readonly bare?: readonly number[];
  /** The client cut the request off: closing the connection without an answer is right too. */
  readonly mayClose?: boolean;
}

export interface FuzzRequest {
  readonly bytes: Buffer;
  /** A HEAD: its answer has no body. */
  readonly head: boolean;
  readonly expected: Expected;
}

export interface FuzzCase {
  readonly index: number;
  /** A short description, printed with the seed when the case fails. */
  readonly label: string;
  /** One request, or several pipelined in one write. */
  readonly requests: readonly FuzzRequest[];
  /** Bytes that are not HTTP, sent right after the requests: a bare 400 follows their answers, then the close. */
  readonly trailer?: Buffer;
  /** Pauses (ms) between the pieces the bytes are sent in; empty: all at once. */
  readonly pauses: readonly number[];
  /** After sending: keep the connection, end this side (FIN), or drop it without reading an answer. */
  readonly ending: 'keep' | 'half-close' | 'destroy';
  /** Send on a new connection rather than the worker's kept-alive one. */
  readonly fresh: boolean;
}

/** node:http's default maxHeaderSize: a request head over it is refused before the node sees it. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Heads this close to the limit are not generated: node:http counts them in its own way, so the outcome is not ours to predict. */
const HEAD_MARGIN = 1024;

export const RPC_ALLOW = 'GET, HEAD, POST, DELETE';
export const PAGE_ALLOW = 'GET, HEAD';
/** Paths express serves; GET and HEAD answer 200 on a ready node. */
const PAGES = ['/health/live', '/health/ready', '/health', '/metrics', '/stats', '/cluster', '/', '/cluster/stats'];
/** Paths nothing serves (express matches case-insensitively and ignores one trailing slash, so none of these may be an alias). */
const UNKNOWN_PATHS = ['/nope', '/rpc/', '/rpc/x', '/RPC', '/rpc%2Fcluster', '//rpc', '/rpc;key=a', '/health/lives', '/%ZZ', '/%', '/rpc/cluster/x', '/..', '/favicon.ico', '/rpc.json', '/_/rpc', '/*'];
const METHODS_NOT_ALLOWED = ['PUT', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'LINK', 'M-SEARCH', 'MKCOL', 'CONNECT'];
const CONTENT_TYPES = [
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-16',
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'image/png',
  '',
  '*/*',
  'x/\u00e9\u00ff',
];
const ACCEPTS = ['application/json', 'application/octet-stream', 'text/html, application/octet-stream;q=0.9', '*/*', 'text/plain', ''];

const INVALID_ESCAPES = ['%', '%G1', '%4', '%%', '%zz', '%-1', '%+1', '%\u00e9', '%x'];

/** A request before it is written out. */
interface Spec {
  method: string;
  path: string;
  query: string | undefined;
  version: 'HTTP/1.1' | 'HTTP/1.0';
  headers: Array<[string, string]>;
  body: Body;
}

type Body =
  | { kind: 'none' }
  | { kind: 'length'; bytes: Buffer; declared: number }
  | { kind: 'chunked'; chunks: Buffer[]; terminated: boolean };

type Category = 'get' | 'post' | 'delete' | 'cluster' | 'method' | 'page' | 'unknown' | 'malformed' | 'cut-off' | 'pipelined' | 'huge';

/** Generates cases from a seed: the same seed and the same sequence of generate() calls give the same cases. */
export class HttpCaseGenerator {
  /** The keys good writes go to: bounded, so reads often hit and the final contents are small. */
  readonly keys: string[];
  private readonly rnd: SeededRandom;
  private label: string[] = [];

  constructor(
    seed: number,
    private readonly limits: FuzzLimits,
  ) {
    this.rnd = new SeededRandom(seed);
    const atLimit = 'x'.repeat(limits.maxKeyBytes);
    const twoByteAtLimit = 'é'.repeat(Math.floor(limits.maxKeyBytes / 2));
    this.keys = [...Array.from({ length: 10 }, (_, i) => `k${i}`), ...AWKWARD_TEXT.filter((t) => Buffer.byteLength(t) <= limits.maxKeyBytes), atLimit, twoByteAtLimit];
  }

  generate(index: number): FuzzCase {
    for (;;) {
      this.label = [];
      const category = this.rnd.weighted<Category>([
        [22, 'get'],
        [24, 'post'],
        [6, 'delete'],
        [5, 'cluster'],
        [5, 'method'],
        [4, 'page'],
        [3, 'unknown'],
        [8, 'malformed'],
        [5, 'cut-off'],
        [6, 'pipelined'],
        [3, 'huge'],
      ]);
      this.note(category);
      const built = this.build(category);
      // A head near node:http's limit is left out: which side of it a request falls is node:http's business.
      if (built.requests.some((r) => nearHeadLimit(r.bytes))) continue;
      return {
        index,
        label: this.label.join(' '),
        requests: built.requests,
        trailer: built.trailer,
        pauses: built.pauses ?? [],
        ending: built.ending ?? 'keep',
        fresh: built.fresh ?? this.rnd.chance(0.08),
      };
    }
  }

  private note(part: string): void {
    this.label.push(part);
  }

  private build(category: Category): Partial<FuzzCase> & { requests: FuzzRequest[] } {
    switch (category) {
      case 'get':
      case 'post':
      case 'delete':
      case 'cluster':
      case 'method':
      case 'page':
      case 'unknown': {
        const spec = this.spec(category, { single: true });
        const slow = this.rnd.chance(0.05);
        const bytes = render(spec);
        const ending = this.rnd.chance(0.04) ? 'half-close' : 'keep';
        if (slow) this.note('slow');
        if (ending !== 'keep') this.note(ending);
        return { requests: [request(spec, bytes, this.limits)], pauses: slow ? this.pauses() : [], ending };
      }
      case 'pipelined': {
        const count = this.rnd.between(2, 4);
        const requests: FuzzRequest[] = [];
        for (let i = 0; i < count; i++) {
          const spec = this.spec(this.rnd.pick(['get', 'get', 'post', 'delete', 'cluster', 'page', 'unknown'] as const), { single: false });
          requests.push(request(spec, render(spec), this.limits));
        }
        const trailer = this.rnd.chance(0.35) ? this.notHttp() : undefined;
        if (trailer) this.note('+garbage');
        return { requests, trailer, pauses: this.rnd.chance(0.1) ? this.pauses() : [] };
      }
      case 'malformed':
        return { requests: [{ bytes: this.malformed(), head: false, expected: { errors: new Set(), bare: [400], mayClose: true } }], fresh: this.rnd.chance(0.5) };
      case 'cut-off':
        return this.cutOff();
      case 'huge':
        return this.huge();
    }
  }

  /** A request of `category` on a good path, with faults and oddities mixed in at random. */
  private spec(category: 'get' | 'post' | 'delete' | 'cluster' | 'method' | 'page' | 'unknown', options: { single: boolean }): Spec {
    const r = this.rnd;
    const spec: Spec = { method: 'GET', path: '/rpc', query: undefined, version: 'HTTP/1.1', headers: [['Host', 'fuzz']], body: { kind: 'none' } };
    switch (category) {
      case 'get':
        spec.method = r.chance(0.15) ? 'HEAD' : 'GET';
        spec.query = this.query('read');
        if (r.chance(0.4)) spec.headers.push(['Accept', r.pick(ACCEPTS)]);
        if (r.chance(0.05)) spec.body = this.body(this.value(), 'whole');
        break;
      case 'post': {
        spec.method = 'POST';
        const inQuery = r.chance(0.45);
        spec.query = this.query(inQuery ? 'write-query' : 'write-body');
        if (!inQuery || r.chance(0.05)) spec.body = this.body(this.value(), r.chance(0.03) ? 'empty' : 'whole');
        else if (r.chance(0.1)) spec.body = { kind: 'length', bytes: Buffer.alloc(0), declared: 0 };
        if (r.chance(0.4)) spec.headers.push(['Content-Type', r.pick(CONTENT_TYPES)]);
        if (spec.body.kind !== 'none' && r.chance(0.08)) spec.headers.push(['Expect', '100-continue']);
        break;
      }
      case 'delete':
        spec.method = 'DELETE';
        spec.query = this.query('delete');
        if (r.chance(0.05)) spec.body = this.body(this.value(), 'whole');
        break;
      case 'cluster':
        spec.method = r.chance(0.15) ? 'HEAD' : 'GET';
        spec.path = '/rpc/cluster';
        spec.query = this.query('read');
        break;
      case 'method':
        spec.method = r.pick(METHODS_NOT_ALLOWED.filter((m) => options.single || m !== 'CONNECT'));
        spec.path = r.pick(['/rpc', '/rpc', '/rpc/cluster', ...PAGES]);
        spec.query = r.chance(0.7) ? this.query(r.pick(['read', 'write-query'] as const)) : undefined;
        if (spec.method !== 'CONNECT' && r.chance(0.2)) spec.body = this.body(this.value(), 'whole');
        break;
      case 'page':
        spec.method = r.weighted([
          [8, 'GET'],
          [2, 'HEAD'],
          [2, 'POST'],
          [1, 'DELETE'],
        ]);
        spec.path = r.pick(PAGES);
        if (r.chance(0.3)) spec.query = this.query('read');
        break;
      case 'unknown':
        spec.method = r.pick(['GET', 'GET', 'HEAD', 'POST', 'DELETE', 'PUT']);
        spec.path = r.pick(UNKNOWN_PATHS);
        if (r.chance(0.5)) spec.query = this.query('read');
        break;
    }
    this.note(`${spec.method} ${spec.path}`);
    if (r.chance(0.06)) spec.headers.push(['X-Junk', this.visibleLatin1(r.between(0, 40))]);
    if (r.chance(0.03)) spec.headers.push(['User-Agent', 'fuzz/\u00e9']);
    if (options.single) {
      if (r.chance(0.03)) {
        spec.version = 'HTTP/1.0';
        if (r.chance(0.5)) spec.headers.push(['Connection', 'keep-alive']);
        this.note('http/1.0');
      } else if (r.chance(0.03)) {
        spec.headers.push(['Connection', 'close']);
      }
      // node:http answers an Expect it does not know with 417 before the node sees the request.
      if (r.chance(0.01) && (spec.body.kind === 'none' || spec.body.kind === 'length') && !spec.headers.some(([name]) => name === 'Expect')) {
        spec.headers.push(['Expect', 'fries']);
      }
    }
    return spec;
  }

  /** A query for /rpc or /rpc/cluster: the key (or a faulty one), the value for a write, extras, broken escapes. */
  private query(op: 'read' | 'write-query' | 'write-body' | 'delete'): string {
    const r = this.rnd;
    const parts = this.keyParams(op === 'read');
    if (op === 'write-query') {
      parts.push(this.param('value', this.value()));
      if (r.chance(0.04)) {
        parts.push(this.param('value', this.value()));
        this.note('value-twice');
      }
    }
    if (r.chance(0.15)) parts.push(this.param(r.pick(['v', 'values', 'KEY', 'Key', 'key ', 'x', '', 'value2', 'k%ey']), this.value()));
    if (r.chance(0.05)) parts.push('');
    if (r.chance(0.2)) shuffle(parts, r);
    let query = parts.join('&');
    if (r.chance(0.06)) {
      const escape = r.pick(INVALID_ESCAPES);
      const at = r.int(query.length + 1);
      query = query.slice(0, at) + escape + query.slice(at);
      this.note(`escape:${escape}`);
    }
    if (r.chance(0.015)) {
      // A byte HTTP does not allow in a request target: node:http refuses the request.
      const at = r.int(query.length + 1);
      query = query.slice(0, at) + String.fromCharCode(r.pick([0x00, 0x01, 0x09, 0x7f, 0x80, 0xc3, 0xe9, 0xff])) + query.slice(at);
      this.note('raw-byte');
    }
    return query;
  }

  private keyParams(read: boolean): string[] {
    const r = this.rnd;
    const kind = r.weighted([
      [60, 'pool'],
      [read ? 12 : 0, 'absent'],
      [4, 'none'],
      [4, 'empty'],
      [6, 'too-long'],
      [6, 'invalid'],
      [3, 'twice'],
      [3, 'name-escaped'],
      [3, 'wrong-name'],
    ] as const);
    this.note(`key:${kind}`);
    const poolKey = (): Buffer => Buffer.from(r.pick(this.keys), 'utf8');
    switch (kind) {
      case 'pool':
        return [this.param('key', poolKey())];
      case 'absent':
        return [this.param('key', Buffer.from(`absent-${r.int(1000)}${r.pick(['', 'é', '🙂'])}`))];
      case 'none':
        return [];
      case 'empty':
        return [r.pick(['key=', 'key'])];
      case 'too-long': {
        const size = r.chance(0.2) ? this.limits.maxKeyBytes + 1 : r.between(this.limits.maxKeyBytes + 1, Math.min(this.limits.maxKeyBytes * 4, 4000));
        return [this.param('key', this.validUtf8(size))];
      }
      case 'invalid': {
        const base = Buffer.from(r.pick(['', 'k', 'abc', 'é']));
        const bad = Buffer.from(r.pick(INVALID_UTF8));
        return [this.param('key', r.chance(0.5) ? Buffer.concat([base, bad]) : Buffer.concat([bad, base]))];
      }
      case 'twice':
        return [this.param('key', poolKey()), this.param('key', r.chance(0.3) ? Buffer.alloc(0) : poolKey())];
      case 'name-escaped':
        return [`${r.pick(['%6Bey', 'k%65y', '%6b%65%79', 'ke%79'])}=${this.encode(poolKey(), false)}`];
      case 'wrong-name':
        return [this.param(r.pick(['KEY', 'Key', 'key ', 'keys', 'k', '%20key']), poolKey())];
    }
  }

  private param(name: string, value: Buffer): string {
    return `${name}=${this.encode(value, false)}`;
  }

  /** Percent-encodes bytes in one of several styles, all of which mean the same bytes. */
  private encode(bytes: Buffer, isName: boolean): string {
    const r = this.rnd;
    const style = r.pick(['all', 'minimal', 'minimal', 'mixed', 'lower'] as const);
    let out = '';
    for (const byte of bytes) {
      const literal = byte > 0x20 && byte < 0x7f && byte !== 0x25 && byte !== 0x26 && byte !== 0x2b && byte !== 0x23 && !(isName && byte === 0x3d);
      if (byte === 0x20 && style !== 'all' && r.chance(0.7)) out += '+';
      else if (literal && (style === 'minimal' || (style === 'mixed' && r.chance(0.5)))) out += String.fromCharCode(byte);
      else {
        const hex = byte.toString(16).padStart(2, '0');
        out += `%${style === 'lower' || (style === 'mixed' && r.chance(0.5)) ? hex : hex.toUpperCase()}`;
      }
    }
    return out;
  }

  private value(): Buffer {
    const { kind, bytes } = fuzzValue(this.rnd, this.limits.maxValueBytes);
    this.note(`value:${kind}`);
    return bytes;
  }

  /** A body carrying `value`: with Content-Length or chunked; 'empty' sends none of it. */
  private body(value: Buffer, how: 'whole' | 'empty'): Body {
    const r = this.rnd;
    const bytes = how === 'empty' ? Buffer.alloc(0) : value;
    if (r.chance(0.7)) {
      this.note(`body:length(${bytes.length})`);
      return { kind: 'length', bytes, declared: bytes.length };
    }
    this.note(`body:chunked(${bytes.length})`);
    return { kind: 'chunked', chunks: split(bytes, r.between(1, 4), r), terminated: true };
  }

  private pauses(): number[] {
    return Array.from({ length: this.rnd.between(1, 4) }, () => this.rnd.between(2, 40));
  }

  /** Bytes node:http cannot parse as HTTP; each is refused at once (none leaves the parser waiting for more). */
  private malformed(): Buffer {
    const r = this.rnd;
    const key = this.encode(Buffer.from(r.pick(this.keys)), false);
    const kind = r.pick([
      'random',
      'version',
      'method',
      'header-byte',
      'header-shape',
      'no-host',
      'content-length',
      'transfer-encoding',
      'chunk',
      'target',
      'h2',
    ] as const);
    this.note(kind);
    const line = (text: string): Buffer => Buffer.from(text, 'latin1');
    switch (kind) {
      case 'random':
        return this.notHttp();
      case 'version':
        return line(`GET /rpc?key=${key} ${r.pick(['HTTP/1.2', 'HTTP/3.0', 'http/1.1', 'HTTP/1.1 extra', 'HTTP/'])}\r\nHost: fuzz\r\n\r\n`);
      case 'method':
        return line(`${r.pick(['get', 'FROB', 'G ET', 'GET\t', 'POST\u00e9'])} /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\n\r\n`);
      case 'header-byte':
        return line(`GET /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\nX-Bad: a${String.fromCharCode(r.pick([0x00, 0x01, 0x0b, 0x7f]))}b\r\n\r\n`);
      case 'header-shape':
        return line(`GET /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\n${r.pick(['X-Bad', 'X Bad: b', 'X-Bad : b', ': b', 'X-Ok: a\r\n folded'])}\r\n\r\n`);
      case 'no-host':
        return line(`GET /rpc?key=${key} HTTP/1.1\r\n\r\n`);
      case 'content-length':
        return line(
          `POST /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\n${r.pick(['Content-Length: abc', 'Content-Length: -1', 'Content-Length: +2', 'Content-Length: 1, 2', 'Content-Length: 2\r\nContent-Length: 2', 'Content-Length: 2\r\nContent-Length: 3', 'Content-Length: 99999999999999999999999'])}\r\n\r\nab`,
        );
      case 'transfer-encoding':
        return line(
          `POST /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\n${r.pick(['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked, gzip', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 'Content-Length: 2\r\nTransfer-Encoding: chunked'])}\r\n\r\n2\r\nab\r\n0\r\n\r\n`,
        );
      case 'chunk':
        return line(`POST /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n${r.pick(['zz\r\nab\r\n0\r\n\r\n', '2\r\nabX0\r\n\r\n', '2\nab\n0\n\n', '-2\r\nab\r\n0\r\n\r\n'])}`);
      case 'target':
        return line(`GET ${r.pick(['?key=a', 'rpc?key=a', '/rpc?key=a\u00e9', '/rpc?key=\u0000', '/rpc?key=a\u007f'])} HTTP/1.1\r\nHost: fuzz\r\n\r\n`);
      case 'h2':
        return line('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    }
  }

  /** Random bytes that cannot start an HTTP request (a first byte that is neither a method letter nor a line end). */
  private notHttp(): Buffer {
    const bytes = this.rnd.bytes(this.rnd.between(1, 300));
    bytes[0] = this.rnd.pick([0x00, 0x01, 0x05, 0x16, 0x7f, 0x80, 0xff, 0x28, 0x7b, 0x3c]);
    return bytes;
  }

  /** A request that stops before its end: the client ends its side, or drops the connection. */
  private cutOff(): Partial<FuzzCase> & { requests: FuzzRequest[] } {
    const r = this.rnd;
    const ending = r.chance(0.6) ? 'half-close' : 'destroy';
    this.note(ending);
    const kind = r.weighted([
      [6, 'post-body'],
      [2, 'post-chunked'],
      [2, 'head'],
      [1, 'get-body'],
    ] as const);
    this.note(kind);
    const pauses = r.chance(0.2) ? this.pauses() : [];
    if (kind === 'head') {
      const spec = this.spec(r.pick(['get', 'post', 'delete'] as const), { single: false });
      const full = render(spec);
      const headEnd = full.indexOf('\r\n\r\n');
      const bytes = full.subarray(0, r.between(1, Math.max(1, headEnd)));
      // Cut off after node:http's head limit, the head is refused for its size before its end is seen.
      const bare = bytes.length > MAX_HEAD_BYTES - HEAD_MARGIN ? [400, 431] : [400];
      return { requests: [{ bytes, head: false, expected: { errors: new Set(), bare, mayClose: true } }], ending, pauses, fresh: true };
    }
    const spec = this.spec(kind === 'get-body' ? 'get' : 'post', { single: false });
    const value = this.value();
    const sent = value.subarray(0, r.int(value.length));
    spec.body =
      kind === 'post-chunked'
        ? { kind: 'chunked', chunks: split(sent, r.between(1, 3), r), terminated: false }
        : { kind: 'length', bytes: sent, declared: sent.length + r.between(1, 100) };
    return { requests: [request(spec, render(spec), this.limits)], ending, pauses, fresh: true };
  }

  /** Sizes far past the limits: a declared body of megabytes, an oversized key or value, a head past node:http's limit. */
  private huge(): Partial<FuzzCase> & { requests: FuzzRequest[] } {
    const r = this.rnd;
    const key = this.encode(Buffer.from(r.pick(this.keys)), false);
    const kind = r.pick(['declared', 'streamed', 'key', 'header', 'target'] as const);
    this.note(kind);
    switch (kind) {
      case 'declared': {
        // Only the head is sent: the node must refuse on the declared length without waiting for the body.
        const declared = this.limits.maxValueBytes + r.between(1, 50_000_000);
        const bytes = Buffer.from(`POST /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\nContent-Length: ${declared}\r\n\r\n`, 'latin1');
        return { requests: [{ bytes, head: false, expected: { errors: new Set(['VALUE_TOO_LARGE']), mayClose: true } }], fresh: true };
      }
      case 'streamed': {
        const spec = this.spec('post', { single: false });
        spec.query = `key=${key}`;
        spec.headers = [['Host', 'fuzz']];
        spec.body = { kind: 'chunked', chunks: split(r.bytes(this.limits.maxValueBytes + r.between(1, 4096)), r.between(1, 6), r), terminated: true };
        return { requests: [request(spec, render(spec), this.limits)], fresh: true };
      }
      case 'key': {
        const spec = this.spec(r.pick(['get', 'delete', 'cluster'] as const), { single: false });
        spec.query = this.param('key', this.validUtf8(Math.min(this.limits.maxKeyBytes * r.between(2, 20), 4000)));
        return { requests: [request(spec, render(spec), this.limits)] };
      }
      case 'header': {
        const size = MAX_HEAD_BYTES + HEAD_MARGIN + r.between(1, 40_000);
        const bytes = Buffer.from(`GET /rpc?key=${key} HTTP/1.1\r\nHost: fuzz\r\nX-Big: ${'h'.repeat(size)}\r\n\r\n`, 'latin1');
        return { requests: [{ bytes, head: false, expected: { errors: new Set(), bare: [431], mayClose: true } }], fresh: true };
      }
      case 'target': {
        const size = MAX_HEAD_BYTES + HEAD_MARGIN + r.between(1, 20_000);
        const bytes = Buffer.from(`GET /rpc?key=${key}&pad=${'p'.repeat(size)} HTTP/1.1\r\nHost: fuzz\r\n\r\n`, 'latin1');
        return { requests: [{ bytes, head: false, expected: { errors: new Set(), bare: [431], mayClose: true } }], fresh: true };
      }
    }
  }

  /** `size` bytes of valid UTF-8 (multi-byte characters included, never cut). */
  private validUtf8(size: number): Buffer {
    let text = '';
    while (Buffer.byteLength(text) < size) text += this.rnd.pick(['a', 'z', '0', 'é', '日', '🙂', ' ', '~']);
    const bytes = Buffer.from(text);
    // Trim back to a character boundary at or under size, then pad with ASCII to exactly size.
    let end = size;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    return Buffer.concat([bytes.subarray(0, end), Buffer.from('a'.repeat(size - end))]);
  }

  private visibleLatin1(length: number): string {
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(this.rnd.chance(0.9) ? this.rnd.between(0x20, 0x7e) : this.rnd.between(0xa0, 0xff));
    return text.trim();
  }
}

function shuffle<T>(items: T[], rnd: SeededRandom): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/** Splits bytes into `pieces` non-empty parts (fewer when there are fewer bytes). */
function split(bytes: Buffer, pieces: number, rnd: SeededRandom): Buffer[] {
  if (bytes.length === 0) return [];
  const cuts = new Set<number>();
  for (let i = 1; i < pieces; i++) cuts.add(rnd.between(1, Math.max(1, bytes.length - 1)));
  const points = [0, ...[...cuts].filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length];
  const parts: Buffer[] = [];
  for (let i = 1; i < points.length; i++) if (points[i] > points[i - 1]) parts.push(bytes.subarray(points[i - 1], points[i]));
  return parts;
}

function nearHeadLimit(bytes: Buffer): boolean {
  const headEnd = bytes.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? bytes.length : headEnd;
  return head > MAX_HEAD_BYTES - HEAD_MARGIN && head < MAX_HEAD_BYTES + HEAD_MARGIN;
}

function target(spec: Spec): string {
  return spec.query === undefined ? spec.path : `${spec.path}?${spec.query}`;
}

function render(spec: Spec): Buffer {
  const lines = [`${spec.method} ${target(spec)} ${spec.version}`, ...spec.headers.map(([name, value]) => `${name}: ${value}`)];
  const body = spec.body;
  if (body.kind === 'length') lines.push(`Content-Length: ${body.declared}`);
  if (body.kind === 'chunked') lines.push('Transfer-Encoding: chunked');
  const parts: Buffer[] = [Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')];
  if (body.kind === 'length') parts.push(body.bytes);
  if (body.kind === 'chunked') {
    for (const chunk of body.chunks) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, Buffer.from('\r\n', 'latin1'));
    if (body.terminated) parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

function request(spec: Spec, bytes: Buffer, limits: FuzzLimits): FuzzRequest {
  const head = spec.method === 'HEAD';
  // A head past node:http's limit never reaches the node (the generator keeps heads clear of the limit itself);
  // with a byte HTTP refuses in its target too, which node:http meets first depends on where that byte is.
  if (bytes.indexOf('\r\n\r\n') > MAX_HEAD_BYTES) {
    return { bytes, head, expected: { errors: new Set(), bare: TARGET.test(target(spec)) ? [431] : [400, 431], mayClose: true } };
  }
  const expected = expectedFor(spec, limits);
  // A connection that closes after its answer (HTTP/1.0, Connection: close) may be reset while the client still
  // sends a body the node never read, and a reset can beat the answer to the client.
  const closing = (spec.version === 'HTTP/1.0' && !spec.headers.some(([, v]) => v === 'keep-alive')) || spec.headers.some(([, v]) => v === 'close');
  return { bytes, head, expected: closing && spec.body.kind !== 'none' ? { ...expected, mayClose: true } : expected };
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle: what docs/api.md says the answer to a request is.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A request target's bytes as HTTP/1.1 allows them (visible ASCII); anything else is refused by node:http. */
const TARGET = /^[\x21-\x7e]+$/;

/** The answers right for `spec`. */
export function expectedFor(spec: Spec, limits: FuzzLimits): Expected {
  if (!TARGET.test(target(spec))) return { errors: new Set(), bare: [400], mayClose: true };
  // node:http refuses an Expect it does not know (on HTTP/1.1 and not on a CONNECT, which it hands over untouched).
  if (spec.version === 'HTTP/1.1' && spec.method !== 'CONNECT' && spec.headers.some(([name, value]) => name === 'Expect' && value !== '100-continue')) return { errors: new Set(), bare: [417] };
  const cut = (spec.body.kind === 'length' && spec.body.bytes.length < spec.body.declared) || (spec.body.kind === 'chunked' && !spec.body.terminated);
  const base = expectedWhole(spec, limits, cut);
  // A request cut off in its body: the node answers from what it read, or 400, or closes.
  return cut ? { ...base, bare: [400], mayClose: true } : base;
}

function expectedWhole(spec: Spec, limits: FuzzLimits, cut: boolean): Expected {
  const method = spec.method;
  const readOnly = method === 'GET' || method === 'HEAD';
  if (spec.path === '/rpc' || spec.path === '/rpc/cluster') {
    const rpc = spec.path === '/rpc';
    if (rpc ? !['GET', 'HEAD', 'POST', 'DELETE'].includes(method) : !readOnly) {
      return { errors: new Set(['METHOD_NOT_ALLOWED']), allow: rpc ? RPC_ALLOW : PAGE_ALLOW };
    }
    const params = readQuery(spec.query ?? '');
    if (!params) return { errors: new Set(['BAD_ENCODING']) };
    const errors = new Set<ErrorCode>();
    const keys = params.get('key') ?? [];
    if (keys.length > 1) errors.add('KEY_INVALID');
    const keyErrors = keyFaults(keys[0], limits.maxKeyBytes);
    if (method !== 'POST') {
      for (const e of keyErrors) errors.add(e);
      const key = keyErrors.length === 0 ? utf8.decode(keys[0]) : '';
      if (errors.size > 0) return { errors };
      if (method === 'DELETE') return { errors, success: { kind: 'delete', key } };
      const accept = spec.headers.find(([name]) => name === 'Accept')?.[1] ?? '';
      return { errors, success: { kind: 'read', key, raw: rpc && accept.includes('application/octet-stream'), cluster: !rpc } };
    }
    return expectedWrite(spec, params, errors, keyErrors, keys[0], limits, cut);
  }
  if (PAGES.includes(spec.path)) return readOnly ? { errors: new Set(), success: { kind: 'page' } } : { errors: new Set(['METHOD_NOT_ALLOWED']), allow: PAGE_ALLOW };
  return { errors: new Set(['ROUTE_NOT_FOUND']) };
}

function expectedWrite(
  spec: Spec,
  params: Map<string, Buffer[]>,
  errors: Set<ErrorCode>,
  keyErrors: ErrorCode[],
  rawKey: Buffer | undefined,
  limits: FuzzLimits,
  cut: boolean,
): Expected {
  const values = params.get('value') ?? [];
  const body = spec.body;
  const bodyBytes = body.kind === 'length' ? body.bytes : body.kind === 'chunked' ? Buffer.concat(body.chunks) : Buffer.alloc(0);
  // "A body": a declared length over zero, or a chunked one with data.
  const declaredBody = (body.kind === 'length' && body.declared > 0) || (body.kind === 'chunked' && bodyBytes.length > 0);
  if (values.length > 1) errors.add('VALUE_AMBIGUOUS');
  if (values.length === 1 && declaredBody) errors.add('VALUE_AMBIGUOUS');
  if (values.length === 0 && !declaredBody) errors.add('VALUE_MISSING');
  const overLimit = (body.kind === 'length' && body.declared > limits.maxValueBytes) || bodyBytes.length > limits.maxValueBytes;
  if (overLimit && values.length === 0) errors.add('VALUE_TOO_LARGE');
  // Whether an empty chunked body is "a body" the docs leave open: next to ?value, VALUE_AMBIGUOUS is right too.
  const openCase = values.length === 1 && body.kind === 'chunked' && bodyBytes.length === 0;
  // A body refused for its size is not read: the node closes the connection, perhaps while the client still sends.
  const mayClose = overLimit;
  if (cut) {
    // What the node can refuse before the body ends, or the cut itself.
    errors.add('BAD_REQUEST');
    if (openCase) errors.add('VALUE_AMBIGUOUS');
    return { errors };
  }
  const value = values.length > 0 ? values[0] : bodyBytes;
  if (value.length > limits.maxValueBytes) errors.add('VALUE_TOO_LARGE');
  for (const e of keyErrors) errors.add(e);
  const success: Success | undefined = errors.size === 0 ? { kind: 'write', key: utf8.decode(rawKey!), value } : undefined;
  if (openCase) errors.add('VALUE_AMBIGUOUS');
  return { errors, success, mayClose };
}

/**
 * A query string as docs/api.md defines it: pairs split on `&` and their first `=`, `%XX` the byte XX, `+` a space;
 * undefined when an escape is malformed (a `%` not followed by two hex digits).
 */
export function readQuery(query: string): Map<string, Buffer[]> | undefined {
  const params = new Map<string, Buffer[]>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (!name || !value) return undefined;
    const text = name.toString('latin1');
    params.set(text, [...(params.get(text) ?? []), value]);
  }
  return params;
}

function decodeComponent(text: string): Buffer | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(c === 0x2b ? 0x20 : c);
    }
  }
  return Buffer.from(out);
}
