import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { AccessToken, TokenRefusal } from '../access/access-token';
import { BitacoraError } from '../errors/bitacora-error';
import { InFlightRequests } from '../lifecycle/in-flight-requests';
import type { Logger } from '../logging/logger';
import type { Commands } from '../commands/commands';
import { splitUrl } from './query';
import { sendError } from './respond';
import { handleClusterLookup } from './cluster-lookup-handler';
import { handleRpc } from './rpc-handler';
import { ClientErrorAnswer } from './client-error-answer';
import { FastRpcConnection, type HandOffReason } from './fast-path/fast-rpc-connection';

/** Bounds on slow clients: headers within 10 s, a whole request (body included) within 30 s. */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Largest request head (request line and headers) Node accepts; larger answers 431. */
export const HTTP_MAX_HEADER_BYTES = 16 * 1024;

export interface HttpAccess {
  /** AUTH_TOKEN; every path but /health/live (and /metrics when open) needs it. Undefined: no check. */
  readonly token: AccessToken | undefined;
  readonly metricsOpen: boolean;
}

/** How long node:http and the fast path keep an idle keep-alive connection open. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** A whole request's time (HTTP_REQUEST_TIMEOUT_MS) and an idle keep-alive connection's (HTTP_KEEP_ALIVE_TIMEOUT_MS). */
export interface HttpTimeouts {
  readonly requestMs?: number;
  readonly keepAliveMs?: number;
}

/**
 * The node's HTTP server: /rpc and /rpc/cluster on lean handlers, every other path through express. A new
 * connection starts on the fast path (fast-path/fast-rpc-connection.ts), which answers /rpc requests of the plain
 * shape without node:http's per-request objects; the first request of any other shape hands the connection to
 * node:http for good. One listening socket, one port, one set of answers: the fast path writes what the codec
 * decides, as node:http would.
 */
export class HttpServer {
  readonly server: http.Server;
  private readonly inFlight = new InFlightRequests();
  private readonly clientErrors = new ClientErrorAnswer();
  /** Connections the fast path still reads. */
  private readonly fastConnections = new Map<Socket, FastRpcConnection>();
  private open = 0;
  private readonly handOffCounts: Record<HandOffReason, number> = { shape: 0, unauthorized: 0 };
  private closing: Promise<void> | undefined;

