import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Commands } from '../commands/commands';
import { entryJsonText } from '../commands/entry-json';
import type { ReadOutcome } from '../commands/read-key';
import type { WriteOutcome } from '../commands/write-record';
import { BitacoraError } from '../errors/bitacora-error';
import { parseQuery, type Query, singleParam } from './query';
import { readBody } from './read-body';
import { errorAnswer, type HttpAnswer, jsonAnswer, jsonTextAnswer, rawValueAnswer, sendAnswer, wantsRawValue } from './respond';

/** Methods /rpc accepts, for the Allow header of a 405. */
export const RPC_METHODS = 'GET, HEAD, POST, DELETE';

/** A /rpc request as the codec needs it, whichever HTTP server read it (node:http, or the fast path). */
export interface RpcRequest {
  readonly method: string;
  /** The raw query string, without its '?'. */
  readonly search: string;
  readonly accept: string | undefined;
  /** True when the request carries a body: a length over 0, or a chunked one. */
  readonly hasBody: boolean;
  readonly chunked: boolean;
  /** The body, whole, within MAX_VALUE_BYTES. Called at most once, and only when `hasBody`. */
  body(): Buffer | Promise<Buffer>;
  /** True when part of the body was never read: a refusal must then close the connection rather than drain it. */
  bodyUnread(): boolean;
}

/**
 * The /rpc codec: GET/HEAD is the get command, POST set, DELETE delete. Parses the query (and the body of a
 * write), calls the command and turns its outcome into an answer; the command validates and counts. A query's
 * read answers without a promise. Its own handler, not express's router: reads and writes are what a cache serves
 * most, and the router's per-request cost would cap them (see docs/performance.md).
 */
export function answerRpc(request: RpcRequest, commands: Commands): HttpAnswer | Promise<HttpAnswer> {
  const startedAt = performance.now();
  const method = request.method;
  if (method === 'GET' || method === 'HEAD') {
    let key: Buffer | undefined;
    try {
      key = singleParam(parseQuery(request.search), 'key', 'KEY_INVALID');
    } catch (error) {
      return errorAnswer(commands.refused('http', 'get', error, startedAt).error);
    }
    const outcome = commands.get('http', key, startedAt);
    if (outcome instanceof Promise) return outcome.then((settled) => readAnswer(request, settled, method === 'HEAD'));
    return readAnswer(request, outcome, method === 'HEAD');
  }
  if (method === 'POST' || method === 'DELETE') return write(request, commands, method === 'POST' ? 'set' : 'delete', startedAt);
  const refusal = new BitacoraError('METHOD_NOT_ALLOWED', `/rpc does not accept ${method}: use ${RPC_METHODS}`);
  return errorAnswer(commands.refused('http', 'other', refusal, startedAt).error, { Allow: RPC_METHODS });
}

/** /rpc through node:http: the request's fields for the codec, its answer sent at the end of the turn. */
export function handleRpc(req: IncomingMessage, res: ServerResponse, search: string, commands: Commands): void | Promise<void> {
  const contentLength = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const answer = answerRpc(
    {
      method: req.method ?? 'GET',
      search,
      accept: req.headers.accept,
      hasBody: Number(contentLength ?? 0) > 0 || chunked,
      chunked,
      body: () => readBody(req, commands.limits),
      bodyUnread: () => !req.complete,
    },
    commands,
  );
  if (answer instanceof Promise) return answer.then((settled) => sendAnswer(res, settled));
  sendAnswer(res, answer);
}

function readAnswer(request: RpcRequest, outcome: ReadOutcome, headOnly: boolean): HttpAnswer {
  if (outcome.kind === 'hit') {
    if (wantsRawValue(request.accept)) return rawValueAnswer(outcome.entry, headOnly, outcome.source);
    return jsonTextAnswer(200, entryJsonText(outcome.key, outcome.entry, outcome.source));
  }
  if (outcome.kind === 'miss') return jsonAnswer(404, { error: { code: 'NOT_FOUND', message: 'no value for this key', key: outcome.key } });
  return errorAnswer(outcome.error);
}

async function write(request: RpcRequest, commands: Commands, command: 'set' | 'delete', startedAt: number): Promise<HttpAnswer> {
  let outcome: WriteOutcome;
  try {
    const query = parseQuery(request.search);
    const key = singleParam(query, 'key', 'KEY_INVALID');
    if (command === 'set') {
      const value = writeValue(request, query);
      outcome = await commands.set('http', key, value instanceof Promise ? await value : value, startedAt);
    } else outcome = await commands.delete('http', key, startedAt);
  } catch (error) {
    outcome = commands.refused('http', command, error, startedAt);
  }
  if (outcome.kind === 'error') {
    // A refused body is not read: close the connection rather than drain it.
    const unread = outcome.error.code === 'VALUE_TOO_LARGE' && request.bodyUnread();
    return errorAnswer(outcome.error, unread ? { Connection: 'close' } : {});
  }
  const { key, partition, offset } = outcome;
  return jsonAnswer(200, command === 'set' ? { key, partition, offset } : { key, partition, offset, deleted: true });
}

/** The value of a write: `?value=V` or the raw body, never both and never neither; a query's value without a promise. */
function writeValue(request: RpcRequest, query: Query): Buffer | Promise<Buffer> {
  const fromQuery = singleParam(query, 'value', 'VALUE_AMBIGUOUS');
  if (fromQuery !== undefined) {
    if (request.hasBody) {
      throw new BitacoraError('VALUE_AMBIGUOUS', 'the write has both a value query parameter and a body: send the value one way only');
    }
    return fromQuery;
  }
  if (!request.hasBody) throw new BitacoraError('VALUE_MISSING', 'the write has no value: pass ?value=V or send the value as the request body');
  const body = request.body();
  const checked = (bytes: Buffer): Buffer => {
    if (bytes.length === 0 && request.chunked) {
      throw new BitacoraError('VALUE_MISSING', 'the write has no value: pass ?value=V or send the value as the request body');
    }
    return bytes;
  };
  return body instanceof Promise ? body.then(checked) : checked(body);
}
