import net from 'node:net';
import { PassThrough } from 'node:stream';
import type { AccessToken } from '../access/access-token';
import { InFlightRequests } from '../lifecycle/in-flight-requests';
import { listenTcp } from '../lifecycle/listen-tcp';
import type { Logger } from '../logging/logger';
import { failure, type Failure } from '../commands/command-context';
import type { Commands } from '../commands/commands';
import { MAX_KEYS_PER_COMMAND } from '../commands/key-validation';
import type { Hit, Miss, ReadOutcome } from '../commands/read-key';
import type { Written } from '../commands/write-record';
import { asBitacoraError, BitacoraError } from '../errors/bitacora-error';
import { acceptEveryCallId } from '../patches/avsc-call-ids';
import { stringBytes } from '../patches/avsc-decoding';
import { serverService } from './avro-protocol';
import { toDeclaredError, toSystemError } from './avro-errors';
import { checkHandshake, unauthorizedAnswer } from './handshake-auth';
import { NettyFrameDecoder, NettyFrameEncoder, type NettyMessage, pipeCoalesced } from './netty-frame-codec';
import type { ListenerLimits } from '../lifecycle/listener-limits';

/** Longest a connection may sit with part of a message received and no further byte arriving. */
export const AVRO_MESSAGE_TIMEOUT_MS = 30_000;

type Callback = (error: unknown, response?: unknown) => void;

/** The part of avsc's server this file uses (its bundled typings have no Server type and fixed-arity handlers). */
interface AvscServer {
  onMessage(name: string, handler: (...args: any[]) => void): AvscServer;
  createChannel(transport: { readable: NodeJS.ReadableStream; writable: NodeJS.WritableStream }, options: { objectMode: boolean }): NodeJS.EventEmitter;
  on(event: 'error', listener: (error: Error) => void): AvscServer;
}

/**
 * The Avro socket RPC on AVRO_PORT: avsc's service layer over stateful channels with Netty framing (the framing
 * of Java's NettyServer), one channel per TCP connection, requests pipelined on it: a codec over the commands
 * (src/commands/), as HTTP is. Bytes that break the framing or its limits close that one connection; nothing else.
 */
