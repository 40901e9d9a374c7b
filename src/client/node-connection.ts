import net from 'node:net';
import type { Service } from 'avsc';
import type { TransformCallback } from 'node:stream';
import { addTokenToHandshake, refusalIn } from '../rpc/handshake-auth';
import { NettyFrameDecoder, NettyFrameEncoder, type NettyMessage, pipeCoalesced } from '../rpc/netty-frame-codec';
import { BitacoraClientError } from './client-error';

type Callback = (error: unknown, response?: unknown) => void;

interface AvscClient {
  createChannel(transport: { readable: NodeJS.ReadableStream; writable: NodeJS.WritableStream }, options: { objectMode: boolean }): NodeJS.EventEmitter & { destroy(noWait?: boolean): void };
  emitMessage(name: string, request: Record<string, unknown>, options: { timeout: number }, callback: Callback): void;
}

/** Limits on what a node may send back: as large as the largest answer a node gives (a full multiGet). */
const RESPONSE_LIMITS = { maxMessageBytes: 512 * 1024 * 1024, maxFrames: 1_000_000 };

/**
 * One long-lived, pipelined connection to one node: a TCP socket with Netty framing and an avsc client channel.
 * Once the channel ends (the node died, the socket broke) the connection is dead for good; the pool opens a new one.
 */
export class NodeConnection {
  private readonly socket: net.Socket;
  private readonly client: AvscClient;
  private alive = true;
  private readonly ready: Promise<void>;
  /** Set when the node refused this connection's handshake (AUTH_TOKEN); every call fails with it. */
  private refusal: BitacoraClientError | undefined;

  constructor(
    readonly address: string,
    service: Service,
    connectTimeoutMs: number,
    authToken: string | undefined,
    onDead: (connection: NodeConnection) => void,
  ) {
    const [host, port] = splitAddress(address);
    this.socket = net.connect({ host, port, noDelay: true });
    this.client = service.createClient({ timeout: connectTimeoutMs } as object) as unknown as AvscClient;
    const decoder = new NettyFrameDecoder(RESPONSE_LIMITS);
    const encoder = authToken === undefined ? new NettyFrameEncoder() : new HandshakeTokenEncoder(authToken);
    this.socket.pipe(decoder);
    pipeCoalesced(encoder, this.socket);
    const channel = this.client.createChannel({ readable: decoder, writable: encoder }, { objectMode: true });
    channel.on('handshake', (_request: unknown, response: { match: string; meta?: Record<string, Buffer> | null }) => {
      const reason = refusalIn(response.meta);
      if (reason !== undefined) {
        this.refusal = new BitacoraClientError('UNAUTHORIZED', `node ${address}: ${reason}`);
        die();
      } else if (response.match !== 'NONE' && encoder instanceof HandshakeTokenEncoder) encoder.handshaken = true;
    });
    // avsc adds a listener per call in flight; pipelining hundreds is the point, not a leak.
    for (const emitter of [channel, decoder, encoder, this.socket]) emitter.setMaxListeners(0);
    const die = (): void => {
      if (!this.alive) return;
      this.alive = false;
      this.socket.destroy();
      onDead(this);
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
      setTimeout(() => reject(new Error(`no connection to ${address} within ${connectTimeoutMs} ms`)), connectTimeoutMs).unref();
    });
    this.ready.catch(die);
    this.socket.on('error', die);
    this.socket.on('close', die);
    decoder.on('error', die);
    channel.on('eot', die);
    channel.on('error', die);
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Sends one call; its callback gets avsc's error or the response. */
  call(name: string, request: Record<string, unknown>, timeoutMs: number, callback: Callback): void {
    if (this.refusal) return callback(this.refusal);
    this.ready.then(
      () => this.client.emitMessage(name, request, { timeout: timeoutMs }, (error, response) => callback(error && (this.refusal ?? error), response)),
      (error: unknown) => callback(this.refusal ?? error),
    );
  }

  close(): void {
    this.alive = false;
    this.socket.destroy();
  }
}

/** Puts AUTH_TOKEN into the handshakes avsc sends until one is accepted; later messages carry none. */
class HandshakeTokenEncoder extends NettyFrameEncoder {
  handshaken = false;

  constructor(private readonly token: string) {
    super();
  }

  override _transform(message: NettyMessage, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(this.handshaken ? message : { id: message.id, payload: addTokenToHandshake(message.payload, this.token) }, encoding, callback);
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}
