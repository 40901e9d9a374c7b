import type { ErrorCode } from '../../src/errors/error-codes';
import { MAX_KEYS_PER_COMMAND } from '../../src/commands/key-validation';
import { avroString, callPayload, frame, METADATA } from './raw-avro';
import { AWKWARD_TEXT, fuzzValue, INVALID_UTF8, keyFaults } from './fuzz-values';
import { SeededRandom } from './seeded-random';

/**
 * Generated calls for the Avro socket fuzz test, well framed but often invalid, each with the answers docs/api.md
 * allows: the request is built field by field as raw bytes, so the oracle knows exactly what it says without
 * decoding it with the node's code.
 */

export interface AvroLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

/** What the node must answer to one call. */
export type AvroExpected =
  /** A call with no message name: avsc's ping, answered null. */
  | { readonly kind: 'ping' }
  /** Bytes that are not a request of a message the node knows: a system error. */
  | { readonly kind: 'invalid' }
  /** A refused request: the declared BadInput (or, for the original messages, a system error "CODE: …"), with one of `codes`. */
  | { readonly kind: 'refused'; readonly codes: ReadonlySet<ErrorCode>; readonly original: boolean }
  /** Random bytes sent to a read-only message: any answer, as long as there is one. */
  | { readonly kind: 'anything'; readonly message: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'multiGet'; readonly keys: readonly string[] }
  | { readonly kind: 'set'; readonly key: string; readonly value: Buffer }
  | { readonly kind: 'remove'; readonly key: string }
  /** An original read of a key only its own case writes: the exact text (null: absent). */
  | { readonly kind: 'getValue'; readonly key: string; readonly text: string | null }
  | { readonly kind: 'setValue'; readonly key: string; readonly text: string }
  | { readonly kind: 'delete'; readonly key: string };

export interface AvroCall {
  readonly serial: number;
  readonly payload: Buffer;
  /** How many frames the payload is cut into. */
  readonly frames: number;
  /** The message name the call carries, when the node knows it. */
  readonly message: string | undefined;
  readonly expected: AvroExpected;
}

export interface AvroCase {
  readonly index: number;
  readonly label: string;
  /** Calls on the worker's connection: all written at once (pipelined), or one after another when `sequential`. */
  readonly calls: readonly AvroCall[];
  readonly sequential: boolean;
  /** Instead of calls: bytes on a new connection (after a handshake when `handshake`) that must make the node close it. */
  readonly framing?: { readonly bytes: Buffer; readonly handshake: boolean; readonly halfClose: boolean };
}

const MESSAGES = ['get', 'set', 'remove', 'multiGet', 'getValue', 'setValue', 'delete'];
const READ_ONLY = ['get', 'getValue', 'multiGet'];
const MAX_MULTI_GET_KEYS = MAX_KEYS_PER_COMMAND;

/** Generates Avro cases from a seed; the same seed and sequence of generate() calls give the same cases. */
export class AvroCaseGenerator {
  /** The keys good writes go to, shared by every worker. */
  readonly keys: string[];
  private readonly rnd: SeededRandom;
  private label: string[] = [];
  private serialCounter = 0;

  constructor(
    seed: number,
    private readonly limits: AvroLimits,
    /** The node's largest message (see AvroServer): framing cases declare more. */
    private readonly maxMessageBytes: number,
  ) {
    this.rnd = new SeededRandom(seed);
    this.keys = [...Array.from({ length: 8 }, (_, i) => `a${i}`), ...AWKWARD_TEXT.filter((t) => Buffer.byteLength(t) <= limits.maxKeyBytes), 'y'.repeat(limits.maxKeyBytes)];
  }

  generate(index: number): AvroCase {
    this.label = [];
    const r = this.rnd;
    const category = r.weighted([
      [20, 'get'],
      [18, 'set'],
      [6, 'remove'],
      [6, 'multiGet'],
      [7, 'original'],
      [5, 'unknown'],
      [5, 'truncated'],
      [5, 'random-body'],
      [6, 'framing'],
      [8, 'pipelined'],
    ] as const);
    this.note(category);
    let calls: AvroCall[];
    let sequential = false;
    switch (category) {
      case 'framing':
        return { index, label: this.label.join(' '), calls: [], sequential: false, framing: this.framing() };
      case 'original':
        calls = this.original(index);
        sequential = true;
        break;
      case 'pipelined':
        calls = Array.from({ length: r.between(2, 5) }, () => this.call(r.pick(['get', 'get', 'set', 'remove', 'multiGet', 'unknown', 'truncated'] as const)));
        break;
      default:
        calls = [this.call(category)];
    }
    return { index, label: this.label.join(' '), calls, sequential };
  }

  private note(part: string): void {
    this.label.push(part);
  }

