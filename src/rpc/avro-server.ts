import net from 'node:net';
import { PassThrough } from 'node:stream';
import type { AccessToken } from '../access/access-token';
import { BitacoraError } from '../errors/bitacora-error';
import { InFlightRequests } from '../lifecycle/in-flight-requests';
import type { Logger } from '../logging/logger';
import type { NodeMetrics } from '../metrics/node-metrics';
import type { CacheService, ReadResult } from '../node/cache-service';
import { asBitacoraError } from '../errors/bitacora-error';
import { stringBytes } from './avro-decoding-guard';
import { serverService } from './avro-protocol';
import { toDeclaredError, toSystemError } from './avro-errors';
import { checkHandshake, unauthorizedAnswer } from './handshake-auth';
import { NettyFrameDecoder, NettyFrameEncoder, type NettyMessage, pipeCoalesced } from './netty-frame-codec';

/** Longest a connection may sit with part of a message received and no further byte arriving. */
export const AVRO_MESSAGE_TIMEOUT_MS = 30_000;

/** Most keys one multiGet may ask for. */
export const MAX_MULTI_GET_KEYS = 1_000;

type Callback = (error: unknown, response?: unknown) => void;

/** The part of avsc's server this file uses (its bundled typings have no Server type and fixed-arity handlers). */
interface AvscServer {
  onMessage(name: string, handler: (...args: any[]) => void): AvscServer;
  createChannel(transport: { readable: NodeJS.ReadableStream; writable: NodeJS.WritableStream }, options: { objectMode: boolean }): NodeJS.EventEmitter;
  on(event: 'error', listener: (error: Error) => void): AvscServer;
}

/**
 * The Avro socket RPC on AVRO_PORT: avsc's service layer over stateful channels with Netty framing (the framing
 * of Java's NettyServer), one channel per TCP connection, requests pipelined on it. Semantics are CacheService's,
 * as on HTTP. Bytes that break the framing or its limits close that one connection; nothing else.
 */
export class AvroServer {
  private readonly tcp: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly avsc: AvscServer;
  private readonly inFlight = new InFlightRequests();

