import type { IncomingMessage, ServerResponse } from 'node:http';
import { BitacoraError } from '../errors/bitacora-error';
import type { CacheService } from '../node/cache-service';
import { parseQuery, singleParam } from './query';
import { entryToJson, sendError, sendJson } from './respond';

/**
 * GET/HEAD /rpc/cluster?key=K: the local-only lookup peers send on every fan-out, on bare node:http like /rpc
 * (express's router was a tenth of a peer's time under fan-out load). Never forwarded. An absence is an ordinary
 * answer here, "absent as of position P", so it is written without building an Error.
 */
export function handleClusterLookup(req: IncomingMessage, res: ServerResponse, search: string, service: CacheService): void {
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new BitacoraError('METHOD_NOT_ALLOWED', `/rpc/cluster does not accept ${req.method}: use GET, HEAD`);
    }
    const lookup = service.lookupLocal(singleParam(parseQuery(search), 'key', 'KEY_INVALID'));
    if (lookup.entry) {
      sendJson(res, 200, entryToJson(lookup.key, lookup.entry, { source: 'local', position: lookup.position }));
      return;
    }
    sendJson(res, 404, {
      error: { code: 'NOT_FOUND', message: 'no value for this key on this node', key: lookup.key, partition: lookup.partition, position: lookup.position },
    });
  } catch (error) {
    sendError(res, error, req.method !== 'GET' && req.method !== 'HEAD' ? { Allow: 'GET, HEAD' } : {});
  }
}
