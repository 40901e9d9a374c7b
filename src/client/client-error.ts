import { BitacoraError } from '../errors/bitacora-error';
import { ERROR_CODES, type ErrorCode } from '../errors/error-codes';

/** How a call failed, from the client's point of view; derived from the code's entry in the catalogue. */
export type ClientErrorKind =
  /** The request is invalid (declared BadInput): retrying it unchanged will fail again. */
  | 'bad-input'
  /** The node could not serve it (declared Unavailable): another node or a later try may. */
  | 'unavailable'
  /** A write Kafka acknowledged but the node did not apply in time (declared Timeout): it is durable. */
  | 'timeout'
  /** No node answered within the call's timeout, or every node was unreachable. */
  | 'transport'
  /** Anything else the server reported (a system error). */
  | 'server';

const TRANSPORT_CODES: ReadonlySet<ErrorCode> = new Set(['TRANSPORT', 'NO_NODE', 'CLIENT_CLOSED']);

/** A failed call: a code of the catalogue (the server's, or the client's own), and a message that says what to do. */
export class BitacoraClientError extends BitacoraError {
  override name = 'BitacoraClientError';

  get kind(): ClientErrorKind {
    if (TRANSPORT_CODES.has(this.code)) return 'transport';
    const avro = ERROR_CODES[this.code].avro;
    return avro === 'BadInput' ? 'bad-input' : avro === 'Unavailable' ? 'unavailable' : avro === 'Timeout' ? 'timeout' : 'server';
  }
}
