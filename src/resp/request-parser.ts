/**
 * A streaming parser of Redis requests: RESP multibulk (`*<n>\r\n$<len>\r\n<bytes>\r\n...`, what every client
 * library sends) and inline commands (`PING\r\n`, what telnet and redis-benchmark's PING_INLINE send).
 *
 * Pull-based: the server pushes bytes in and takes one request at a time with next(), so it can stop taking
 * (and stop reading the socket) when a connection has too many requests in flight. A bulk string over
 * `maxBulkBytes`, or a request over `maxRequestBytes`, is skipped as it streams (never buffered whole) and the
 * request is answered with `refused`; a malformed frame is a protocol error after which the parser is dead and the
 * connection is closed, as Redis does. Wire format and wording follow Redis's networking.c.
 */

/** Limits one connection's requests obey. */
export interface RequestLimits {
  /** Longest bulk string kept (MAX_VALUE_BYTES, or MAX_KEY_BYTES when larger); longer ones are skipped and refused. */
  readonly maxBulkBytes: number;
  /** Most bytes of arguments one request may carry; past it the rest is skipped and the request refused. */
  readonly maxRequestBytes: number;
  /** Most arguments in one request; more is a protocol error (`invalid multibulk length`). */
  readonly maxArgs: number;
}

/** One request, as next() hands it over. */
export type ParsedRequest =
  /** A command and its arguments, as the bytes sent (names are not lower-cased here). */
  | { readonly kind: 'command'; readonly args: Buffer[] }
  /** A complete request that was skipped for its size: answer `-<message>` and go on with the next one. */
  | { readonly kind: 'refused'; readonly message: string; readonly bytes: number }
  /** A malformed frame: answer `-ERR Protocol error: <message>` and close the connection. */
  | { readonly kind: 'protocol-error'; readonly message: string };

/** Redis's PROTO_INLINE_MAX_SIZE: an inline request, or a header line, with no newline within it is refused. */
export const MAX_INLINE_BYTES = 64 * 1024;
/** Redis's proto-max-bulk-len (512 MB): a longer bulk length is a protocol error, not a value to skip. */
export const MAX_BULK_LENGTH = 512 * 1024 * 1024;
/** `*<n>` and `$<len>` lines are digits; anything longer than this is not a length. */
const MAX_HEADER_LINE_BYTES = 32;

const CR = 13;
const LF = 10;
const STAR = 42; // '*'
const DOLLAR = 36; // '$'

/** Where the parser is within a request; numbers, so a request's parse allocates no state objects. */
const START = 0;
const ARG_HEADER = 1;
const ARG_BODY = 2;
const DEAD = 3;
const MINUS = 45; // '-'

export class RequestParser {
  private buffer: Buffer = Buffer.alloc(0);
  private pos = 0;
  private phase = START;
  /** The current request's arguments so far, and how many are still to come. */
  private args: Buffer[] = [];
  private remaining = 0;
  /** The current bulk string's length, and its bytes (CRLF included) taken so far when it spans several pushes. */
  private bulkLength = 0;
  private pieces: Buffer[] = [];
  private got = 0;
  /** Set once the current request went over a limit: its remaining bytes are skipped, then it is refused. */
  private refusal: { message: string } | undefined;
  private requestBytes = 0;

  constructor(private readonly limits: RequestLimits) {}

