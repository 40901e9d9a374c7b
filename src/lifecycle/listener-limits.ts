/** The limits a socket front-end (Avro, RESP) is given from the node's configuration. */
export interface ListenerLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /** MAX_CONNECTIONS; unlimited when omitted. */
  readonly maxConnections?: number;
  /** MAX_INFLIGHT_PER_CONNECTION: requests one connection may have unanswered before it is read no further; unlimited when omitted. */
  readonly maxInFlightPerConnection?: number;
}
