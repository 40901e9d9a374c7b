import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { BitacoraError } from '../errors/bitacora-error';
import type { Member } from '../membership/member';
import type { MembershipReport } from '../membership/membership';
import type { NodeMetrics } from '../metrics/node-metrics';
import type { PartitionDigest } from '../store/content-digest';
import { CLUSTER_STATS_TIMEOUT_MS, fetchClusterStats } from './cluster-stats';
import { splitUrl } from './query';
import { sendError, sendJson } from './respond';
import { statusPage } from './status-page';

/** Everything but the hot paths (/rpc, /rpc/cluster): health, metrics, stats, the status page, JSON 404/405 answers. */
export function createExpressApp(deps: {
  /** The node's readiness (src/node/readiness.ts), as the health paths read it. */
  readiness: { report(): { readonly ready: boolean; readonly node: string; readonly cluster: MembershipReport | undefined } };
  members: () => ReadonlyArray<Member & { self: boolean }>;
  metrics: NodeMetrics;
  /** This node's figures for /stats (the status page reads them from every member). */
  stats: () => Record<string, unknown>;
  /** Per-partition digests of this node's map at its applied positions (docs/operations.md, "Convergence"). */
  digest: () => { node: string; partitions: PartitionDigest[] };
}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/health/live', (_req, res) => sendJson(res, 200, { status: 'live' }));
  app.get('/health/ready', (_req, res) => {
    const report = deps.readiness.report();
    sendJson(res, report.ready ? 200 : 503, report);
  });
  // The original Bitacora's health check: a plain OK or DOWN.
  app.get('/health', (_req, res) => {
    const ok = deps.readiness.report().ready;
    res.status(ok ? 200 : 500).type('text/plain').send(ok ? 'OK' : 'DOWN');
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await deps.metrics.registry.metrics();
      res.status(200).type(deps.metrics.registry.contentType).send(body);
    } catch (error) {
      next(error);
    }
  });

  // This node's figures as JSON: readiness, entries, bytes, hits and misses, records applied and skipped.
  app.get('/stats', (_req, res) => sendJson(res, 200, deps.stats()));

  // Contents as a fingerprint per partition, to compare nodes with each other and with `bitacora digest`.
  app.get('/debug/digest', (_req, res) => sendJson(res, 200, deps.digest()));

  // The cluster as this node sees it, from ZooKeeper; `self` marks this node.
  app.get('/cluster', (_req, res) => {
    const report = deps.readiness.report();
    sendJson(res, 200, { node: report.node, members: deps.members(), zookeeper: report.cluster });
  });

  // The status page: plain HTML that polls /cluster/stats and /metrics and drives /rpc from a small form.
  app.get('/', (_req, res) => {
    res.status(200).set(statusPage.headers).send(statusPage.html);
  });

  // Every member's /stats, gathered here so the browser asks one origin; a peer that fails is listed as unreachable.
  app.get('/cluster/stats', async (_req, res, next) => {
    try {
      sendJson(res, 200, await fetchClusterStats(deps.members(), { selfStats: deps.stats, timeoutMs: CLUSTER_STATS_TIMEOUT_MS }));
    } catch (error) {
      next(error);
    }
  });

  // Known paths answer other methods with 405 and an Allow header.
  for (const path of ['/health', '/health/live', '/health/ready', '/cluster', '/metrics', '/stats', '/', '/cluster/stats', '/debug/digest']) app.all(path, methodNotAllowed('GET, HEAD'));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new BitacoraError('ROUTE_NOT_FOUND', `no such path: ${splitUrl(req.originalUrl).path}; the API is /rpc, /rpc/cluster, /cluster, /stats, /metrics and /health`));
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, error);
  });
  return app;
}

function methodNotAllowed(allow: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    _res.setHeader('Allow', allow);
    next(new BitacoraError('METHOD_NOT_ALLOWED', `${splitUrl(req.originalUrl).path} does not accept ${req.method}: use ${allow}`));
  };
}