  /** A serial: small ones as avsc's clients send, and ones past 16 bits or negative as Java's and others may. */
  private serial(): number {
    const low = ++this.serialCounter & 0xffff;
    return this.rnd.weighted([
      [6, low],
      [2, (this.rnd.between(1, 0x7fff) << 16) | low],
      [1, (0x8000 << 16) | low],
    ]);
  }

  private call(kind: 'get' | 'set' | 'remove' | 'multiGet' | 'unknown' | 'truncated' | 'random-body'): AvroCall {
    const r = this.rnd;
    const frames = r.chance(0.2) ? r.between(2, 4) : 1;
    const make = (message: string | undefined, payload: Buffer, expected: AvroExpected): AvroCall => ({ serial: this.serial(), payload, frames, message, expected });
    switch (kind) {
      case 'get': {
        const key = this.key(true);
        return make('get', callPayload('get', key), this.keyed('get', key, (k) => ({ kind: 'get', key: k })));
      }
      case 'set': {
        const key = this.key(false);
        const value = this.value();
        const faults = new Set(this.keyFaults(key));
        if (value.length > this.limits.maxValueBytes) faults.add('VALUE_TOO_LARGE');
        const expected: AvroExpected = faults.size > 0 ? { kind: 'refused', codes: faults, original: false } : { kind: 'set', key: key.toString('utf8'), value };
        return make('set', callPayload('set', key, value), expected);
      }
      case 'remove': {
        const key = this.key(false);
        return make('remove', callPayload('remove', key), this.keyed('remove', key, (k) => ({ kind: 'remove', key: k })));
      }
      case 'multiGet': {
        const many = r.chance(0.08);
        const keys = many
          ? Array.from({ length: MAX_MULTI_GET_KEYS + r.between(1, 50) }, (_, i) => Buffer.from(`m${i}`))
          : Array.from({ length: r.between(0, 6) }, () => this.key(true));
        if (many) this.note(`keys:${keys.length}`);
        const faults = new Set<ErrorCode>(many ? ['TOO_MANY_KEYS'] : keys.flatMap((k) => this.keyFaults(k)));
        const expected: AvroExpected = faults.size > 0 ? { kind: 'refused', codes: faults, original: false } : { kind: 'multiGet', keys: keys.map((k) => k.toString('utf8')) };
        return make('multiGet', callPayload('multiGet', keys), expected);
      }
      case 'unknown': {
        const name = r.pick(['frobnicate', 'GET', 'Get', 'get ', 'getValues', 'send', 'org.apache.avro.ipc.Ping', '\u00e9t\u00e9', '']);
        const nameBytes = r.chance(0.15) ? Buffer.from([0x67, 0xff, 0x74]) : Buffer.from(name);
        const payload = Buffer.concat([METADATA.toBuffer({}), avroString(nameBytes), this.rnd.bytes(r.between(0, 20))]);
        // An empty name is a ping (its request has no fields; bytes after it are not read).
        const ping = nameBytes.length === 0;
        this.note(ping ? 'ping' : `name:${JSON.stringify(nameBytes.toString('latin1'))}`);
        return make(undefined, payload, ping ? { kind: 'ping' } : { kind: 'invalid' });
      }
      case 'truncated': {
        // Every strict prefix of a valid call's payload is invalid: decoding would need the bytes that were cut.
        const message = r.pick(MESSAGES);
        const whole = this.validPayload(message);
        const cut = whole.subarray(0, r.int(whole.length));
        this.note(`${message}:cut@${cut.length}/${whole.length}`);
        return make(message, cut, { kind: 'invalid' });
      }
      case 'random-body': {
        const message = r.pick(READ_ONLY);
        this.note(message);
        return make(message, Buffer.concat([METADATA.toBuffer({}), avroString(Buffer.from(message)), this.rnd.bytes(r.between(0, 64))]), { kind: 'anything', message });
      }
    }
  }

  /** The expectation of a call on one key: refused with its faults, or `good`. */
  private keyed(message: string, key: Buffer, good: (key: string) => AvroExpected): AvroExpected {
    const faults = this.keyFaults(key);
    this.note(message);
    return faults.length > 0 ? { kind: 'refused', codes: new Set(faults), original: false } : good(key.toString('utf8'));
  }

  /** A good payload of `message`, for truncation. */
  private validPayload(message: string): Buffer {
    const key = Buffer.from(this.rnd.pick(this.keys));
    if (message === 'set') return callPayload('set', key, this.rnd.bytes(this.rnd.between(1, 32)));
    if (message === 'setValue') return callPayload('setValue', key, Buffer.from('text'));
    if (message === 'multiGet') return callPayload('multiGet', [key, key]);
    return callPayload(message, key);
  }