  /** Adds bytes read from the socket. */
  push(chunk: Buffer): void {
    if (this.phase === DEAD) return;
    if (this.pos >= this.buffer.length) this.buffer = chunk;
    else this.buffer = Buffer.concat([this.buffer.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** True while a request is partly received (for the idle-versus-stuck timeout). */
  get midRequest(): boolean {
    return this.phase !== START || this.pos < this.buffer.length;
  }

  /** Bytes received and not yet parsed; bounded by MAX_INLINE_BYTES plus one socket read. */
  get buffered(): number {
    return this.buffer.length - this.pos;
  }

  /** The next complete request, or undefined until more bytes arrive. After a protocol error, always undefined. */
  next(): ParsedRequest | undefined {
    for (;;) {
      switch (this.phase) {
        case DEAD:
          return undefined;
        case START: {
          if (this.pos >= this.buffer.length) return undefined;
          this.refusal = undefined;
          this.requestBytes = 0;
          if (this.buffer[this.pos] !== STAR) {
            const inline = this.inline();
            if (inline === 'empty') continue;
            return inline;
          }
          const count = this.line(MAX_HEADER_LINE_BYTES, 'too big mbulk count string');
          if (count === undefined) return undefined;
          if (isParsed(count)) return count;
          if (count === null || count > this.limits.maxArgs) return this.fail('invalid multibulk length');
          // `*0` and `*-1` are empty requests, skipped as Redis does.
          if (count <= 0) continue;
          this.args = [];
          this.remaining = count;
          this.phase = ARG_HEADER;
          continue;
        }
        case ARG_HEADER: {
          if (this.pos >= this.buffer.length) return undefined;
          const first = this.buffer[this.pos]!;
          if (first !== DOLLAR) return this.fail(`expected '$', got '${printable(first)}'`);
          const length = this.line(MAX_HEADER_LINE_BYTES, 'too big bulk count string');
          if (length === undefined) return undefined;
          if (isParsed(length)) return length;
          if (length === null || length < 0 || length > MAX_BULK_LENGTH) return this.fail('invalid bulk length');
          this.requestBytes += length;
          if (this.refusal === undefined && length > this.limits.maxBulkBytes) {
            this.refusal = { message: `ERR an argument is ${length} bytes, over the ${this.limits.maxBulkBytes} a request may carry (MAX_VALUE_BYTES, MAX_KEY_BYTES): send a smaller value` };
          } else if (this.refusal === undefined && this.requestBytes > this.limits.maxRequestBytes) {
            this.refusal = { message: `ERR the request's arguments exceed ${this.limits.maxRequestBytes} bytes: split it into smaller requests` };
          }
          this.bulkLength = length;
          this.got = 0;
          this.phase = ARG_BODY;
          continue;
        }
        case ARG_BODY: {
          // The bulk's bytes, then CRLF: taken as they arrive, so a large bulk is never copied piece by piece twice.
          const length = this.bulkLength;
          const need = length + 2 - this.got;
          const available = this.buffer.length - this.pos;
          if (available === 0) return undefined;
          if (this.got === 0 && available >= need) {
            // The whole bulk is in the buffer (the usual case): a view of it, no piece list.
            if (this.refusal === undefined) {
              const end = this.pos + length;
              if (this.buffer[end] !== CR || this.buffer[end + 1] !== LF) return this.fail('expected CRLF after a bulk string');
              this.args.push(this.buffer.subarray(this.pos, end));
            }
            this.pos += need;
          } else {
            const take = Math.min(need, available);
            if (this.refusal === undefined) this.pieces.push(this.buffer.subarray(this.pos, this.pos + take));
            this.pos += take;
            this.got += take;
            if (this.got < length + 2) return undefined;
            if (this.refusal === undefined) {
              const whole = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces);
              if (whole[length] !== CR || whole[length + 1] !== LF) return this.fail('expected CRLF after a bulk string');
              this.args.push(whole.subarray(0, length));
            }
            this.pieces = [];
            this.got = 0;
          }
          if (--this.remaining === 0) {
            this.phase = START;
            const args = this.args;
            this.args = [];
            return this.complete(args);
          }
          this.phase = ARG_HEADER;
          continue;
        }
      }
    }
  }

  private complete(args: Buffer[]): ParsedRequest {
    if (this.refusal) {
      const request: ParsedRequest = { kind: 'refused', message: this.refusal.message, bytes: this.requestBytes };
      this.refusal = undefined;
      return request;
    }
    return { kind: 'command', args };
  }

  /**
   * A `*<n>` or `$<len>` line at pos, as its integer (null when not one); undefined until its CRLF arrives; a
   * protocol error when it is longer than any length could be.
   */
  private line(maxBytes: number, tooBig: string): number | null | undefined | ParsedRequest {
    // Scanned here rather than with indexOf: the line is a few bytes, and a native call costs more than the scan.
    const buffer = this.buffer;
    const limit = Math.min(buffer.length, this.pos + maxBytes + 1);
    let end = this.pos;
    while (end < limit && buffer[end] !== CR) end++;
    if (end === limit) {
      if (buffer.length - this.pos > maxBytes) return this.fail(tooBig);
      return undefined;
    }
    if (end + 1 >= buffer.length) return undefined;
    if (buffer[end + 1] !== LF) return this.fail(`expected CRLF after a length`);
    const value = parseLength(buffer, this.pos + 1, end);
    this.pos = end + 2;
    return value;
  }

  /** An inline request (words separated by spaces, Redis's quoting), 'empty' for a blank line, or undefined for more. */
  private inline(): ParsedRequest | 'empty' | undefined {
    const newline = this.buffer.indexOf(LF, this.pos);
    if (newline === -1) {
      if (this.buffer.length - this.pos > MAX_INLINE_BYTES) return this.fail('too big inline request');
      return undefined;
    }
    if (newline - this.pos > MAX_INLINE_BYTES) return this.fail('too big inline request');
    const end = newline > this.pos && this.buffer[newline - 1] === CR ? newline - 1 : newline;
    const line = this.buffer.subarray(this.pos, end);
    this.pos = newline + 1;
    const args = splitInlineArgs(line);
    if (args === undefined) return this.fail('unbalanced quotes in request');
    if (args.length === 0) return 'empty';
    if (args.length > this.limits.maxArgs) return this.fail('invalid multibulk length');
    return { kind: 'command', args };
  }

  private fail(message: string): ParsedRequest {
    this.phase = DEAD;
    this.buffer = Buffer.alloc(0);
    this.pos = 0;
    return { kind: 'protocol-error', message };
  }
}

/**
 * Redis's sdssplitargs: words split on whitespace; "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes;
 * 'single quotes' with \' only. undefined for unbalanced quotes (or a closing quote not followed by a space).
 */
export function splitInlineArgs(line: Buffer): Buffer[] | undefined {
  const args: Buffer[] = [];
  let i = 0;
  const isSpace = (c: number | undefined): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
  while (i < line.length) {
    while (i < line.length && isSpace(line[i])) i++;
    if (i >= line.length) break;
    const bytes: number[] = [];
    let quote: 0 | 34 | 39 = 0;
    for (;;) {
      const c = line[i];
      if (quote === 0) {
        if (c === undefined || isSpace(c)) break;
        if (c === 34 || c === 39) quote = c;
        else bytes.push(c);
        i++;
        continue;
      }
      if (c === undefined) return undefined;
      if (c === quote) {
        i++;
        if (i < line.length && !isSpace(line[i])) return undefined;
        break;
      }
      if (c === 92 && i + 1 < line.length) {
        const next = line[i + 1]!;
        if (quote === 39) {
          if (next === 39) {
            bytes.push(39);
            i += 2;
            continue;
          }
        } else if (next === 120 && i + 3 < line.length && isHex(line[i + 2]!) && isHex(line[i + 3]!)) {
          bytes.push(parseInt(String.fromCharCode(line[i + 2]!, line[i + 3]!), 16));
          i += 4;
          continue;
        } else {
          const escaped: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 97: 7 };
          bytes.push(escaped[next] ?? next);
          i += 2;
          continue;
        }
      }
      bytes.push(c);
      i++;
    }
    args.push(Buffer.from(bytes));
  }
  return args;
}

/** The bytes from `start` to `end` as an integer when they are `-?` and 1 to 18 digits, else null. */
function parseLength(buffer: Buffer, start: number, end: number): number | null {
  const negative = buffer[start] === MINUS;
  const first = negative ? start + 1 : start;
  if (end - first < 1 || end - first > 18) return null;
  let value = 0;
  for (let i = first; i < end; i++) {
    const digit = buffer[i]! - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

function isParsed(value: number | null | ParsedRequest): value is ParsedRequest {
  return value !== null && typeof value === 'object';
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function printable(byte: number): string {
  return byte >= 32 && byte < 127 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}
