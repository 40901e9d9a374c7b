import type net from 'node:net';
import type { InFlightRequests } from '../lifecycle/in-flight-requests';
import { closeAfterWrites } from '../lifecycle/close-after-writes';
import { holdUntilTurnEnd } from '../lifecycle/turn-end-writes';
import type { CommandSpec, ServerState, Session } from './command-spec';
import { findCommand } from './command-table';
import { error, type Reply } from './reply';
import { encodeReply, joinChunks, type ProtocolVersion } from './reply-encoder';
import { errorReply, redisErrors } from './resp-errors';
import { type ParsedRequest, RequestParser, type RequestLimits } from './request-parser';

/** A reply's place in the connection's order; written once it and every earlier one are settled. */
interface Slot {
  reply: Reply | undefined;
  closeAfter: boolean;
  /** The protocol when the reply settled: HELLO 3's own reply is RESP3. */
  protocol?: ProtocolVersion;
}

/** What a connection needs from its server. */
export interface ConnectionDeps {
  readonly server: ServerState;
  readonly limits: RequestLimits;
  /** MAX_INFLIGHT_PER_CONNECTION: unanswered requests before the connection is read no further. */
  readonly maxInFlight: number;
  readonly inFlight: InFlightRequests;
}

/**
 * One client connection: requests are parsed as they stream in and run in order, replies written in order and held
 * until the event loop's turn ends (turn-end-writes.ts). Ordering: a command starts once every earlier command on
 * the connection has finished, except that consecutive SETs and MSETs run together (the producer keeps their order
 * in Kafka), so a pipelined SET then GET reads the value set, and a DEL after a SET counts the key. Past
 * `maxInFlight` unanswered requests, or while the socket's buffer is full, the socket is paused, so a client that
 * pipelines without reading cannot grow the node's memory.
 */
export class RespConnection {
  private readonly parser: RequestParser;
  private readonly slots: Slot[] = [];
  private running = 0;
  /** Running commands that are not `concurrent` writes: while one runs, nothing else starts. */
  private runningOthers = 0;
  /** A request taken from the parser that must wait for earlier ones. */
  private waiting: Extract<ParsedRequest, { kind: 'command' }> | undefined;
  /** No more requests are read: after QUIT or a protocol error. */
  private ended = false;
  /** The client half-closed: once every reply is written, so do we. */
  private inputEnded = false;

  constructor(
    private readonly socket: net.Socket,
    readonly session: Session,
    private readonly deps: ConnectionDeps,
  ) {
    this.parser = new RequestParser(deps.limits);
    socket.on('data', (chunk: Buffer) => {
      if (this.ended) return;
      this.parser.push(chunk);
      this.pump();
    });
    socket.on('drain', () => this.pump());
    // The client sent all it will (redis-cli --pipe, nc): answer what it sent, then close our side.
    socket.on('end', () => {
      this.inputEnded = true;
      this.pump();
    });
  }

  /** True while a request is partly received (the idle timeout closes only such connections). */
  get midRequest(): boolean {
    return this.parser.midRequest;
  }

  /** Takes and starts requests until none is complete, one must wait, or the connection is at its cap. */
  private pump(): void {
    if (this.socket.destroyed) return;
    holdUntilTurnEnd(this.socket);
    let blocked = false;
    let exhausted = false;
    while (!this.ended) {
      // Answered requests leave the count as soon as they are written.
      if (this.slots.length >= this.deps.maxInFlight) this.flush();
      if (this.slots.length >= this.deps.maxInFlight || this.socket.writableNeedDrain) {
        blocked = true;
        break;
      }
      const request = this.waiting ?? this.parser.next();
      if (request === undefined) {
        exhausted = true;
        break;
      }
      if (request.kind === 'protocol-error') {
        this.ended = true;
        this.slots.push({ reply: error(`ERR Protocol error: ${request.message}`), closeAfter: true });
        break;
      }
      if (request.kind === 'refused') {
        this.slots.push({ reply: error(request.message), closeAfter: false });
        continue;
      }
      const spec = findCommand(request.args[0]!);
      const concurrent = spec?.concurrent === true;
      if (this.running > 0 && (!concurrent || this.runningOthers > 0)) {
        this.waiting = request;
        blocked = true;
        break;
      }
      this.waiting = undefined;
      this.run(spec, request.args);
    }
    this.flush();
    if (this.inputEnded && exhausted && this.slots.length === 0 && this.running === 0) {
      if (!this.socket.writableEnded) this.socket.end();
      return;
    }
    if (blocked || this.ended) this.socket.pause();
    else this.socket.resume();
  }

  private run(spec: CommandSpec | undefined, args: Buffer[]): void {
    const session = this.session;
    const server = this.deps.server;
    const slot: Slot = { reply: undefined, closeAfter: false };
    this.slots.push(slot);
    server.stats.commands++;
    const name = args[0]!;
    session.lastCommand = spec?.name ?? 'unknown';
    const refusal =
      spec === undefined
        ? redisErrors.unknownCommand(name, args.slice(1))
        : !session.authenticated && !spec.flags.includes('noauth')
          ? redisErrors.noAuth()
          : (spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity)
            ? redisErrors.wrongArity(spec.name)
            : undefined;
    if (refusal || spec === undefined) {
      slot.reply = refusal;
      return;
    }
    const settle = (reply: Reply): void => {
      slot.reply = reply;
      slot.protocol = session.protocol;
      slot.closeAfter = session.closeAfterReply;
      if (slot.closeAfter) this.ended = true;
    };
    let result: Reply | Promise<Reply>;
    try {
      result = spec.run({ args: args.slice(1), session, server });
    } catch (thrown) {
      settle(errorReply(thrown));
      return;
    }
    if (!(result instanceof Promise)) {
      settle(result);
      return;
    }
    const concurrent = spec.concurrent === true;
    this.running++;
    if (!concurrent) this.runningOthers++;
    this.deps.inFlight.started();
    const finished = (): void => {
      this.running--;
      if (!concurrent) this.runningOthers--;
      this.deps.inFlight.finished();
      holdUntilTurnEnd(this.socket);
      this.pump();
    };
    // One reaction for both outcomes rather than then().finally(): finally costs two more promises per command.
    result.then(
      (reply) => {
        settle(reply);
        finished();
      },
      (thrown: unknown) => {
        settle(errorReply(thrown));
        finished();
      },
    );
  }

  /** Writes the settled replies at the head of the order, joined into as few buffers as they allow. */
  private flush(): void {
    let chunks: Array<string | Buffer> | undefined;
    while (this.slots.length > 0 && this.slots[0]!.reply !== undefined) {
      const slot = this.slots.shift()!;
      if (this.socket.destroyed || this.socket.writableEnded) continue;
      chunks = encodeReply(slot.reply!, slot.protocol ?? this.session.protocol, chunks);
      if (slot.closeAfter) {
        this.slots.length = 0;
        this.write(chunks);
        closeAfterWrites(this.socket);
        return;
      }
    }
    if (chunks) this.write(chunks);
  }

  private write(chunks: ReadonlyArray<string | Buffer>): void {
    for (const buffer of joinChunks(chunks)) this.socket.write(buffer);
  }
}
