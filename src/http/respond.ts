import type { ServerResponse } from 'node:http';
import { asBitacoraError, type BitacoraError } from '../errors/bitacora-error';
import { writeAtTurnEnd } from '../lifecycle/turn-end-writes';
import type { Entry } from '../store/entry';

/**
 * Sends an answer at the end of the event-loop turn, with the others of the turn, after every ready connection was
 * read (turn-end-writes.ts): node:http writes at once in end(), which alternated reads and writes. What is answered
 * is fixed now; only the writing waits.
 */
function answerAtTurnEnd(res: ServerResponse, write: () => void): void {
  writeAtTurnEnd(write, (error) => res.destroy(error instanceof Error ? error : undefined));
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  const head = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload), ...headers };
  answerAtTurnEnd(res, () => {
    res.writeHead(status, head);
    res.end(payload);
  });
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
  const head = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': entry.value.length,
    'X-Bitacora-Partition': String(entry.partition),
    'X-Bitacora-Offset': String(entry.offset),
    'X-Bitacora-Timestamp': String(entry.timestamp),
    'X-Bitacora-Source': source,
  };
  answerAtTurnEnd(res, () => {
    res.writeHead(200, head);
    res.end(headOnly ? undefined : entry.value);
  });
}

/** True when the client asked for the raw value rather than JSON. */
export function wantsRawValue(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/octet-stream');
}
