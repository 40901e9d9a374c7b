import { STATUS_CODES } from 'node:http';
import type { HttpAnswer } from '../respond';

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
 * An answer's HTTP/1.1 bytes, with the headers node:http adds to its own (Date, Connection, Keep-Alive), so a client
 * sees one server. `closes` is decided by the caller (the answer's own Connection header is one of its reasons) and
 * is the only Connection header written. The head and a string body are one string (the head is ASCII, the body
 * UTF-8, as Content-Length counted it); a Buffer body follows the head as its own chunk. A HEAD request's answer
 * has no body.
 */
export function answerBytes(answer: HttpAnswer, headOnly: boolean, closes: boolean, keepAliveSeconds: number): [string] | [string, Buffer] {
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n`;
  for (const name in answer.headers) if (name !== 'Connection') head += `${name}: ${answer.headers[name]}\r\n`;
  head += `Date: ${httpDate()}\r\n`;
  head += closes ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
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
