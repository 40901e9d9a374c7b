import net from 'node:net';
import { withTimeout } from '../retry/retry';

/** What one framed exchange expects of the server's answer. */
export interface FramedExchange {
  /** host:port (IPv6 hosts in brackets). */
  readonly address: string;
  /** Written once connected. */
  readonly request: Buffer;
  /** Bounds of the answer's 4-byte big-endian size; anything outside means this is not the server we expect. */
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Written (and flushed) after the answer arrived, before the socket is destroyed, e.g. a close-session request. */
  readonly farewell?: Buffer;
  readonly timeoutMs: number;
  /** What is asked, for errors: "metadata from Kafka at ...". */
  readonly description: string;
}

/**
 * One request and one size-prefixed answer over a socket of its own, as the stack's readiness probes speak to
 * Kafka and ZooKeeper: asking that very server, and nothing left open afterwards (every path destroys the socket,
 * so a probe that gave up never connects later and keeps a process alive). Resolves with the answer's body.
 */
export async function exchangeFrame(options: FramedExchange): Promise<Buffer> {
  const separator = options.address.lastIndexOf(':');
  const host = options.address.slice(0, separator).replace(/^\[|\]$/g, '');
  const socket = net.connect({ host, port: Number(options.address.slice(separator + 1)) });
  try {
    return await withTimeout(readFrame(socket, options), options.timeoutMs, options.description);
  } finally {
    socket.destroy();
  }
}

function readFrame(socket: net.Socket, options: FramedExchange): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.once('close', () => reject(new Error(`the connection closed before a whole answer arrived (${options.description})`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (size < options.minBytes || size > options.maxBytes) return reject(new Error(`an answer of ${size} bytes is not what was asked for (${options.description})`));
      if (received.length < 4 + size) return;
      const body = received.subarray(4, 4 + size);
      if (options.farewell) socket.write(options.farewell, () => resolve(body));
      else resolve(body);
    });
    socket.once('connect', () => socket.write(options.request));
  });
}
