import type { Reply } from './reply';

/** The protocol a connection speaks: RESP2 until HELLO 3. */
export type ProtocolVersion = 2 | 3;

const CRLF = '\r\n';

/**
 * Encodes a reply for RESP2 or RESP3 as the chunks to write: strings for the framing and short text, buffers
 * for binary values, so a value is never copied to build a reply.
 */
export function encodeReply(reply: Reply, protocol: ProtocolVersion, out: Array<string | Buffer> = []): Array<string | Buffer> {
  switch (reply.type) {
    case 'simple':
      out.push(`+${oneLine(reply.text)}${CRLF}`);
      break;
    case 'error':
      out.push(`-${oneLine(reply.line)}${CRLF}`);
      break;
    case 'integer':
      out.push(`:${reply.value}${CRLF}`);
      break;
    case 'bulk':
      if (typeof reply.value === 'string') out.push(`$${Buffer.byteLength(reply.value)}${CRLF}${reply.value}${CRLF}`);
      else out.push(`$${reply.value.length}${CRLF}`, reply.value, CRLF);
      break;
    case 'null':
      out.push(protocol === 3 ? `_${CRLF}` : reply.shape === 'bulk' ? `$-1${CRLF}` : `*-1${CRLF}`);
      break;
    case 'array':
    case 'set':
      out.push(`${reply.type === 'set' && protocol === 3 ? '~' : '*'}${reply.items.length}${CRLF}`);
      for (const item of reply.items) encodeReply(item, protocol, out);
      break;
    case 'map':
      out.push(protocol === 3 ? `%${reply.entries.length}${CRLF}` : `*${reply.entries.length * 2}${CRLF}`);
      for (const [key, value] of reply.entries) {
        encodeReply(key, protocol, out);
        encodeReply(value, protocol, out);
      }
      break;
    case 'verbatim': {
      if (protocol === 2) return encodeReply({ type: 'bulk', value: reply.text }, protocol, out);
      const body = `${reply.format.padEnd(3, ' ').slice(0, 3)}:${reply.text}`;
      out.push(`=${Buffer.byteLength(body)}${CRLF}${body}${CRLF}`);
      break;
    }
  }
  return out;
}

/** Simple strings and errors cannot carry CR or LF; a message that has them is flattened to one line. */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, ' ') : text;
}

/** A value at least this long is written as it is, not copied into the batch around it. */
const JOIN_LIMIT = 16 * 1024;
/** Framing strings and values up to this long are copied by a loop: a native call (Buffer#write, #copy) costs more. */
const LOOP_LIMIT = 64;

/** A short string's length when it is all ASCII (its UTF-8 length, then), else -1. */
function asciiLength(text: string): number {
  const length = text.length;
  if (length > LOOP_LIMIT) return -1;
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) >= 0x80) return -1;
  return length;
}

/**
 * The chunks of a turn's replies as few buffers as possible: one, unless a long value is among them (passed on
 * without a copy). A socket write per chunk costs a pass through the stream's machinery each; three per GET reply
 * were 20 % of a node's time on pipelined GETs (issue #17's profile). The framing (`$100\r\n`, CRLF) is copied
 * byte by byte: Buffer.byteLength and Buffer#write per string were half of this function's time.
 */
export function joinChunks(chunks: ReadonlyArray<string | Buffer>): Buffer[] {
  const joined: Buffer[] = [];
  let start = 0;
  while (start < chunks.length) {
    let end = start;
    let bytes = 0;
    for (; end < chunks.length; end++) {
      const chunk = chunks[end]!;
      if (typeof chunk !== 'string') {
        if (chunk.length >= JOIN_LIMIT) break;
        bytes += chunk.length;
      } else {
        const ascii = asciiLength(chunk);
        bytes += ascii >= 0 ? ascii : Buffer.byteLength(chunk);
      }
    }
    if (end > start) {
      const out = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (let i = start; i < end; i++) {
        const chunk = chunks[i]!;
        if (typeof chunk === 'string') {
          const ascii = asciiLength(chunk);
          if (ascii < 0) at += out.write(chunk, at);
          else for (let k = 0; k < ascii; k++) out[at++] = chunk.charCodeAt(k);
        } else if (chunk.length <= LOOP_LIMIT) {
          for (let k = 0; k < chunk.length; k++) out[at++] = chunk[k]!;
        } else {
          out.set(chunk, at);
          at += chunk.length;
        }
      }
      joined.push(out);
    }
    if (end < chunks.length) joined.push(chunks[end] as Buffer);
    start = end + 1;
  }
  return joined;
}
