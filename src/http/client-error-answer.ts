import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A connection's requests read and not yet answered, the latest of them, and the answer owed to bytes that followed. */
interface Connection {
  unanswered: number;
  latest: IncomingMessage;
  failed: string | undefined;
}

/**
 * The bare answer node:http's `clientError` calls for, written in its place on the connection: 431 to a request
 * head over the size limit and 408 to one that did not arrive in time (as node:http's own handler answers), 400 to
 * anything else that is not HTTP. Requests read before the bad bytes (pipelined, or in the same packet) may still
 * be being served: an answer written at once would arrive ahead of theirs, the client would take it for the first
 * one's, and a write it made would look refused although it was done. So the answer waits until every request
 * before it is answered, then closes the connection. When the bytes broke the body of a request still being read,
 * that request is the one refused, at once (its handler sees the connection end and writes nothing).
 */
export class ClientErrorAnswer {
  private readonly connections = new WeakMap<Duplex, Connection>();

  /** Counts `req` until its answer is done or abandoned. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    let connection = this.connections.get(socket);
    if (!connection) {
      connection = { unanswered: 0, latest: req, failed: undefined };
      this.connections.set(socket, connection);
    }
    connection.unanswered++;
    connection.latest = req;
    const owner = connection;
    res.once('close', () => {
      if (--owner.unanswered === 0 && owner.failed) refuse(socket, owner.failed);
    });
  }

  /** node:http's `clientError`: answers now, or once the requests before the bad bytes are answered. */
  answer(error: NodeJS.ErrnoException, socket: Duplex): void {
    const connection = this.connections.get(socket);
    if (connection?.failed) return; // the parser reports again on every later chunk
    const answer = bareAnswer(error.code);
    if (error.code?.startsWith('ECONN') || !socket.writable) {
      socket.destroy();
      return;
    }
    if (connection && connection.unanswered > 0 && connection.latest.complete) {
      connection.failed = answer;
      socket.pause();
      return;
    }
    refuse(socket, answer);
  }
}

function bareAnswer(code: string | undefined): string {
  const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

function refuse(socket: Duplex, answer: string): void {
  if (socket.writable) socket.end(answer);
  else socket.destroy();
}
