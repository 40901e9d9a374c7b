import type { ServerResponse } from 'node:http';
import { asBitacoraError, type BitacoraError } from '../errors/bitacora-error';
import { holdUntilTurnEnd } from '../lifecycle/turn-end-writes';
import type { Entry } from '../store/entry';

/** The answers of one event-loop turn leave after every ready connection was read (turn-end-writes.ts). */
function holdResponse(res: ServerResponse): void {
  if (res.socket) holdUntilTurnEnd(res.socket);
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  holdResponse(res);
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** Writes an error answer `{error: {code, message, ...}}` with the code's status. */
export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): BitacoraError {
  const failure = asBitacoraError(error);
  if (!res.headersSent) sendJson(res, failure.status, failure.toJSON(), headers);
  else res.destroy();
  return failure;
}

/** The raw value as the body (for `Accept: application/octet-stream`), with its metadata in headers. */
export function sendRawValue(res: ServerResponse, entry: Entry, headOnly: boolean, source: string): void {
  holdResponse(res);
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': entry.value.length,
    'X-Bitacora-Partition': String(entry.partition),
    'X-Bitacora-Offset': String(entry.offset),
    'X-Bitacora-Timestamp': String(entry.timestamp),
    'X-Bitacora-Source': source,
  });
  res.end(headOnly ? undefined : entry.value);
}

/** True when the client asked for the raw value rather than JSON. */
export function wantsRawValue(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/octet-stream');
}