export class AvroServer {
  private readonly tcp: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly avsc: AvscServer;
  private readonly inFlight = new InFlightRequests();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      readonly commands: Commands;
      readonly logger: Logger;
      readonly limits: ListenerLimits;
      /** AUTH_TOKEN: each connection's first handshake must carry it (src/rpc/handshake-auth.ts). */
      readonly token?: AccessToken;
      /** AVRO_MESSAGE_TIMEOUT_MS unless a test needs it shorter. */
      readonly messageTimeoutMs?: number;
    },
  ) {
    this.avsc = this.createAvscServer();
    // Room for the largest key and value plus Avro's own overhead and a multiGet of many keys.
    const maxMessageBytes = deps.limits.maxKeyBytes * MAX_KEYS_PER_COMMAND + deps.limits.maxValueBytes + 64 * 1024;
    const limits = { maxMessageBytes, maxFrames: Math.ceil(maxMessageBytes / 1024) + 16 };
    this.tcp = net.createServer((socket) => this.accept(socket, limits));
    // Past it, Node closes each new connection at once (see docs/operations.md, "Limits").
    if (deps.limits.maxConnections !== undefined) this.tcp.maxConnections = deps.limits.maxConnections;
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return listenTcp(this.tcp, port, host);
  }

  /** Resolves true when no call is in flight, or false after `timeoutMs`. */
  waitForInFlight(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }

  /** Stops accepting and closes every connection; a second call returns the first's promise. */
  close(): Promise<void> {
    this.closing ??= this.closeServer();
    return this.closing;
  }

  private async closeServer(): Promise<void> {
    if (!this.tcp.listening) return;
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: net.Socket, limits: { maxMessageBytes: number; maxFrames: number }): void {
    // Without it, Nagle's algorithm and delayed ACKs hold each small response back by tens of milliseconds.
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const decoder = new NettyFrameDecoder(limits, this.deps.limits.maxInFlightPerConnection);
    const encoder = new NettyFrameEncoder(() => decoder.answered());
    const drop = (error?: Error): void => {
      if (error && !(error as NodeJS.ErrnoException).code?.startsWith('ECONN')) {
        this.deps.logger.info({ remote: socket.remoteAddress, reason: error.message }, 'closing an Avro connection');
      }
      socket.destroy();
    };
    socket.on('error', drop);
    socket.on('close', () => this.sockets.delete(socket));
    // An idle connection may stay (clients keep them for years); one stuck half-way through a message may not,
    // as on HTTP, where a whole request must arrive within 30 s.
    const messageTimeoutMs = this.deps.messageTimeoutMs ?? AVRO_MESSAGE_TIMEOUT_MS;
    socket.setTimeout(messageTimeoutMs, () => {
      if (decoder.midMessage) drop(new Error(`no byte of the rest of a message for ${messageTimeoutMs} ms`));
    });
    decoder.on('error', drop);
    encoder.on('error', drop);
    socket.pipe(decoder);
    pipeCoalesced(encoder, socket);
    const readable = this.deps.token ? this.admitWithToken(this.deps.token, socket, decoder, encoder) : decoder;
    const channel = this.avsc.createChannel({ readable, writable: encoder }, { objectMode: true });
    channel.on('error', drop);
    acceptEveryCallId(channel);
  }

  /**
   * Lets messages through to avsc only once the connection's first one carried AUTH_TOKEN in its handshake; a
   * refused connection gets the UNAUTHORIZED answer and is closed, and avsc never sees a byte of it.
   */
  private admitWithToken(token: AccessToken, socket: net.Socket, decoder: NettyFrameDecoder, encoder: NettyFrameEncoder): NodeJS.ReadableStream {
    const admitted = new PassThrough({ objectMode: true });
    let state: 'waiting' | 'admitted' | 'refused' = 'waiting';
    decoder.on('data', (message: NettyMessage) => {
      if (state === 'admitted') {
        admitted.write(message);
        return;
      }
      if (state === 'refused') return;
      const reason = checkHandshake(Buffer.concat(message.payload), token);
      if (reason === undefined) {
        state = 'admitted';
        admitted.write(message);
        return;
      }
      state = 'refused';
      this.deps.commands.refused('avro', 'unauthorized', new BitacoraError('UNAUTHORIZED', reason));
      this.deps.logger.info({ remote: socket.remoteAddress }, 'refusing an Avro connection without AUTH_TOKEN');
      socket.unpipe(decoder);
      encoder.end({ id: message.id, payload: unauthorizedAnswer(reason) } satisfies NettyMessage);
    });
    decoder.on('end', () => admitted.end());
    return admitted;
  }

  private createAvscServer(): AvscServer {
    const { commands, logger } = this.deps;
    const server = serverService().createServer({ silent: true } as object) as unknown as AvscServer;
    // Errors of the channel layer (a bad handshake, an unknown message) are answered to that client by avsc.
    server.on('error', (error: Error) => logger.debug({ err: error }, 'Avro request failed'));
    /** One call: counted in flight, its command's outcome encoded as the response or as the message's error. */
    const answer = <R extends { readonly kind: string }>(
      callback: Callback,
      outcome: R | Promise<R>,
      encode: (done: Exclude<R, Failure>) => unknown,
      toError: (error: BitacoraError) => unknown,
    ): void => {
      this.inFlight.started();
      const reply = (settled: R | Failure): void => {
        this.inFlight.finished();
        if (settled.kind === 'error') callback(toError((settled as Failure).error));
        else callback(null, encode(settled as Exclude<R, Failure>));
      };
      if (outcome instanceof Promise) outcome.then(reply, (error: unknown) => reply(failure(asBitacoraError(error))));
      else reply(outcome);
    };
    // The bytes as sent, so a key that is not UTF-8 meets KEY_INVALID as on HTTP (see src/patches/avsc-decoding.ts).
    const key = stringBytes;
    const valueText = (read: ReadOutcome): string | null => (read.kind === 'hit' ? read.entry.value.toString('utf8') : null);
    const entryOrNull = (read: Hit | Miss): Record<string, unknown> | null => (read.kind === 'hit' ? toAvroEntry(read) : null);
    const writeAck = (write: Written): Record<string, unknown> => ({ key: write.key, partition: write.partition, offset: write.offset });

    // The original messages: strings in and out, absence as null, failures as system errors.
    type Req = { key: string; value: string & Buffer; keys: string[]; entries: Array<{ key: string; value: Buffer }> };
    server.onMessage('getValue', (req: Req, cb: Callback) => answer(cb, commands.get('avro', key(req.key)), valueText, toSystemError));
    server.onMessage('setValue', (req: Req, cb: Callback) => answer(cb, commands.set('avro', key(req.key), key(req.value)), () => null, toSystemError));
    server.onMessage('delete', (req: Req, cb: Callback) => answer(cb, commands.delete('avro', key(req.key)), () => null, toSystemError));

    // The richer messages: bytes, metadata, declared errors.
    server.onMessage('get', (req: Req, cb: Callback) => answer(cb, commands.get('avro', key(req.key)), entryOrNull, toDeclaredError));
    server.onMessage('set', (req: Req, cb: Callback) => answer(cb, commands.set('avro', key(req.key), req.value), writeAck, toDeclaredError));
    server.onMessage('remove', (req: Req, cb: Callback) => answer(cb, commands.delete('avro', key(req.key)), writeAck, toDeclaredError));
    server.onMessage('multiGet', (req: Req, cb: Callback) =>
      answer(cb, commands.mget('avro', req.keys.map(key)), (done) => done.reads.map(entryOrNull), toDeclaredError),
    );
    server.onMessage('exists', (req: Req, cb: Callback) => answer(cb, commands.exists('avro', req.keys.map(key)), (done) => done.count, toDeclaredError));
    server.onMessage('multiSet', (req: Req, cb: Callback) =>
      answer(cb, commands.mset('avro', req.entries.map((entry) => [key(entry.key), entry.value] as const)), (done) => done.writes.map(writeAck), toDeclaredError),
    );
    return server;
  }
}

function toAvroEntry(read: Hit): Record<string, unknown> {
  const { entry } = read;
  return { key: read.key, value: entry.value, partition: entry.partition, offset: entry.offset, timestamp: entry.timestamp, source: read.source };
}
