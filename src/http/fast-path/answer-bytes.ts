import { STATUS_CODES } from 'node:http';
import type { HttpAnswer } from '../respond';

/** What node:http's keep-alive answers say; the fast path's say the same, so a client sees one server. */
export interface KeepAlive {
  readonly timeoutMs: number;
}

let dateSecond = -1;
let dateText = '';

/** The Date header's value, made once a second (as node:http does). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/**
 * An answer's HTTP/1.1 bytes, with the headers node:http adds to its own (Date, Connection, Keep-Alive). The
 * head and a string body are one string (the head is ASCII, the body UTF-8, as Content-Length counted it); a
 * Buffer body follows the head as its own chunk. A HEAD request's answer has no body.
 */
export function answerBytes(answer: HttpAnswer, headOnly: boolean, close: boolean, keepAlive: KeepAlive): [string] | [string, Buffer] {
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n`;
  let closes = close;
  for (const name in answer.headers) {
    const value = answer.headers[name]!;
    if (name === 'Connection') {
      if (String(value).toLowerCase() === 'close') closes = true;
      continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  head += `Date: ${httpDate()}\r\n`;
  head += closes ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAlive.timeoutMs / 1000)}\r\n\r\n`;
  const body = answer.body;
  if (headOnly || body === undefined) return [head];
  if (typeof body === 'string') return [head + body];
  return [head, body];
}

/** True when the answer asks for the connection to close after it. */
export function answerCloses(answer: HttpAnswer): boolean {
  const value = answer.headers.Connection;
  return value !== undefined && String(value).toLowerCase() === 'close';
}
