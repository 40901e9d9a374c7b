import type net from 'node:net';
import { connectTcp } from './tcp-connect';

/** One HTTP response as read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** The parsed body when the Content-Type says JSON and it parses; undefined otherwise. */
  readonly json: any;
}

/** The connection ended before a whole response arrived: `partial` holds whatever bytes of one did. */
export interface RawClosed {
  readonly closed: 'end' | 'reset';
  readonly partial: Buffer;
}

export type RawAnswer = RawResponse | RawClosed;

export function isClosed(answer: RawAnswer): answer is RawClosed {
  return 'closed' in answer;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * An HTTP/1.1 client on a bare socket, for tests that must send what no HTTP library would (broken framing,
 * invalid bytes, bodies cut off or trickled) and see exactly what comes back, answer by answer, on one connection.
 */
export class RawHttpConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private ended: 'end' | 'reset' | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.notify();
    });
    socket.on('end', () => this.finish('end'));
    socket.on('close', () => this.finish('end'));
    socket.on('error', () => this.finish('reset'));
  }

  static async open(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<RawHttpConnection> {
    return new RawHttpConnection(await connectTcp(host, port, timeoutMs));
  }

  /** True once the server ended or reset the connection (bytes it sent before may still be unread). */
  get isEnded(): boolean {
    return this.ended !== undefined;
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Ends this side (a FIN): the server sees the request stop where it is. */
  halfClose(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads one response (skipping interim 1xx ones), or how the connection ended before one arrived. */
  async read(options: { head: boolean; timeoutMs: number }): Promise<RawAnswer> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const parsed = this.parse(options.head);
      if (parsed === 'interim') continue;
      if (parsed) return parsed;
      if (this.ended) {
        const partial = this.buffered;
        this.buffered = Buffer.alloc(0);
        return { closed: this.ended, partial };
      }
      if (!(await this.waitForBytes(deadline - Date.now()))) {
        throw new Error(`no answer within ${options.timeoutMs} ms (received so far: ${JSON.stringify(this.buffered.toString('latin1').slice(0, 200))})`);
      }
    }
  }

  /** Waits for the server to close the connection; false if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) if (!(await this.waitForBytes(deadline - Date.now()))) return false;
    return true;
  }

  /** Bytes received and not part of any response read (what the server sent after the last one). */
  get unread(): Buffer {
    return this.buffered;
  }

  private finish(how: 'end' | 'reset'): void {
    this.ended ??= how;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private waitForBytes(timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** One whole response off the front of the buffer, 'interim' for a 1xx it dropped, undefined if incomplete. */
  private parse(head: boolean): RawResponse | 'interim' | undefined {
    const buf = this.buffered;
    const headEnd = buf.indexOf(HEAD_END);
    if (headEnd < 0) {
      const start = buf.subarray(0, 7).toString('latin1');
      if (!'HTTP/1.'.startsWith(start)) {
        throw new Error(`the server sent something that is not an HTTP response: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
      }
      return undefined;
    }
    const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
    if (!statusLine) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
    const status = Number(statusLine[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`a malformed response header: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    }
    let offset = headEnd + 4;
    if (status >= 100 && status < 200) {
      this.buffered = buf.subarray(offset);
      return 'interim';
    }
    let body: Buffer;
    if (head || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if ((headers.get('transfer-encoding') ?? '').toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', offset);
        if (lineEnd < 0) return undefined;
        const size = parseInt(buf.subarray(offset, lineEnd).toString('latin1'), 16);
        if (!Number.isInteger(size) || size < 0) throw new Error('a malformed chunk in a response');
        if (buf.length < lineEnd + 2 + size + 2) return undefined;
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        offset = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(chunks);
    } else if (headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      if (buf.length < offset + length) return undefined;
      body = buf.subarray(offset, offset + length);
      offset += length;
    } else {
      // No length: the body runs to the end of the connection.
      if (!this.ended) return undefined;
      body = buf.subarray(offset);
      offset = buf.length;
    }
    this.buffered = buf.subarray(offset);
    let json: unknown;
    if ((headers.get('content-type') ?? '').includes('application/json') && body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    return { status, headers, body: Buffer.from(body), json };
  }
}
