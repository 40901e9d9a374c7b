import http from 'node:http';
import type { Express } from 'express';
import { InFlightRequests } from '../lifecycle/in-flight-requests';
import type { Logger } from '../logging/logger';
import type { NodeMetrics } from '../metrics/node-metrics';
import type { CacheService } from '../node/cache-service';
import { splitUrl } from './query';
import { sendError } from './respond';
import { handleClusterLookup } from './cluster-lookup-handler';
import { handleRpc } from './rpc-handler';

/** The node's HTTP server: /rpc and /rpc/cluster on lean handlers, every other path through express. */
export class HttpServer {
  readonly server: http.Server;
  private readonly inFlight = new InFlightRequests();

  constructor(deps: { service: CacheService; app: Express; logger: Logger; metrics?: NodeMetrics }) {
    const { service, app, logger, metrics } = deps;
    this.server = http.createServer(
      // Bounds on slow clients: headers within 10 s, a whole request within 30 s.
      { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 65_000 },
      (req, res) => {
        this.inFlight.started();
        res.once('close', () => this.inFlight.finished());
        const { path, search } = splitUrl(req.url ?? '/');
        if (path === '/rpc') {
          const started = process.hrtime.bigint();
          handleRpc(req, res, search, service).then(
            (outcome) => metrics?.observeRequest('http', outcome.operation, outcome.status, started),
            (error: unknown) => {
              logger.error({ err: error }, 'unexpected error on /rpc');
              sendError(res, error);
            },
          );
        } else if (path === '/rpc/cluster') {
          handleClusterLookup(req, res, search, service);
        } else {
          app(req, res);
        }
      },
    );
    this.server.on('clientError', (error, socket) => {
      // Malformed HTTP: answer 400 when the socket can still take it, never crash.
      if (socket.writable && !(error as NodeJS.ErrnoException).code?.startsWith('ECONN')) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } else socket.destroy();
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

  /** Resolves true when no request is in flight, or false after `timeoutMs`. */
  waitForInFlight(timeoutMs: number): Promise<boolean> {
    return this.inFlight.drained(timeoutMs);
  }

  /** Stops accepting connections, closes idle ones, and after `timeoutMs` every remaining one. */
  async close(timeoutMs: number): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }
}