  constructor(
    private readonly deps: {
      readonly service: CacheService;
      readonly logger: Logger;
      readonly limits: {
        readonly maxKeyBytes: number;
        readonly maxValueBytes: number;
        /** MAX_CONNECTIONS; unlimited when omitted. */
        readonly maxConnections?: number;
        /** MAX_INFLIGHT_PER_CONNECTION; unlimited when omitted. */
        readonly maxInFlightPerConnection?: number;
      };
      readonly metrics?: NodeMetrics;
      /** AUTH_TOKEN: each connection's first handshake must carry it (src/rpc/handshake-auth.ts). */
      readonly token?: AccessToken;
      /** AVRO_MESSAGE_TIMEOUT_MS unless a test needs it shorter. */
      readonly messageTimeoutMs?: number;
    },
  ) {
    this.avsc = this.createAvscServer();
    // Room for the largest key and value plus Avro's own overhead and a multiGet of many keys.
    const maxMessageBytes = deps.limits.maxKeyBytes * MAX_MULTI_GET_KEYS + deps.limits.maxValueBytes + 64 * 1024;
    const limits = { maxMessageBytes, maxFrames: Math.ceil(maxMessageBytes / 1024) + 16 };
    this.tcp = net.createServer((socket) => this.accept(socket, limits));
    // Past it, Node closes each new connection at once (see docs/operations.md, "Limits").
    if (deps.limits.maxConnections !== undefined) this.tcp.maxConnections = deps.limits.maxConnections;
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        const address = this.tcp.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Resolves true when no call is in flight, or false after `timeoutMs`. */
  waitForInFlight(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
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
    // avsc answers only ids whose top 16 bits match the channel's scope (0) and drops the rest unanswered, while
    // Java's NettyTransceiver numbers calls 1, 2, 3…: its 65,536th call on a connection would hang. A channel is one
    // connection here, so every id is its own.
    (channel as unknown as { _matchesPrefix(id: number): boolean })._matchesPrefix = () => true;
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
      this.deps.metrics?.observeRequest('avro', 'unauthorized', 401, process.hrtime.bigint());
      this.deps.logger.info({ remote: socket.remoteAddress }, 'refusing an Avro connection without AUTH_TOKEN');
      socket.unpipe(decoder);
      encoder.end({ id: message.id, payload: unauthorizedAnswer(reason) } satisfies NettyMessage);
    });
    decoder.on('end', () => admitted.end());
    return admitted;
  }

  private createAvscServer(): AvscServer {
    const { service, logger } = this.deps;
    const server = serverService().createServer({ silent: true } as object) as unknown as AvscServer;
    // Errors of the channel layer (a bad handshake, an unknown message) are answered to that client by avsc.
    server.on('error', (error: Error) => logger.debug({ err: error }, 'Avro request failed'));
    const metrics = this.deps.metrics;
    const track = <T>(operation: string, work: () => T | Promise<T>, callback: Callback, onError: (error: unknown) => unknown): void => {
      this.inFlight.started();
      const started = process.hrtime.bigint();
      // The Avro error value loses the BitacoraError it came from; keep the cause for the outcome label.
      let cause: unknown;
      const done = (error: unknown, response?: unknown): void => {
        this.inFlight.finished();
        metrics?.observeRequest('avro', operation, error ? asBitacoraError(cause).status : 200, started);
        callback(error, response);
      };
      const mapError = (failure: unknown): unknown => {
        cause = failure;
        return onError(failure);
      };
      try {
        const result = work();
        if (result instanceof Promise) result.then((value) => done(null, value), (error: unknown) => done(mapError(error)));
        else done(null, result);
      } catch (error) {
        done(mapError(error));
      }
    };
    // The bytes as sent, so a key that is not UTF-8 meets KEY_INVALID as on HTTP (see avro-decoding-guard.ts).
    const key = stringBytes;

    // The original messages: strings in and out, absence as null, failures as system errors.
    type Req = { key: string; value: string & Buffer; keys: string[] };
    server.onMessage('getValue', (req: Req, cb: Callback) =>
      track('get', () => orAbsent(() => service.get(key(req.key)), (r) => r.entry.value.toString('utf8')), cb, toSystemError),
    );
    server.onMessage('setValue', (req: Req, cb: Callback) => track('set', () => service.set(key(req.key), key(req.value)).then(() => null), cb, toSystemError));
    server.onMessage('delete', (req: Req, cb: Callback) => track('delete', () => service.delete(key(req.key)).then(() => null), cb, toSystemError));

    // The richer messages: bytes, metadata, declared errors.
    server.onMessage('get', (req: Req, cb: Callback) => track('get', () => orAbsent(() => service.get(key(req.key)), toAvroEntry), cb, toDeclaredError));
    server.onMessage('set', (req: Req, cb: Callback) => track('set', () => service.set(key(req.key), req.value), cb, toDeclaredError));
    server.onMessage('remove', (req: Req, cb: Callback) => track('delete', () => service.delete(key(req.key)), cb, toDeclaredError));
    server.onMessage('multiGet', (req: Req, cb: Callback) =>
      track(
        'multiget',
        () => {
          if (req.keys.length > MAX_MULTI_GET_KEYS) {
            throw new BitacoraError('KEY_INVALID', `multiGet asked for ${req.keys.length} keys; ask for at most ${MAX_MULTI_GET_KEYS} at once`);
          }
          return Promise.all(req.keys.map((k) => orAbsent(() => service.get(key(k)), toAvroEntry)));
        },
        cb,
        toDeclaredError,
      ),
    );
    return server;
  }
}

function toAvroEntry(result: ReadResult): Record<string, unknown> {
  const { entry } = result;
  return { key: result.key, value: entry.value, partition: entry.partition, offset: entry.offset, timestamp: entry.timestamp, source: result.source };
}

/** A read as `map(result)`, or null when the key is absent (absence is a value in Avro, not an error). */
function orAbsent<T>(read: () => ReadResult | Promise<ReadResult>, map: (result: ReadResult) => T): T | null | Promise<T | null> {
  const absent = (error: unknown): null => {
    if (error instanceof BitacoraError && error.code === 'NOT_FOUND') return null;
    throw error;
  };
  let lookup: ReadResult | Promise<ReadResult>;
  try {
    lookup = read();
  } catch (error) {
    return absent(error);
  }
  if (lookup instanceof Promise) return lookup.then(map, absent);
  return map(lookup);
}
