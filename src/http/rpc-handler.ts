import type { IncomingMessage, ServerResponse } from 'node:http';
import { BitacoraError } from '../errors/bitacora-error';
import type { CacheService } from '../node/cache-service';
import { parseQuery, singleParam } from './query';
import { readBody } from './read-body';
import { entryToJson, sendError, sendJson, sendRawValue, wantsRawValue } from './respond';

/** Methods /rpc accepts, for the Allow header of a 405. */
export const RPC_METHODS = 'GET, HEAD, POST, DELETE';

/** What one /rpc request came to, for metrics and logs. */
export type RpcOutcome = { operation: 'get' | 'set' | 'delete' | 'other'; status: number };

/**
 * The /rpc hot path, on bare node:http rather than express's router: reads and writes are what a cache serves
 * most, and the router's per-request cost would cap them (see docs/performance.md).
 */
export async function handleRpc(req: IncomingMessage, res: ServerResponse, search: string, service: CacheService): Promise<RpcOutcome> {
  const method = req.method ?? 'GET';
  const operation = method === 'GET' || method === 'HEAD' ? 'get' : method === 'POST' ? 'set' : method === 'DELETE' ? 'delete' : 'other';
  try {
    if (operation === 'other') {
      throw new BitacoraError('METHOD_NOT_ALLOWED', `/rpc does not accept ${method}: use ${RPC_METHODS}`);
    }
    const query = parseQuery(search);
    const key = singleParam(query, 'key', 'KEY_INVALID');
    if (operation === 'get') {
      const lookup = service.get(key);
      const result = lookup instanceof Promise ? await lookup : lookup;
      if (wantsRawValue(req.headers.accept)) sendRawValue(res, result.entry, method === 'HEAD', result.source);
      else sendJson(res, 200, entryToJson(result.key, result.entry, { source: result.source }));
      return { operation, status: 200 };
    }
    if (operation === 'set') {
      const value = await writeValue(req, query, service);
      const result = await service.set(key, value);
      sendJson(res, 200, result);
      return { operation, status: 200 };
    }
    const result = await service.delete(key);
    sendJson(res, 200, { ...result, deleted: true });
    return { operation, status: 200 };
  } catch (error) {
    const headers: Record<string, string> = operation === 'other' ? { Allow: RPC_METHODS } : {};
    // A refused body is not read: close the connection rather than drain it.
    if (error instanceof BitacoraError && error.code === 'VALUE_TOO_LARGE' && !req.complete) headers.Connection = 'close';
    return { operation, status: sendError(res, error, headers).status };
  }
}

/** The value of a write: `?value=V` or the raw body, never both and never neither. */
async function writeValue(req: IncomingMessage, query: Map<string, Buffer[]>, service: CacheService): Promise<Buffer> {
  const fromQuery = singleParam(query, 'value', 'VALUE_AMBIGUOUS');
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (fromQuery !== undefined) {
    if (hasBody) {
      throw new BitacoraError('VALUE_AMBIGUOUS', 'the write has both a value query parameter and a body: send the value one way only');
    }
    return fromQuery;
  }
  if (!hasBody) throw new BitacoraError('VALUE_MISSING', 'the write has no value: pass ?value=V or send the value as the request body');
  const body = await readBody(req, service.limits);
  if (body.length === 0 && req.headers['transfer-encoding'] !== undefined) {
    throw new BitacoraError('VALUE_MISSING', 'the write has no value: pass ?value=V or send the value as the request body');
  }
  return body;
}
