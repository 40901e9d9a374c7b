/**
 * The catalogue of error codes a client can see, each with its HTTP status. Codes are stable: clients may
 * branch on them, docs/api.md lists them, and a test checks that the two agree.
 */
export const ERROR_CODES = {
  KEY_MISSING: { status: 400, summary: 'the key query parameter is missing or empty' },
  KEY_INVALID: { status: 400, summary: 'the key is not valid UTF-8 or was given more than once' },
  KEY_TOO_LARGE: { status: 413, summary: 'the key is longer than MAX_KEY_BYTES' },
  TOO_MANY_KEYS: { status: 400, summary: 'a multi-key command names more than 1,000 keys' },
  VALUE_MISSING: { status: 400, summary: 'a write has neither a value query parameter nor a body' },
  VALUE_AMBIGUOUS: { status: 400, summary: 'a write has both a value query parameter and a body, or the value twice' },
  VALUE_TOO_LARGE: { status: 413, summary: 'the value is longer than MAX_VALUE_BYTES' },
  BAD_ENCODING: { status: 400, summary: 'the query string has a malformed percent-encoding' },
  BAD_REQUEST: { status: 400, summary: 'the request could not be read (cut off, or malformed)' },
  UNAUTHORIZED: { status: 401, summary: 'AUTH_TOKEN is set on the node and the request did not present it (Authorization: Bearer <token>)' },
  NOT_FOUND: { status: 404, summary: 'the key is absent' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'no such path' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'the path does not accept this method' },
  NOT_READY: { status: 503, summary: 'a read missed while the node is still loading the topic or its apply path is failed, so absence is not known' },
  KAFKA_UNAVAILABLE: { status: 503, summary: 'Kafka did not accept the write within PRODUCE_TIMEOUT_MS' },
  SHUTTING_DOWN: { status: 503, summary: 'the node is stopping and takes no new requests' },
  APPLY_TIMEOUT: { status: 504, summary: 'Kafka acknowledged the write, but this node did not apply it within APPLY_TIMEOUT_MS' },
  INTERNAL: { status: 500, summary: 'an unexpected error; the log has the details' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** What a request came to, as a metric label: a closed set, so cardinality stays bounded. */
export type Outcome = 'ok' | 'not_found' | 'client_error' | 'unavailable' | 'timeout' | 'error';

/** The outcome label of an error code. */
export function outcomeOf(code: ErrorCode): Outcome {
  const status = ERROR_CODES[code].status;
  if (status === 404) return 'not_found';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  if (status < 500) return 'client_error';
  return 'error';
}
