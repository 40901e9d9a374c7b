import avro from 'avsc';
import type { AccessToken } from '../access/access-token';

/**
 * AUTH_TOKEN on the Avro socket RPC travels in the handshake, as Avro intends for such things: the
 * HandshakeRequest's `meta` map carries it under AUTH_META_KEY. The server checks the first message of each
 * connection (a stateful channel handshakes before anything else) and, when the token is missing or wrong,
 * answers a NONE handshake whose meta holds the reason under ERROR_META_KEY, plus a system error, then closes the
 * connection. Java clients set the meta from an RPCPlugin's clientStartConnect.
 */
export const AUTH_META_KEY = 'authorization';
export const ERROR_META_KEY = 'error';

// avsc's own handshake types (the Avro specification's org.apache.avro.ipc records), so what is checked and
// rewritten here is read and written exactly as avsc's channels do. avsc exports them from lib/services only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { HANDSHAKE_REQUEST_TYPE: HANDSHAKE_REQUEST, HANDSHAKE_RESPONSE_TYPE: HANDSHAKE_RESPONSE } = require('avsc/lib/services') as {
  HANDSHAKE_REQUEST_TYPE: avro.Type;
  HANDSHAKE_RESPONSE_TYPE: avro.Type;
};
const STRING = avro.Type.forSchema('string');

interface HandshakeRequest {
  clientHash: Buffer;
  clientProtocol: string | null;
  serverHash: Buffer;
  meta: Record<string, Buffer> | null;
}

/** Why the first message of a connection was refused; undefined when it carried the token. */
export function checkHandshake(message: Buffer, token: AccessToken): string | undefined {
  const decoded = HANDSHAKE_REQUEST.decode(message, 0) as { value: HandshakeRequest | undefined; offset: number };
  if (decoded.offset < 0 || !decoded.value) return 'the connection did not start with an Avro handshake';
  const refusal = token.check(decoded.value.meta?.[AUTH_META_KEY]);
  if (refusal === 'missing') return `this node requires AUTH_TOKEN: send it in the handshake meta under "${AUTH_META_KEY}"`;
  if (refusal === 'mismatch') return `the token in the handshake meta "${AUTH_META_KEY}" does not match this node's AUTH_TOKEN`;
  return undefined;
}

/** The answer to a refused handshake: NONE, the reason in meta, and a system error "UNAUTHORIZED: reason". */
export function unauthorizedAnswer(reason: string): Buffer[] {
  const handshake = HANDSHAKE_RESPONSE.toBuffer({ match: 'NONE', serverProtocol: null, serverHash: null, meta: { [ERROR_META_KEY]: Buffer.from(reason, 'utf8') } });
  // Call response: empty metadata map, error flag true, the errors union's first branch (string), the text.
  const error = Buffer.concat([Buffer.from([0x00, 0x01, 0x00]), STRING.toBuffer(`UNAUTHORIZED: ${reason}`)]);
  return [handshake, error];
}

/**
 * Adds the token to a client's outgoing handshake. `payload[0]` of a message avsc sends while it is still
 * handshaking is exactly the encoded HandshakeRequest; it is decoded, given meta, and re-encoded.
 */
export function addTokenToHandshake(payload: Buffer[], token: string): Buffer[] {
  const [head, ...rest] = payload;
  if (!head) return payload;
  const decoded = HANDSHAKE_REQUEST.decode(head, 0) as { value: HandshakeRequest | undefined; offset: number };
  if (decoded.offset !== head.length || !decoded.value) return payload;
  const request = decoded.value;
  request.meta = { ...request.meta, [AUTH_META_KEY]: Buffer.from(token, 'utf8') };
  return [HANDSHAKE_REQUEST.toBuffer(request), ...rest];
}

/** The refusal reason a server put in a handshake response's meta, if any. */
export function refusalIn(meta: Record<string, Buffer> | null | undefined): string | undefined {
  const reason = meta?.[ERROR_META_KEY];
  return reason ? reason.toString('utf8') : undefined;
}
