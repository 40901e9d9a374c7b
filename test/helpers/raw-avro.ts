import type net from 'node:net';
import { type Service, Type } from 'avsc';
import { connectTcp } from './tcp-connect';

/** Avro IPC's call metadata: a map of bytes. */
export const METADATA = Type.forSchema({ type: 'map', values: 'bytes' });

/** The handshake records of the Avro specification ("Protocol Wire Format"), written out here so tests depend on the spec, not on avsc internals. */
const HANDSHAKE_REQUEST = Type.forSchema({
  name: 'org.apache.avro.ipc.HandshakeRequest',
  type: 'record',
  fields: [
    { name: 'clientHash', type: { name: 'MD5', type: 'fixed', size: 16 } },
    { name: 'clientProtocol', type: ['null', 'string'], default: null },
    { name: 'serverHash', type: 'MD5' },
    { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }], default: null },
  ],
});
const HANDSHAKE_RESPONSE = Type.forSchema({
  name: 'org.apache.avro.ipc.HandshakeResponse',
  type: 'record',
  fields: [
    { name: 'match', type: { name: 'HandshakeMatch', type: 'enum', symbols: ['BOTH', 'CLIENT', 'NONE'] } },
    { name: 'serverProtocol', type: ['null', 'string'], default: null },
    { name: 'serverHash', type: ['null', { name: 'MD5', type: 'fixed', size: 16 }], default: null },
    { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }], default: null },
  ],
});

/**
 * One Netty-framed message (`serial:int32 count:int32` then `count` frames of `length:int32 bytes`, big-endian),
 * its payload cut into `frames` frames (the last may be empty).
 */
export function frame(serial: number, payload: Buffer, frames = 1): Buffer {
  const size = Math.ceil(payload.length / frames);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.writeInt32BE(serial | 0, 0);
  header.writeInt32BE(frames, 4);
  parts.push(header);
  for (let i = 0; i < frames; i++) {
    const piece = payload.subarray(i * size, (i + 1) * size);
    const length = Buffer.alloc(4);
    length.writeInt32BE(piece.length, 0);
    parts.push(length, piece);
  }
  return Buffer.concat(parts);
}

/**
 * A client of the Avro socket RPC on a bare socket, for tests that send what no Avro library would: any serial,
 * any message name, bytes that do not decode. It does the standard handshake with a protocol of its choice, then
 * sends framed calls and hands back each answer's payload by serial.
 */