  /** The original messages on a key no other case touches, one call after another, so getValue's answer is known. */
  private original(index: number): AvroCall[] {
    const r = this.rnd;
    const key = `orig-${index}${r.pick(['', 'é', '🙂'])}`;
    const call = (message: string, payload: Buffer, expected: AvroExpected): AvroCall => ({ serial: this.serial(), payload, frames: 1, message, expected });
    const keyBytes = Buffer.from(key);
    const text = Array.from({ length: r.between(0, 3) }, () => r.pick(AWKWARD_TEXT)).join('');
    const calls: AvroCall[] = [call('getValue', callPayload('getValue', keyBytes), { kind: 'getValue', key, text: null })];
    if (r.chance(0.25)) {
      // A refused one first: a faulty key, or a value over the limit.
      const bad = this.key(false);
      const faults = this.keyFaults(bad);
      if (faults.length > 0) calls.push(call('setValue', callPayload('setValue', bad, Buffer.from('x')), { kind: 'refused', codes: new Set(faults), original: true }));
      else calls.push(call('setValue', callPayload('setValue', keyBytes, Buffer.alloc(this.limits.maxValueBytes + 1, 0x61)), { kind: 'refused', codes: new Set(['VALUE_TOO_LARGE']), original: true }));
    }
    calls.push(call('setValue', callPayload('setValue', keyBytes, Buffer.from(text)), { kind: 'setValue', key, text }));
    calls.push(call('getValue', callPayload('getValue', keyBytes), { kind: 'getValue', key, text }));
    if (r.chance(0.5)) {
      calls.push(call('delete', callPayload('delete', keyBytes), { kind: 'delete', key }));
      calls.push(call('getValue', callPayload('getValue', keyBytes), { kind: 'getValue', key, text: null }));
    }
    return calls;
  }

  /** A key as raw bytes: one of the pool, absent, empty, too long, or not UTF-8. */
  private key(read: boolean): Buffer {
    const r = this.rnd;
    const kind = r.weighted([
      [62, 'pool'],
      [read ? 12 : 0, 'absent'],
      [5, 'empty'],
      [7, 'too-long'],
      [8, 'invalid'],
    ] as const);
    this.note(`key:${kind}`);
    switch (kind) {
      case 'pool':
        return Buffer.from(r.pick(this.keys));
      case 'absent':
        return Buffer.from(`none-${r.int(1000)}`);
      case 'empty':
        return Buffer.alloc(0);
      case 'too-long':
        return Buffer.from('z'.repeat(this.limits.maxKeyBytes + r.between(1, this.limits.maxKeyBytes * 3)));
      case 'invalid':
        return Buffer.concat([Buffer.from(r.pick(['', 'a', 'é'])), Buffer.from(r.pick(INVALID_UTF8)), Buffer.from(r.pick(['', 'b']))]);
    }
  }

  private keyFaults(key: Buffer): ErrorCode[] {
    return keyFaults(key, this.limits.maxKeyBytes);
  }

  private value(): Buffer {
    const { kind, bytes } = fuzzValue(this.rnd, this.limits.maxValueBytes);
    this.note(`value:${kind}`);
    return bytes;
  }

  /** Framing the node must refuse by closing the connection: absurd lengths and counts, or a message cut off by the end. */
  private framing(): NonNullable<AvroCase['framing']> {
    const r = this.rnd;
    const kind = r.pick(['huge-length', 'negative-length', 'no-frames', 'too-many-frames', 'cut-frame', 'cut-header'] as const);
    this.note(kind);
    const header = (...ints: number[]): Buffer => {
      const bytes = Buffer.alloc(ints.length * 4);
      ints.forEach((n, i) => bytes.writeInt32BE(n | 0, i * 4));
      return bytes;
    };
    const serial = this.serial();
    const handshake = r.chance(0.5);
    switch (kind) {
      case 'huge-length':
        return { bytes: header(serial, 1, r.pick([0x7fffffff, this.maxMessageBytes + 1, this.maxMessageBytes + r.between(2, 1_000_000)])), handshake, halfClose: false };
      case 'negative-length':
        return { bytes: header(serial, 1, -r.between(1, 0x7fffffff)), handshake, halfClose: false };
      case 'no-frames':
        return { bytes: header(serial, r.pick([0, -1, -r.between(2, 0x7fffffff)])), handshake, halfClose: false };
      case 'too-many-frames':
        return { bytes: header(serial, r.pick([0x7fffffff, 1_000_000 + r.int(1000)])), handshake, halfClose: false };
      case 'cut-frame': {
        const whole = frame(serial, this.validPayload(r.pick(MESSAGES)), r.between(1, 3));
        return { bytes: whole.subarray(0, r.between(1, whole.length - 1)), handshake, halfClose: true };
      }
      case 'cut-header':
        return { bytes: header(serial, 1).subarray(0, r.between(1, 7)), handshake, halfClose: true };
    }
  }
}