  constructor(deps: {
    commands: Commands;
    app: Express;
    logger: Logger;
    access?: HttpAccess;
    maxConnections?: number;
    /** The bounds below, shorter for tests. */
    timeouts?: HttpTimeouts;
  }) {
    const { commands, app, logger } = deps;
    const requestMs = deps.timeouts?.requestMs ?? HTTP_REQUEST_TIMEOUT_MS;
    // node:http refuses a headers timeout longer than the request timeout.
    const headersMs = Math.min(HTTP_HEADERS_TIMEOUT_MS, requestMs);
    const keepAliveMs = deps.timeouts?.keepAliveMs ?? HTTP_KEEP_ALIVE_TIMEOUT_MS;
    const access = deps.access ?? { token: undefined, metricsOpen: true };
    this.server = http.createServer(
      {
        headersTimeout: headersMs,
        requestTimeout: requestMs,
        // Node checks those two timeouts on this interval (30 s by default, which would let a slow client hold a
        // connection for up to twice its time).
        connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
        keepAliveTimeout: keepAliveMs,
        maxHeaderSize: HTTP_MAX_HEADER_BYTES,
      },
      (req, res) => {
        this.inFlight.started();
        res.once('close', () => this.inFlight.finished());
        this.clientErrors.track(req, res);
        const { path, search } = splitUrl(req.url ?? '/');
        if (access.token && !isOpenPath(path, access)) {
          const refusal = access.token.check(req.headers.authorization);
          if (refusal) {
            // The body is not read: Connection: close drops whatever the client still sends.
            sendError(res, commands.refused('http', 'unauthorized', unauthorized(refusal)).error, {
              'WWW-Authenticate': 'Bearer realm="bitacora"',
              Connection: 'close',
            });
            return;
          }
        }
        if (path === '/rpc') {
          const unexpected = (error: unknown): void => {
            logger.error({ err: error }, 'unexpected error on /rpc');
            sendError(res, error);
          };
          try {
            handleRpc(req, res, search, commands)?.catch(unexpected);
          } catch (error) {
            unexpected(error);
          }
        } else if (path === '/rpc/cluster') {
          handleClusterLookup(req, res, search, commands);
        } else {
          app(req, res);
        }
      },
    );
    // node:http's own connection listener (it adds exactly one, in its constructor) runs only for the connections
    // the fast path hands over; every new connection starts on the fast path.
    const nodeHttpConnections = this.server.listeners('connection');
    if (nodeHttpConnections.length !== 1) throw new Error(`node:http registered ${nodeHttpConnections.length} connection listeners; the fast path expects one`);
    const nodeHttpConnection = nodeHttpConnections[0] as (socket: Socket) => void;
    this.server.removeAllListeners('connection');
    const fastPath = {
      commands,
      token: access.token,
      inFlight: this.inFlight,
      keepAliveTimeoutMs: keepAliveMs,
      headersTimeoutMs: headersMs,
      requestTimeoutMs: requestMs,
      logger,
      handOff: (socket: Socket, unread: Buffer | undefined, reason: HandOffReason): void => {
        this.handOffCounts[reason]++;
        this.fastConnections.delete(socket);
        nodeHttpConnection.call(this.server, socket);
        // A socket paused while an answer was awaited: node:http reads it from here (after the bytes below).
        if (socket.isPaused()) socket.resume();
        // node:http reads the socket's handle directly from here on: bytes already read reach its parser as a
        // 'data' event, ahead of any that follow.
        if (unread !== undefined && !socket.destroyed) socket.emit('data', unread);
      },
    };
    this.server.on('connection', (socket: Socket) => {
      this.open++;
      socket.once('close', () => {
        this.open--;
        this.fastConnections.delete(socket);
      });
      this.fastConnections.set(socket, new FastRpcConnection(socket, fastPath));
    });
    if (deps.maxConnections !== undefined) limitConnections(this.server, deps.maxConnections, logger);
    // Malformed HTTP: a bare 400 after the answers the connection still owes, never a crash.
    this.server.on('clientError', (error, socket) => this.clientErrors.answer(error, socket));
    // node:http hands a CONNECT (a tunnel request) over as a bare socket and, with no listener, drops it unanswered:
    // answer it as any other request (405 and its Allow header, or 404), then close.
    this.server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
      // node:http no longer watches this socket: an error on it (a reset) must not go unheard.
      socket.on('error', () => socket.destroy());
      const res = new http.ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.once('finish', () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      // A tunnel target (host:port) is no path of ours, and express would not route it: answered here.
      if (req.url?.startsWith('/')) this.server.emit('request', req, res);
      else sendError(res, new BitacoraError('ROUTE_NOT_FOUND', `no such path: ${req.url}; this node is no proxy, and its API is under /rpc, /cluster and /health`));
    });
  }

  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address && typeof address === 'object') resolve({ host: address.address, port: address.port });
        else reject(new Error('the HTTP server has no address'));
      });
    });
  }

  /** Connections the fast path handed to node:http since start, by reason. */
  get handOffs(): Readonly<Record<HandOffReason, number>> {
    return this.handOffCounts;
  }

  /** Open client connections. */
  get connections(): number {
    return this.open;
  }

  /** Resolves true when no request is in flight, or false after `timeoutMs`. */
  waitForInFlight(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }

  /** Stops accepting connections, closes idle ones, and after `timeoutMs` every remaining one; a second call returns the first's promise. */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= this.closeServer(timeoutMs);
    return this.closing;
  }

  private async closeServer(timeoutMs: number): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const connection of this.fastConnections.values()) connection.closeWhenIdle();
    const timer = setTimeout(() => {
      this.server.closeAllConnections();
      for (const socket of this.fastConnections.keys()) socket.destroy();
    }, timeoutMs);
    await closed;
    clearTimeout(timer);
  }
}

/** Paths that answer without AUTH_TOKEN: liveness always (a probe must tell a dead process from a locked one), /metrics when open. */
function isOpenPath(path: string, access: HttpAccess): boolean {
  return path === '/health/live' || (access.metricsOpen && path === '/metrics');
}

function unauthorized(refusal: TokenRefusal): BitacoraError {
  return new BitacoraError(
    'UNAUTHORIZED',
    refusal === 'missing'
      ? 'this node requires a token: send Authorization: Bearer <AUTH_TOKEN>'
      : 'the bearer token does not match this node\'s AUTH_TOKEN',
  );
}

/**
 * Past `max` open connections Node closes each new one at once (server.maxConnections), so one client opening
 * sockets without end cannot starve the others of file descriptors or memory. Logged once per burst.
 */
function limitConnections(server: http.Server, max: number, logger: Logger): void {
  server.maxConnections = max;
  let lastLog = 0;
  server.on('drop', () => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    logger.warn({ maxConnections: max }, 'closing new HTTP connections: MAX_CONNECTIONS reached');
  });
}
