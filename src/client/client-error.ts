/** How a call failed, from the client's point of view. */
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

/** A failed call: its kind, the server's stable code when it sent one, and a message that says what to do. */
export class BitacoraClientError extends Error {
  override name = 'BitacoraClientError';
  constructor(
    readonly kind: ClientErrorKind,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}
