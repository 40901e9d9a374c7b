import net from 'node:net';

/** A RESP reply: a simple string, an integer, a bulk string (null when absent) or an array of replies. */
export type RespReply = string | number | Buffer | null | RespReply[];

/** An error reply (`-ERR ...`) from the server. */
export class RespError extends Error {
  override name = 'RespError';
}

interface Pending {
  readonly resolve: (reply: RespReply) => void;
  readonly reject: (error: Error) => void;
  readonly sentAt: number;
}

const CRLF = Buffer.from('\r\n');

/**
 * A minimal Redis client over one TCP connection: commands are written at once and their replies matched in
 * order, so any number may be in flight (pipelining). Enough RESP2 for GET, SET, PING and the like; a command
 * waiting longer than `timeoutMs` fails and closes the connection (its replies can no longer be matched).
 */
export class RespConnection {
  private readonly socket: net.Socket;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closedError: Error | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private readonly connected: Promise<void>;

  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
    private readonly timeoutMs = 10_000,
  ) {
    this.socket = net.createConnection({ port, host, noDelay: true });
    this.connected = new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    // Avoid an unhandled rejection when nobody awaits ready() and the connection fails: commands see the error.
    this.connected.catch(() => undefined);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error(`connection to redis ${host}:${port} closed`)));
    this.watchdog = setInterval(() => {
      const oldest = this.pending[0];
      if (oldest && Date.now() - oldest.sentAt > this.timeoutMs) {
        this.fail(new Error(`redis ${host}:${port} did not answer within ${this.timeoutMs} ms`));
        this.socket.destroy();
      }
    }, Math.max(10, Math.min(1_000, this.timeoutMs / 4)));
    this.watchdog.unref();
  }

  /** Resolves once connected; rejects with the connection error. */
  ready(): Promise<void> {
    return this.connected;
  }

  /** Sends one command; resolves with its reply, rejects with RespError on an error reply. */
  command(args: readonly (string | Buffer)[]): Promise<RespReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<RespReply>((resolve, reject) => {
      this.pending.push({ resolve, reject, sentAt: Date.now() });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Closes the connection; commands still waiting fail. */
  close(): Promise<void> {
    clearInterval(this.watchdog);
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(this.buffer, offset);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        this.socket.destroy();
        return;
      }
      if (!parsed) break;
      offset = parsed.next;
      const waiter = this.pending.shift();
      if (!waiter) {
        this.fail(new Error('redis sent a reply nobody asked for'));
        this.socket.destroy();
        return;
      }
      if (parsed.reply instanceof RespError) waiter.reject(parsed.reply);
      else waiter.resolve(parsed.reply);
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
  }

  private fail(error: Error): void {
    clearInterval(this.watchdog);
    this.closedError ??= error;
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
  }
}

/** The RESP encoding of a command: an array of bulk strings. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `offset`; undefined when `buffer` does not hold all of it yet. */
export function parseReply(buffer: Buffer, offset: number): { reply: RespReply | RespError; next: number } | undefined {
  if (offset >= buffer.length) return undefined;
  const lineEnd = buffer.indexOf(CRLF, offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString('latin1', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case '+':
      return { reply: line, next: afterLine };
    case '-':
      return { reply: new RespError(line), next: afterLine };
    case ':':
      return { reply: Number(line), next: afterLine };
    case '$': {
      const length = Number(line);
      if (length < 0) return { reply: null, next: afterLine };
      if (buffer.length < afterLine + length + 2) return undefined;
      return { reply: buffer.subarray(afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { reply: null, next: afterLine };
      const items: RespReply[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, next);
        if (!item) return undefined;
        if (item.reply instanceof RespError) throw item.reply;
        items.push(item.reply);
        next = item.next;
      }
      return { reply: items, next };
    }
    default:
      throw new Error(`not a RESP reply: type byte ${JSON.stringify(type)}`);
  }
}
