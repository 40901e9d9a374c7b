import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Failure } from '../commands/command-context';
import type { Commands } from '../commands/commands';
import { entryToJson } from '../commands/entry-json';
import type { ReadOutcome } from '../commands/read-key';
import type { WriteOutcome } from '../commands/write-record';
import { BitacoraError } from '../errors/bitacora-error';
import { parseQuery, type Query, singleParam } from './query';
import { readBody } from './read-body';
import { sendError, sendJson, sendRawValue, wantsRawValue } from './respond';

/** Methods /rpc accepts, for the Allow header of a 405. */
export const RPC_METHODS = 'GET, HEAD, POST, DELETE';

/**
 * The /rpc codec: GET/HEAD is the get command, POST set, DELETE delete. Parses the query (and the body of a
 * write), calls the command, writes its outcome; the command validates and counts. On bare node:http rather than
 * express's router: reads and writes are what a cache serves most, and the router's per-request cost would cap
 * them (see docs/performance.md).
 */
export function handleRpc(req: IncomingMessage, res: ServerResponse, search: string, commands: Commands): void | Promise<void> {
  const startedAt = performance.now();
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    let key: Buffer | undefined;
    try {
      key = singleParam(parseQuery(search), 'key', 'KEY_INVALID');
    } catch (error) {
      return sendFailure(res, commands.refused('http', 'get', error, startedAt));
    }
    const outcome = commands.get('http', key, startedAt);
    if (outcome instanceof Promise) return outcome.then((settled) => answerRead(req, res, settled, method === 'HEAD'));
    return answerRead(req, res, outcome, method === 'HEAD');
  }
  if (method === 'POST' || method === 'DELETE') return write(req, res, search, commands, method === 'POST' ? 'set' : 'delete', startedAt);
  const refusal = new BitacoraError('METHOD_NOT_ALLOWED', `/rpc does not accept ${method}: use ${RPC_METHODS}`);
  sendFailure(res, commands.refused('http', 'other', refusal, startedAt), { Allow: RPC_METHODS });
}

function answerRead(req: IncomingMessage, res: ServerResponse, outcome: ReadOutcome, headOnly: boolean): void {
  if (outcome.kind === 'hit') {
    if (wantsRawValue(req.headers.accept)) sendRawValue(res, outcome.entry, headOnly, outcome.source);
    else sendJson(res, 200, entryToJson(outcome.key, outcome.entry, { source: outcome.source }));
  } else if (outcome.kind === 'miss') {
    sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no value for this key', key: outcome.key } });
  } else {
    sendFailure(res, outcome);
  }
}

async function write(req: IncomingMessage, res: ServerResponse, search: string, commands: Commands, command: 'set' | 'delete', startedAt: number): Promise<void> {
  let outcome: WriteOutcome;
  try {
    const query = parseQuery(search);
    const key = singleParam(query, 'key', 'KEY_INVALID');
    if (command === 'set') {
      const value = writeValue(req, query, commands);
      outcome = await commands.set('http', key, value instanceof Promise ? await value : value, startedAt);
    } else outcome = await commands.delete('http', key, startedAt);
  } catch (error) {
    outcome = commands.refused('http', command, error, startedAt);
  }
  if (outcome.kind === 'error') {
    // A refused body is not read: close the connection rather than drain it.
    const unread = outcome.error.code === 'VALUE_TOO_LARGE' && !req.complete;
    sendFailure(res, outcome, unread ? { Connection: 'close' } : {});
    return;
  }
  const { key, partition, offset } = outcome;
  sendJson(res, 200, command === 'set' ? { key, partition, offset } : { key, partition, offset, deleted: true });
}

/** The value of a write: `?value=V` or the raw body, never both and never neither; a query's value without a promise. */
function writeValue(req: IncomingMessage, query: Query, commands: Commands): Buffer | Promise<Buffer> {
  const fromQuery = singleParam(query, 'value', 'VALUE_AMBIGUOUS');
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (fromQuery !== undefined) {
    if (hasBody) {
      throw new BitacoraError('VALUE_AMBIGUOUS', 'the write has both a value query parameter and a body: send the value one way only');
    }
    return fromQuery;
  }
  if (!hasBody) throw new BitacoraError('VALUE_MISSING', 'the write has no value: pass ?value=V or send the value as the request body');
  return readBody(req, commands.limits).then((body) => {
    if (body.length === 0 && req.headers['transfer-encoding'] !== undefined) {
      throw new BitacoraError('VALUE_MISSING', 'the write has no value: pass ?value=V or send the value as the request body');
    }
    return body;
  });
}

function sendFailure(res: ServerResponse, failure: Failure, headers: Record<string, string> = {}): void {
  sendError(res, failure.error, headers);
}
