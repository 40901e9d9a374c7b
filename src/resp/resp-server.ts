import net from 'node:net';
import type { AccessToken } from '../access/access-token';
import { InFlightRequests } from '../lifecycle/in-flight-requests';
import { listenTcp } from '../lifecycle/listen-tcp';
import type { Logger } from '../logging/logger';
import type { ServerState, Session } from './command-spec';
import { COMMAND_TABLE } from './command-table';
import type { RespBackend } from './resp-backend';
import { closeAfterWrites } from '../lifecycle/close-after-writes';
import { RespConnection } from './resp-connection';
import type { ListenerLimits } from '../lifecycle/listener-limits';

/** Longest a connection may sit with part of a request received and no further byte arriving. */
export const RESP_REQUEST_TIMEOUT_MS = 30_000;
/** Most arguments in one request: an MSET of 1,000 pairs and then some. A longer array is a protocol error. */
export const MAX_REQUEST_ARGS = 4_096;

/** Redis's answer, in Bitacora's terms, to a client from another host while protected mode is on. */
export const PROTECTED_MODE_REFUSAL =
  '-DENIED Bitacora is running in protected mode because no AUTH_TOKEN is set, so the Redis port accepts connections only from the loopback interface. ' +
  'Set AUTH_TOKEN (clients then AUTH with it), or, if every host that can reach this port is trusted, set RESP_PROTECTED_MODE=no. ' +
  'See docs/resp.md.\r\n';

export interface RespServerOptions {
  readonly backend: RespBackend;
  readonly logger: Logger;
  readonly nodeName: string;
  readonly version: string;
  readonly limits: ListenerLimits;
  /** AUTH_TOKEN: clients must AUTH (or HELLO ... AUTH) with it before anything but AUTH, HELLO, QUIT and RESET. */
  readonly token?: AccessToken;
  /** RESP_PROTECTED_MODE: without a token, refuse clients that are not on the loopback interface. */
  readonly protectedMode: boolean;
  readonly requestTimeoutMs?: number;
}

/**
 * The Redis protocol (RESP2 and RESP3) on RESP_PORT: one RespConnection per client, commands run against
 * RespBackend. See docs/resp.md.
 */
export class RespServer {
  private readonly tcp: net.Server;
  private readonly connections = new Map<net.Socket, RespConnection>();
  /** Every open socket, refused ones included, for close(). */
  private readonly sockets = new Set<net.Socket>();
  private readonly inFlight = new InFlightRequests();
  private readonly state: ServerState;
  private nextId = 1;
  private boundPort = 0;

  constructor(private readonly options: RespServerOptions) {
    this.state = {
      backend: options.backend,
      token: options.token,
      nodeName: options.nodeName,
      version: options.version,
      port: () => this.boundPort,
      startedAt: Date.now(),
      sessions: () => [...this.connections.values()].map((c) => c.session),
      stats: { commands: 0, connectionsReceived: 0, rejectedConnections: 0 },
      commands: () => COMMAND_TABLE,
    };
    // Half-open: a client that sends its requests and then its FIN still gets every reply.
    this.tcp = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    if (options.limits.maxConnections !== undefined) this.tcp.maxConnections = options.limits.maxConnections;
    this.tcp.on('drop', () => this.state.stats.rejectedConnections++);
  }

  async listen(port: number, host: string): Promise<{ host: string; port: number }> {
    const address = await listenTcp(this.tcp, port, host);
    this.boundPort = address.port;
    return address;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Resolves true when no command is in flight, or false after `timeoutMs`. */
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

  private accept(socket: net.Socket): void {
    this.state.stats.connectionsReceived++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!error.code?.startsWith('ECONN') && error.code !== 'EPIPE') this.options.logger.info({ remote: socket.remoteAddress, reason: error.message }, 'closing a RESP connection');
      socket.destroy();
    });
    if (this.options.protectedMode && !this.options.token && !isLoopback(socket.remoteAddress)) {
      this.state.stats.rejectedConnections++;
      this.options.logger.warn({ remote: socket.remoteAddress }, 'refusing a RESP client from another host: protected mode (no AUTH_TOKEN)');
      socket.write(PROTECTED_MODE_REFUSAL);
      closeAfterWrites(socket);
      return;
    }
    const { limits } = this.options;
    const maxBulkBytes = Math.max(limits.maxKeyBytes, limits.maxValueBytes);
    const session: Session = {
      id: this.nextId++,
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      connectedAt: Date.now(),
      protocol: 2,
      authenticated: this.options.token === undefined,
      name: undefined,
      libName: undefined,
      libVersion: undefined,
      lastCommand: 'NULL',
      closeAfterReply: false,
    };
    const connection = new RespConnection(socket, session, {
      server: this.state,
      // Room for an MSET of several large values, bounded so one request cannot take the heap.
      limits: { maxBulkBytes, maxRequestBytes: 4 * maxBulkBytes + MAX_REQUEST_ARGS * limits.maxKeyBytes, maxArgs: MAX_REQUEST_ARGS },
      maxInFlight: limits.maxInFlightPerConnection ?? 1_024,
      inFlight: this.inFlight,
    });
    this.connections.set(socket, connection);
    socket.on('close', () => this.connections.delete(socket));
    const timeoutMs = this.options.requestTimeoutMs ?? RESP_REQUEST_TIMEOUT_MS;
    // An idle connection may stay (clients pool them); one stuck half-way through a request may not.
    socket.setTimeout(timeoutMs, () => {
      if (connection.midRequest) socket.destroy();
    });
  }
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
