import type { Socket } from 'node:net';
import type { AccessToken } from '../../access/access-token';
import type { Commands } from '../../commands/commands';
import { asBitacoraError } from '../../errors/bitacora-error';
import { closeAfterWrites } from '../../lifecycle/close-after-writes';
import type { InFlightRequests } from '../../lifecycle/in-flight-requests';
import { holdUntilTurnEnd } from '../../lifecycle/turn-end-writes';
import type { Logger } from '../../logging/logger';
import { errorAnswer, type HttpAnswer } from '../respond';
import { answerRpc, type RpcRequest } from '../rpc-handler';
import { answerBytes, answerCloses } from './answer-bytes';
import { type FastRequest, recognizeRequest } from './request-shape';

/** node:http's own answer to a request that did not arrive in time. */
const REQUEST_TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** Why a connection left the fast path: a request of another shape, or a token refused (node:http answers the 401). */
export type HandOffReason = 'shape' | 'unauthorized';

export interface FastPathDeps {
  readonly commands: Commands;
  /** AUTH_TOKEN: a request it refuses goes to node:http, which answers the refusal. */
  readonly token: AccessToken | undefined;
  readonly inFlight: InFlightRequests;
  /** How long an idle connection stays open (node:http's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /** How long a request's head may take to arrive (node:http's headersTimeout), and the whole request (requestTimeout). */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Gives the connection, with the bytes read and not yet served, to node:http for good. */
  handOff(socket: Socket, unread: Buffer | undefined, reason: HandOffReason): void;
}

/**
 * One HTTP connection while its requests are /rpc requests of the plain shape (request-shape.ts): each is parsed
 * from the socket's bytes and answered through the same codec node:http's requests go through (answerRpc), with no
 * IncomingMessage, ServerResponse or stream machinery per request, which is most of node:http's cost per request
 * (docs/performance.md). The first request of another shape hands the connection, and every byte not yet served,
 * to node:http: its parser, errors, timeouts and express routes take over from there.
 *
 * Requests are answered one at a time, in order (a write's answer waits for Kafka; the next request waits for it,
 * so a GET after a POST on one connection reads the value written). Answers are written at the end of the event
 * loop's turn (turn-end-writes.ts). Bytes that arrive while an answer is awaited pause the socket, and so do
 * answers the client has not read (past the socket's high-water mark), so a client that sends without reading
 * cannot grow the node's memory. An idle connection closes after the keep-alive timeout, as node:http's do.
 */
export class FastRpcConnection {
  private unread: Buffer | undefined;
  private answering = false;
  private inputEnded = false;
  /** The server is closing: the connection closes once its current answer is written. */
  private closing = false;
  /** Handed to node:http, or closing: this object no longer reads the socket. */
  private finished = false;
  /** Runs while a request has partly arrived: its head within headersTimeoutMs, all of it within requestTimeoutMs. */
  private requestTimer: NodeJS.Timeout | undefined;
  /** When the request now partly arrived was first seen, and the deadline its timer is set for. */
  private requestStartedAt = 0;
  private requestDeadline = 0;
  /**
   * While a body arrives in pieces: where its request ends in `unread`, and the chunks after `unread` not yet
   * joined to it (one join when the body is whole, not a copy of all so far on every chunk).
   */
  private awaitedEnd = 0;
  private arriving: Buffer[] = [];
  private arrivingBytes = 0;

  private readonly onData = (chunk: Buffer): void => {
    if (this.finished) return;
    if (this.unread === undefined) this.unread = chunk;
    else if (this.unread.length + this.arrivingBytes + chunk.length < this.awaitedEnd) {
      this.arriving.push(chunk);
      this.arrivingBytes += chunk.length;
      return;
    } else {
      this.unread = Buffer.concat([this.unread, ...this.arriving, chunk]);
      this.arriving = [];
      this.arrivingBytes = 0;
    }
    if (!this.answering) this.serve();
    // A client sending ahead of its answers (pipelining) waits in the socket, not in this process's memory.
    else this.socket.pause();
  };

  private readonly onEnd = (): void => {
    this.inputEnded = true;
    if (!this.answering) this.serve();
  };

  private readonly onDrain = (): void => {
    if (this.finished || this.answering) return;
    if (this.socket.isPaused()) this.socket.resume();
    this.serve();
  };

