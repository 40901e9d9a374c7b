import type { ServerResponse } from 'node:http';
import { asBitacoraError, type BitacoraError } from '../errors/bitacora-error';
import { writeAtTurnEnd } from '../lifecycle/turn-end-writes';
import type { Entry } from '../store/entry';

/**
 * An answer decided but not yet written: what /rpc's codec returns, so node:http (sendAnswer) and the fast path
 * (fast-path/answer-bytes.ts) write the same status, headers and body.
 */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  /** Left out of the answer to a HEAD request (node:http does so itself; the fast path does too). */
  readonly body: string | Buffer | undefined;
}

/** A JSON answer. */
export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return jsonTextAnswer(status, JSON.stringify(body), headers);
}

/** A JSON answer whose text is made already. */
export function jsonTextAnswer(status: number, payload: string, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload), ...headers }, body: payload };
}

/** An error answer `{error: {code, message, ...}}` with the code's status. */
export function errorAnswer(error: BitacoraError, headers: Record<string, string> = {}): HttpAnswer {
  return jsonAnswer(error.status, error.toJSON(), headers);
}

/** The raw value as the body (for `Accept: application/octet-stream`), with its metadata in headers. */
export function rawValueAnswer(entry: Entry, headOnly: boolean, source: string): HttpAnswer {
  return {
    status: 200,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': entry.value.length,
      'X-Bitacora-Partition': String(entry.partition),
      'X-Bitacora-Offset': String(entry.offset),
      'X-Bitacora-Timestamp': String(entry.timestamp),
      'X-Bitacora-Source': source,
    },
    body: headOnly ? undefined : entry.value,
  };
}

/**
 * Sends an answer through node:http at the end of the event-loop turn, with the others of the turn, after every
 * ready connection was read (turn-end-writes.ts): node:http writes at once in end(), which alternated reads and
 * writes. What is answered is fixed now; only the writing waits.
 */
export function sendAnswer(res: ServerResponse, answer: HttpAnswer): void {
  writeAtTurnEnd(
    () => {
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    },
    (error) => res.destroy(error instanceof Error ? error : undefined),
  );
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendAnswer(res, jsonAnswer(status, body, headers));
}

/** Writes an error answer `{error: {code, message, ...}}` with the code's status. */
export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): BitacoraError {
  const failure = asBitacoraError(error);
  if (!res.headersSent) sendAnswer(res, errorAnswer(failure, headers));
  else res.destroy();
  return failure;
}

/** True when the client asked for the raw value rather than JSON. */
export function wantsRawValue(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/octet-stream');
}
