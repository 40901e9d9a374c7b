import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodePeerLookup } from '../cluster/peer-lookup-wire';
import type { Commands } from '../commands/commands';
import { BitacoraError } from '../errors/bitacora-error';
import { parseQuery, singleParam } from './query';
import { sendError, sendJson } from './respond';

/**
 * GET/HEAD /rpc/cluster?key=K: the lookup command, which peers send on every fan-out, on bare node:http like /rpc
 * (express's router was a tenth of a peer's time under fan-out load). Never forwarded. An absence is an ordinary
 * answer here, "absent as of position P" (src/cluster/peer-lookup-wire.ts).
 */
export function handleClusterLookup(req: IncomingMessage, res: ServerResponse, search: string, commands: Commands): void {
  const startedAt = performance.now();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const refusal = new BitacoraError('METHOD_NOT_ALLOWED', `/rpc/cluster does not accept ${req.method}: use GET, HEAD`);
    sendError(res, commands.refused('http', 'other', refusal, startedAt).error, { Allow: 'GET, HEAD' });
    return;
  }
  let key: Buffer | undefined;
  try {
    key = singleParam(parseQuery(search), 'key', 'KEY_INVALID');
  } catch (error) {
    sendError(res, commands.refused('http', 'lookup', error, startedAt).error);
    return;
  }
  const outcome = commands.lookup('http', key, startedAt);
  if (outcome.kind === 'error') {
    sendError(res, outcome.error);
    return;
  }
  const wire = encodePeerLookup(outcome);
  sendJson(res, wire.status, wire.body);
}
