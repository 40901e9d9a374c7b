import type { SeededRandom } from './seeded-random';

/** What a frame must get back: one reply that `check` accepts, none, or a protocol error and the close. */
export type Expectation = { readonly kind: 'reply'; readonly describe: string; readonly check: (reply: unknown) => boolean } | { readonly kind: 'none' } | { readonly kind: 'fatal' };

/** One generated frame and, for a write, what it does to the connection's keys once answered OK. */
export interface RespFrame {
  readonly bytes: Buffer;
  readonly label: string;
  readonly expect: Expectation;
  readonly write?: { readonly key: string; readonly value: Buffer | null };
}

/** One connection's script: frames in order, then maybe a frame cut off, sent whole or in slow pieces. */
export interface RespConnectionCase {
  readonly frames: RespFrame[];
  readonly cutOff: Buffer | undefined;
  readonly slow: boolean;
}

export const FUZZ_LIMITS = { maxKeyBytes: 64, maxValueBytes: 2_048, maxInFlight: 8 };

/** A multibulk request of these arguments. */
export function multibulk(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const asText = (reply: unknown): string | undefined => (Buffer.isBuffer(reply) ? reply.toString('latin1') : typeof reply === 'string' ? reply : undefined);
const isError = (pattern: RegExp) => (reply: unknown): boolean => reply instanceof Error && pattern.test(reply.message);
const equalsText = (text: string) => (reply: unknown): boolean => asText(reply) === text;
const equalsBytes = (bytes: Buffer | null) => (reply: unknown): boolean => (bytes === null ? reply === null : Buffer.isBuffer(reply) && reply.equals(bytes));

/**
 * Frames for the RESP fuzz: well-formed commands whose answers are known from the connection's own writes (keys
 * are per connection, so the order within it decides every answer), refusals, and hostile frames that must close
 * the connection with `-ERR Protocol error`.
 */
export class RespCaseGenerator {
  constructor(private readonly rnd: SeededRandom) {}

  connection(index: number): RespConnectionCase {
    const { rnd } = this;
    // Each connection has its own keys, held here as the node must answer them.
    const held = new Map<string, Buffer>();
    const key = (): string => `fz:${index}:${rnd.int(6)}`;
    const frames: RespFrame[] = [];
    const length = rnd.chance(0.05) ? rnd.between(100, 200) : rnd.between(5, 40);
    while (frames.length < length) {
      const frame = this.frame(key, held);
      frames.push(frame);
      if (frame.expect.kind === 'fatal') break;
    }
    const last = frames[frames.length - 1]!;
    const cutOff = last.expect.kind !== 'fatal' && rnd.chance(0.15) ? this.cutOff() : undefined;
    return { frames, cutOff, slow: rnd.chance(0.05) };
  }

  private frame(key: () => string, held: Map<string, Buffer>): RespFrame {
    const { rnd } = this;
    const kind = rnd.weighted<string>([
      [10, 'ping'],
      [4, 'inline-ping'],
      [6, 'echo'],
      [12, 'set'],
      [12, 'get'],
      [4, 'del'],
      [4, 'mget'],
      [3, 'exists'],
      [4, 'unknown'],
      [3, 'arity'],
      [3, 'oversized'],
      [2, 'key-too-large'],
      [2, 'key-not-utf8'],
      [2, 'blank'],
      [2, 'inline-garbage'],
      [1, 'nested'],
      [1, 'negative-length'],
      [1, 'huge-length'],
      [1, 'huge-array'],
      [1, 'not-bulk'],
      [1, 'unbalanced-quotes'],
      [1, 'no-crlf'],
    ]);
    switch (kind) {
      case 'ping':
        return { label: kind, bytes: multibulk(rnd.pick(['PING', 'ping', 'PiNg'])), expect: reply('PONG', equalsText('PONG')) };
      case 'inline-ping':
        return { label: kind, bytes: Buffer.from('PING\r\n'), expect: reply('PONG', equalsText('PONG')) };
      case 'echo': {
        const message = rnd.bytes(rnd.int(64));
        return { label: kind, bytes: multibulk('ECHO', message), expect: reply('the message', equalsBytes(message)) };
      }
      case 'set': {
        const k = key();
        const value = rnd.chance(0.3) ? rnd.bytes(rnd.int(300)) : Buffer.from(`v${rnd.int(1e6)}`);
        held.set(k, value);
        return { label: kind, bytes: multibulk('SET', k, value), expect: reply('OK', equalsText('OK')), write: { key: k, value } };
      }
      case 'get': {
        const k = key();
        return { label: kind, bytes: multibulk('GET', k), expect: reply(`the value of ${k}`, equalsBytes(held.get(k) ?? null)) };
      }
      case 'del': {
        const k = key();
        const count = held.delete(k) ? 1 : 0;
        return { label: kind, bytes: multibulk('DEL', k), expect: reply(`:${count}`, (r) => r === count), write: { key: k, value: null } };
      }
      case 'mget': {
        const keys = [key(), key(), key()];
        const values = keys.map((k) => held.get(k) ?? null);
        return {
          label: kind,
          bytes: multibulk('MGET', ...keys),
          expect: reply('the values', (r) => Array.isArray(r) && r.length === 3 && values.every((v, i) => equalsBytes(v)(r[i]))),
        };
      }
      case 'exists': {
        const keys = [key(), key()];
        const count = keys.filter((k) => held.has(k)).length;
        return { label: kind, bytes: multibulk('EXISTS', ...keys), expect: reply(`:${count}`, (r) => r === count) };
      }
      case 'unknown': {
        // A binary name no command has (the prefix keeps it from being one by chance).
        const name = Buffer.concat([Buffer.from('zz'), rnd.bytes(rnd.between(1, 20))]);
        return { label: kind, bytes: multibulk(name, 'a'), expect: reply('unknown command', isError(/^ERR unknown command '/)) };
      }
      case 'arity':
        return { label: kind, bytes: multibulk(rnd.pick(['GET', 'SET', 'ECHO', 'STRLEN'])), expect: reply('wrong arity', isError(/^ERR wrong number of arguments for '/)) };
      case 'oversized': {
        const size = FUZZ_LIMITS.maxValueBytes + 1 + rnd.int(5_000);
        return { label: kind, bytes: multibulk('SET', key(), Buffer.alloc(size, 120)), expect: reply('over the limit', isError(/^ERR an argument is \d+ bytes, over/)) };
      }
      case 'key-too-large':
        return { label: kind, bytes: multibulk('GET', 'k'.repeat(FUZZ_LIMITS.maxKeyBytes + 1)), expect: reply('KEY_TOO_LARGE', isError(/^ERR KEY_TOO_LARGE: /)) };
      case 'key-not-utf8':
        return { label: kind, bytes: multibulk('SET', Buffer.from([0xff, 0xfe, 0x41]), 'v'), expect: reply('KEY_INVALID', isError(/^ERR KEY_INVALID: /)) };
      case 'blank':
        return { label: kind, bytes: Buffer.from(rnd.pick(['\r\n', '\n', '*0\r\n', '*-1\r\n', '   \r\n'])), expect: { kind: 'none' } };
      case 'inline-garbage': {
        const words = Array.from({ length: rnd.between(1, 4) }, () => `zz${rnd.bytes(rnd.between(1, 8)).toString('hex')}`);
        return { label: kind, bytes: Buffer.from(`${words.join(' ')}\r\n`), expect: reply('unknown command', isError(/^ERR unknown command 'zz/)) };
      }
      case 'nested':
        return fatal(kind, Buffer.from('*2\r\n*1\r\n$1\r\na\r\n$1\r\nb\r\n'));
      case 'negative-length':
        return fatal(kind, Buffer.from(`*2\r\n$3\r\nGET\r\n$-${rnd.between(1, 1e6)}\r\n`));
      case 'huge-length':
        return fatal(kind, Buffer.from(`*2\r\n$3\r\nGET\r\n$${rnd.between(600_000_000, 2 ** 40)}\r\n`));
      case 'huge-array':
        return fatal(kind, Buffer.from(`*${rnd.between(5_000, 2 ** 40)}\r\n`));
      case 'not-bulk':
        return fatal(kind, Buffer.from(`*1\r\n${rnd.pick([':1', '+OK', '-ERR', 'PING'])}\r\n`));
      case 'unbalanced-quotes':
        return fatal(kind, Buffer.from('ECHO "abc\r\n'));
      default:
        return fatal(kind, Buffer.from('*1\r\n$3\r\nabcXY'));
    }
  }

  /** The start of a well-formed frame, never finished. */
  private cutOff(): Buffer {
    const whole = multibulk('SET', `fz:cut:${this.rnd.int(1e6)}`, 'never');
    return whole.subarray(0, this.rnd.between(1, whole.length - 1));
  }
}

function reply(describe: string, check: (reply: unknown) => boolean): Expectation {
  return { kind: 'reply', describe, check };
}

function fatal(label: string, bytes: Buffer): RespFrame {
  return { label, bytes, expect: { kind: 'fatal' } };
}