  private readonly onIdle = (): void => {
    if (!this.answering && this.requestTimer === undefined) this.socket.destroy();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  /** The Keep-Alive header's timeout, as node:http writes it. */
  private readonly keepAliveSeconds: number;

  constructor(
    private readonly socket: Socket,
    private readonly deps: FastPathDeps,
  ) {
    this.keepAliveSeconds = Math.floor(deps.keepAliveTimeoutMs / 1000);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('drain', this.onDrain);
    socket.on('timeout', this.onIdle);
    socket.setTimeout(deps.keepAliveTimeoutMs);
    socket.once('close', () => this.stopRequestTimer());
  }

  /** The server is closing: an idle connection closes now, a busy one after its current answer. */
  closeWhenIdle(): void {
    this.closing = true;
    if (!this.answering && !this.finished && this.unread === undefined) this.close();
  }

  private serve(): void {
    if (this.socket.destroyed) return;
    while (!this.answering && !this.finished && this.unread !== undefined) {
      // A client that sends requests without reading the answers: read on once they have drained.
      if (this.socket.writableNeedDrain) {
        this.socket.pause();
        return;
      }
      const buffer = this.unread;
      const shape = recognizeRequest(buffer, 0, this.deps.commands.limits.maxValueBytes);
      if (shape === 'other') {
        this.handOff('shape');
        return;
      }
      if (shape.kind === 'request' && this.deps.token?.check(shape.authorization) !== undefined) {
        this.handOff('unauthorized');
        return;
      }
      if (shape.kind === 'partial-head') {
        this.awaitRest(this.deps.headersTimeoutMs);
        break;
      }
      if (shape.kind === 'partial-body') {
        this.awaitedEnd = shape.end;
        this.awaitRest(this.deps.requestTimeoutMs);
        break;
      }
      this.awaitedEnd = 0;
      this.stopRequestTimer();
      this.unread = shape.end < buffer.length ? buffer.subarray(shape.end) : undefined;
      this.answer(shape, buffer);
    }
    if (this.inputEnded && !this.answering && !this.finished) {
      // The client sent all it will: what is left is a request it never finished.
      this.close();
    } else if (this.closing && !this.answering && !this.finished && this.unread === undefined) {
      this.close();
    }
  }

  private answer(shape: FastRequest, buffer: Buffer): void {
    const hasBody = shape.end > shape.bodyStart;
    const request: RpcRequest = {
      method: shape.method,
      search: shape.search,
      accept: shape.accept,
      hasBody,
      chunked: false,
      // A copy: the socket's chunk may hold other requests, and the value outlives this turn in the producer.
      body: () => Buffer.from(buffer.subarray(shape.bodyStart, shape.end)),
      bodyUnread: () => false,
    };
    let answer: HttpAnswer | Promise<HttpAnswer>;
    try {
      answer = answerRpc(request, this.deps.commands);
    } catch (error) {
      answer = this.unexpected(error);
    }
    if (!(answer instanceof Promise)) {
      this.write(shape, answer);
      return;
    }
    this.answering = true;
    this.deps.inFlight.started();
    answer.then(
      (settled) => this.answered(shape, settled),
      (error: unknown) => this.answered(shape, this.unexpected(error)),
    );
  }

  private answered(shape: FastRequest, answer: HttpAnswer): void {
    this.answering = false;
    this.deps.inFlight.finished();
    if (this.socket.destroyed) return;
    this.write(shape, answer);
    if (this.finished) return;
    if (this.socket.isPaused()) this.socket.resume();
    this.serve();
  }

  private write(shape: FastRequest, answer: HttpAnswer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const closes = shape.close || this.closing || answerCloses(answer);
    holdUntilTurnEnd(this.socket);
    for (const chunk of answerBytes(answer, shape.method === 'HEAD', closes, this.keepAliveSeconds)) this.socket.write(chunk);
    if (closes) this.close();
  }

  private unexpected(error: unknown): HttpAnswer {
    this.deps.logger.error({ err: error }, 'unexpected error on /rpc');
    return errorAnswer(asBitacoraError(error));
  }

  /** Ends the connection after what was written (the client's FIN is awaited, boundedly). */
  private close(): void {
    this.release();
    closeAfterWrites(this.socket);
  }

  private handOff(reason: HandOffReason): void {
    const unread = this.unread;
    this.unread = undefined;
    this.release();
    // node:http listens for the socket's errors from here on.
    this.socket.off('error', this.onError);
    this.deps.handOff(this.socket, unread, reason);
  }

  /** Stops reading the socket: its listeners and timers go (but the error listener, until node:http has its own). */
  private release(): void {
    this.finished = true;
    this.stopRequestTimer();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('drain', this.onDrain);
    this.socket.off('timeout', this.onIdle);
    this.socket.setTimeout(0);
  }

  /** Waits for the rest of a request that has partly arrived, for `limitMs` from its first byte: then 408, and close. */
  private awaitRest(limitMs: number): void {
    if (this.requestTimer === undefined) this.requestStartedAt = Date.now();
    const deadline = this.requestStartedAt + limitMs;
    if (this.requestTimer !== undefined && deadline === this.requestDeadline) return;
    clearTimeout(this.requestTimer);
    this.requestDeadline = deadline;
    this.requestTimer = setTimeout(() => {
      this.requestTimer = undefined;
      if (this.finished || this.socket.destroyed) return;
      this.release();
      this.socket.write(REQUEST_TIMEOUT_ANSWER);
      closeAfterWrites(this.socket);
    }, Math.max(0, deadline - Date.now()));
  }

  private stopRequestTimer(): void {
    if (this.requestTimer === undefined) return;
    clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }
}
