/**
 * Recognizes the one request shape the fast path serves: a complete HTTP/1.1 request for /rpc whose head uses a
 * strict subset of the grammar node:http's parser (llhttp) accepts, with the body, if any, framed by one
 * Content-Length. Everything else (another path or method, HTTP/1.0, chunked bodies, Expect, Upgrade, a header
 * byte outside the plain printable range, a large head) is "other": the connection goes to node:http, which owns
 * the rest of HTTP, its errors and its timeouts. Being strict costs nothing but that hand-off, and it is what
 * keeps the two parsers agreeing on where every request ends (no smuggling between them);
 * test/unit/http-request-shape.test.ts checks that agreement against llhttp on generated requests.
 */

/** Longest head the fast path reads; a longer one goes to node:http (which refuses heads over HTTP_MAX_HEADER_BYTES). */
export const FAST_HEAD_MAX_BYTES = 8 * 1024;

export type FastMethod = 'GET' | 'HEAD' | 'POST' | 'DELETE';

export interface FastRequest {
  readonly kind: 'request';
  readonly method: FastMethod;
  /** The raw query string, without its '?'. */
  readonly search: string;
  readonly accept: string | undefined;
  readonly authorization: string | undefined;
  /** Connection: close was asked for. */
  readonly close: boolean;
  /** The body's bytes are [bodyStart, end) of the buffer; the next request starts at `end`. */
  readonly bodyStart: number;
  readonly end: number;
}

/** The head is whole and fits the shape, but the body has not all arrived: the request ends at `end`. */
export interface PartialBody {
  readonly kind: 'partial-body';
  readonly end: number;
}

/**
 * The head has not all arrived, and what has could begin a plain request: wait for the rest. Pipelined requests
 * are split wherever a read ends, so a split head is common and no reason to leave the fast path; bytes that cannot
 * begin a plain request go to node:http at once (its parser answers them).
 */
export interface PartialHead {
  readonly kind: 'partial-head';
}

export type Recognized = FastRequest | PartialBody | PartialHead | 'other';

/** How every plain request begins. */
const PLAIN_STARTS = ['GET /rpc', 'HEAD /rpc', 'POST /rpc', 'DELETE /rpc'];
/** Bytes a plain head may hold: printable ASCII, tab, CR and LF. */
const HEAD_BYTES = /^[\t\r\n\x20-\x7e]*$/;
/** A line ended by LF alone, or a CR followed by anything but LF: never part of a plain head. */
const BARE_LINE_END = /(?:^|[^\r])\n|\r[^\n]/;

const HEAD_END = '\r\n\r\n';
/** Request-target characters: RFC 3986's unreserved, sub-delims, ':', '@', '/', '?' and '%' (no '#', no spaces). */
const TARGET = /^\/rpc(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*)?$/;
/** A header field name: an RFC 9110 token. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value: printable ASCII, spaces and tabs (no obs-text, no control bytes). */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
/** A Content-Length value: llhttp takes spaces or tabs before the digits, but only spaces after them. */
const CONTENT_LENGTH = /^[ \t]*([0-9]{1,15}) *$/;

/**
 * What starts at `start` of `buffer` (which holds bytes past `start`). `maxBodyBytes`: a longer declared body is
 * "other" (node:http refuses it before reading it).
 */
export function recognizeRequest(buffer: Buffer, start: number, maxBodyBytes: number): Recognized {
  const headEnd = buffer.indexOf(HEAD_END, start, 'latin1');
  if (headEnd < 0) return buffer.length - start <= FAST_HEAD_MAX_BYTES && mayBeginPlain(buffer.toString('latin1', start)) ? PARTIAL_HEAD : 'other';
  if (headEnd - start > FAST_HEAD_MAX_BYTES) return 'other';
  const head = buffer.toString('latin1', start, headEnd);
  const lineEnd = head.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
  const firstSpace = requestLine.indexOf(' ');
  const lastSpace = requestLine.lastIndexOf(' ');
  if (firstSpace < 0 || lastSpace === firstSpace || requestLine.slice(lastSpace + 1) !== 'HTTP/1.1') return 'other';
  const method = requestLine.slice(0, firstSpace);
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST' && method !== 'DELETE') return 'other';
  const target = requestLine.slice(firstSpace + 1, lastSpace);
  if (!TARGET.test(target)) return 'other';

  let accept: string | undefined;
  let authorization: string | undefined;
  let contentLength: number | undefined;
  let hosts = 0;
  let close = false;
  let at = lineEnd < 0 ? head.length : lineEnd + 2;
  while (at < head.length) {
    let next = head.indexOf('\r\n', at);
    if (next < 0) next = head.length;
    const line = head.slice(at, next);
    at = next + 2;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'other';
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1);
    // A bare CR or LF inside a line is refused by FIELD_VALUE (control bytes), and so is obs-fold's leading space
    // in the name.
    if (!FIELD_NAME.test(name) || !FIELD_VALUE.test(value)) return 'other';
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hosts++;
        break;
      case 6:
        if (name.toLowerCase() === 'accept') {
          if (accept !== undefined) return 'other';
          accept = trimOws(value);
        } else if (name.toLowerCase() === 'expect') return 'other';
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') return 'other';
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          // llhttp does not read "close<TAB>" as close: a tab there is left to node:http.
          if (value.includes('\t')) return 'other';
          for (const option of value.split(',')) {
            const token = trimOws(option).toLowerCase();
            if (token === 'close') close = true;
            else if (token !== 'keep-alive') return 'other';
          }
        }
        break;
      case 13:
        if (name.toLowerCase() === 'authorization') {
          if (authorization !== undefined) return 'other';
          authorization = trimOws(value);
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const digits = CONTENT_LENGTH.exec(value);
          if (contentLength !== undefined || digits === null) return 'other';
          contentLength = Number(digits[1]);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return 'other';
        break;
    }
  }
  // node:http answers 400 to an HTTP/1.1 request without exactly one Host.
  if (hosts !== 1) return 'other';
  const bodyLength = contentLength ?? 0;
  if (bodyLength > maxBodyBytes || (bodyLength > 0 && method !== 'POST')) return 'other';
  const bodyStart = headEnd + HEAD_END.length;
  const end = bodyStart + bodyLength;
  if (end > buffer.length) return { kind: 'partial-body', end };
  const q = target.indexOf('?');
  return { kind: 'request', method, search: q < 0 ? '' : target.slice(q + 1), accept, authorization, close, bodyStart, end };
}

const PARTIAL_HEAD: PartialHead = { kind: 'partial-head' };

/** True when `text` (a head without its end) could still become a plain request. */
function mayBeginPlain(text: string): boolean {
  if (!HEAD_BYTES.test(text) || BARE_LINE_END.test(text)) return false;
  for (const start of PLAIN_STARTS) if (text.startsWith(start) || start.startsWith(text)) return true;
  return false;
}

/** Strips the optional whitespace (spaces, tabs) around a field value, as llhttp does. */
function trimOws(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
  while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--;
  return from === 0 && to === text.length ? text : text.slice(from, to);
}
