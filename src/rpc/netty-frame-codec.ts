import { Transform, type TransformCallback } from 'node:stream';
import { holdUntilTurnEnd } from '../lifecycle/turn-end-writes';

/**
 * The framing of Avro's Java NettyTransceiver/NettyServer, which avsc's stateful channels also speak:
 *
 *   message := serial:int32 count:int32 frame{count}
 *   frame   := length:int32 bytes{length}
 *
 * (big-endian). Java splits one message into frames of up to 8 KiB, so a large value arrives as many frames.
 */
export interface NettyMessage {
  readonly id: number;
  readonly payload: Buffer[];
}

export interface FrameLimits {
  /** Largest message (all frames together) a peer may send; a larger one closes the connection. */
  readonly maxMessageBytes: number;
  /** Most frames in one message. */
  readonly maxFrames: number;
}

/** Raised when a peer's bytes break the framing or its limits; the connection is closed, nothing else. */
export class FramingError extends Error {
  override name = 'FramingError';
}

/**
 * Decodes Netty-framed messages, refusing what avsc's own decoder would trust: negative or absurd lengths and
 * frame counts (which would make it buffer without bound). Chunks are only joined when a message spans them.
 */
export class NettyFrameDecoder extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private id: number | undefined;
  private framesLeft = 0;
  private messageBytes = 0;
  private frames: Buffer[] = [];
  /** Messages decoded and not yet answered (see answered()). */
  private pending = 0;
  /** The callback of the chunk that filled the pending budget: the socket is read no further until it runs. */
  private held: TransformCallback | undefined;

  /**
   * `maxPending` caps messages decoded but not answered: past it, this stream stops taking chunks, so the
   * socket stops being read and TCP pushes back on a client that pipelines without waiting for answers.
   */
  constructor(
    private readonly limits: FrameLimits,
    private readonly maxPending = Number.POSITIVE_INFINITY,
  ) {
    super({ readableObjectMode: true });
  }

  /** True while part of a message has arrived and the rest has not. */
  get midMessage(): boolean {
    return this.id !== undefined || this.buffered.length > 0;
  }

  /** One decoded message was answered; reading resumes once the count is under `maxPending` again. */
  answered(): void {
    this.pending--;
    if (this.held && this.pending < this.maxPending) {
      const callback = this.held;
      this.held = undefined;
      callback();
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let buf = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let offset = 0;
    try {
      for (;;) {
        if (this.id === undefined) {
          if (buf.length - offset < 8) break;
          this.id = buf.readInt32BE(offset);
          this.framesLeft = buf.readInt32BE(offset + 4);
          offset += 8;
          if (this.framesLeft < 1 || this.framesLeft > this.limits.maxFrames) {
            throw new FramingError(`a message declares ${this.framesLeft} frames; 1 to ${this.limits.maxFrames} are accepted`);
          }
        }
        if (buf.length - offset < 4) break;
        const length = buf.readInt32BE(offset);
        if (length < 0 || this.messageBytes + length > this.limits.maxMessageBytes) {
          throw new FramingError(`a frame of ${length} bytes makes the message larger than ${this.limits.maxMessageBytes} bytes`);
        }
        if (buf.length - offset - 4 < length) break;
        this.frames.push(buf.subarray(offset + 4, offset + 4 + length));
        this.messageBytes += length;
        offset += 4 + length;
        if (--this.framesLeft === 0) {
          this.pending++;
          this.push({ id: this.id, payload: this.frames } satisfies NettyMessage);
          this.id = undefined;
          this.frames = [];
          this.messageBytes = 0;
        }
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    // Frames already pushed keep views into `buf`; only the unread tail is kept for the next chunk.
    this.buffered = offset === buf.length ? Buffer.alloc(0) : buf.subarray(offset);
    buf = Buffer.alloc(0);
    if (this.pending >= this.maxPending) this.held = callback;
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.id !== undefined || this.buffered.length > 0) callback(new FramingError('the connection ended in the middle of a message'));
    else callback();
  }
}

/**
 * Pipes `encoder` into `socket`, holding everything it produces within one event-loop turn for one write at the
 * turn's end (turn-end-writes.ts): with many calls pipelined on a connection, a write (a syscall) per response
 * would dominate the node's time.
 */
export function pipeCoalesced(encoder: NettyFrameEncoder, socket: import('node:net').Socket): void {
  // Registered before pipe()'s own listener, so the socket is corked before the first write of the turn.
  encoder.on('data', () => holdUntilTurnEnd(socket));
  encoder.pipe(socket);
}

/** Encodes messages with the same framing, each into one buffer so it leaves in one write. */
export class NettyFrameEncoder extends Transform {
  /** `onMessage` runs for every message encoded (the server counts answers with it). */
  constructor(private readonly onMessage?: () => void) {
    super({ writableObjectMode: true });
  }

  override _transform(message: NettyMessage, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onMessage?.();
    let size = 8;
    for (const frame of message.payload) size += 4 + frame.length;
    const out = Buffer.allocUnsafe(size);
    out.writeInt32BE(message.id, 0);
    out.writeInt32BE(message.payload.length, 4);
    let offset = 8;
    for (const frame of message.payload) {
      out.writeInt32BE(frame.length, offset);
      frame.copy(out, offset + 4);
      offset += 4 + frame.length;
    }
    callback(null, out);
  }
}