export class RawAvroConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly waiting = new Map<number, (payload: Buffer | 'closed') => void>();
  private readonly arrived = new Map<number, Buffer>();
  private onEnded: Array<() => void> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    const end = (): void => {
      if (this.ended) return;
      this.ended = true;
      for (const resolve of this.waiting.values()) resolve('closed');
      this.waiting.clear();
      for (const notify of this.onEnded) notify();
    };
    socket.on('close', end);
    socket.on('end', end);
    socket.on('error', end);
  }

  /** Connects, without a handshake. */
  static async connect(address: string, timeoutMs = 10_000): Promise<RawAvroConnection> {
    const [host, port] = address.split(':');
    return new RawAvroConnection(await connectTcp(host, Number(port), timeoutMs));
  }

  /** Connects and does the handshake (with a ping, as avsc's clients do) as a client of `service`'s protocol. */
  static async open(address: string, service: Service, timeoutMs = 10_000): Promise<RawAvroConnection> {
    const connection = await RawAvroConnection.connect(address, timeoutMs);
    const hash = (service as unknown as { hash: Buffer }).hash;
    const request = HANDSHAKE_REQUEST.toBuffer({ clientHash: hash, clientProtocol: JSON.stringify(service.protocol), serverHash: hash, meta: null });
    const answer = await connection.call(0, Buffer.concat([request, Buffer.from([0, 0])]), 1, timeoutMs);
    if (answer === 'closed') throw new Error('the node closed the connection during the handshake');
    const { value } = HANDSHAKE_RESPONSE.decode(answer, 0) as { value: { match: string } };
    if (value.match === 'NONE') throw new Error('the node refused the handshake');
    return connection;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends `payload` as message `serial` and resolves with the answer's payload, or 'closed' if the connection ends first. */
  call(serial: number, payload: Buffer, frames = 1, timeoutMs = 20_000): Promise<Buffer | 'closed'> {
    const answer = this.answer(serial, timeoutMs);
    this.write(frame(serial, payload, frames));
    return answer;
  }

  /** The answer to message `serial` (sent by the caller), or 'closed'; rejects after `timeoutMs`. */
  answer(serial: number, timeoutMs = 20_000): Promise<Buffer | 'closed'> {
    const early = this.arrived.get(serial);
    if (early) {
      this.arrived.delete(serial);
      return Promise.resolve(early);
    }
    if (this.ended) return Promise.resolve('closed');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(serial);
        reject(new Error(`no answer to message ${serial} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(serial, (payload) => {
        clearTimeout(timer);
        resolve(payload);
      });
    });
  }

  halfClose(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits for the node to close the connection; false if it is still open after `timeoutMs`. */
  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.onEnded.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private parse(): void {
    for (;;) {
      const buf = this.buffered;
      if (buf.length < 8) return;
      const serial = buf.readInt32BE(0);
      const count = buf.readInt32BE(4);
      let offset = 8;
      const frames: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        if (buf.length < offset + 4) return;
        const length = buf.readInt32BE(offset);
        if (buf.length < offset + 4 + length) return;
        frames.push(buf.subarray(offset + 4, offset + 4 + length));
        offset += 4 + length;
      }
      this.buffered = buf.subarray(offset);
      const payload = Buffer.concat(frames);
      const resolve = this.waiting.get(serial);
      if (resolve) {
        this.waiting.delete(serial);
        resolve(payload);
      } else {
        this.arrived.set(serial, payload);
      }
    }
  }
}

/** An answer's payload, decoded: the response, or the error (a system error's text, or a declared error's name and fields). */
export type AvroAnswer =
  | { readonly ok: true; readonly response: unknown }
  | { readonly ok: false; readonly system: string }
  | { readonly ok: false; readonly declared: string; readonly fields: Record<string, unknown> };

/** A system error's union: the string branch is the first of every message's errors. */
const SYSTEM_ERROR = Type.forSchema(['string']);

/** Decodes the answer to a call of `message` (undefined: a name the node does not know, so only a system error fits). */
export function decodeAnswer(service: Service, message: string | undefined, payload: Buffer): AvroAnswer {
  const metadata = METADATA.decode(payload, 0);
  if (metadata.offset < 0 || metadata.offset >= payload.length) throw new Error(`an answer without its metadata and error flag: 0x${payload.toString('hex')}`);
  const isError = payload[metadata.offset] === 1;
  const known = message === undefined ? undefined : service.message(message);
  const type = isError ? (known?.errorType ?? SYSTEM_ERROR) : known?.responseType;
  if (!type) throw new Error(`a success answer to a call of ${JSON.stringify(message)}, which the node does not know: 0x${payload.toString('hex')}`);
  const body = type.decode(payload, metadata.offset + 1);
  if (body.offset !== payload.length) throw new Error(`an answer to ${message} that does not decode as its ${isError ? 'error' : 'response'}: 0x${payload.toString('hex').slice(0, 400)}`);
  if (!isError) return { ok: true, response: body.value };
  const value = body.value as unknown;
  if (typeof value === 'string') return { ok: false, system: value };
  const [branch, inner] = Object.entries(value as Record<string, unknown>)[0];
  if (branch === 'string') return { ok: false, system: inner as string };
  return { ok: false, declared: branch.split('.').pop()!, fields: { ...(inner as Record<string, unknown>) } };
}

const STRING = Type.forSchema('string');
const BYTES = Type.forSchema('bytes');
const BYTES_ARRAY = Type.forSchema({ type: 'array', items: 'bytes' });

/**
 * A call's payload: empty metadata, the message name, then its request fields, each given as raw bytes and encoded
 * as Avro bytes (which is how a string is encoded too, so a key need not be UTF-8). An array field is a list.
 */
export function callPayload(name: string, ...fields: Array<Buffer | Buffer[]>): Buffer {
  return Buffer.concat([METADATA.toBuffer({}), STRING.toBuffer(name), ...fields.map((f) => (Array.isArray(f) ? BYTES_ARRAY.toBuffer(f) : avroString(f)))]);
}

/** Bytes encoded as an Avro string (a length, then the bytes, whether or not they are UTF-8). */
export function avroString(bytes: Buffer): Buffer {
  return BYTES.toBuffer(bytes);
}

/** An answer in one line: `ok`, `system <text>`, or `<DeclaredError> <code>`. */
export function summarize(answer: AvroAnswer): string {
  if (answer.ok) return 'ok';
  return 'system' in answer ? `system ${answer.system}` : `${answer.declared} ${String(answer.fields.code)}`;
}
