/**
 * The one catalogue of error codes, for every surface: what a request answers over HTTP, Avro and RESP, what the
 * CLI exits with, whether a client may retry, and the errors of the TypeScript client, the local stack and the
 * configuration. Codes are stable: clients may branch on them, docs/api.md lists them with every column, and a
 * test checks that the two agree.
 */

/** The CLI's exit codes, one meaning each, whatever the command. */
export const EXIT_CODES = {
  /** Done. */
  ok: 0,
  /** A definite "no": the key is absent (get, mget), or a node differs from the topic (digest). */
  negative: 1,
  /** The command line, a variable or the request itself is wrong: change it. */
  usage: 2,
  /** The cluster could not be reached or could not serve now: try again later. */
  unavailable: 3,
  /** Kafka acknowledged a write this node did not apply in time: it is durable, but unconfirmed. */
  timeout: 4,
  /** Anything else: the message says what failed. */
  failed: 5,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/**
 * Whether a client may send the same command again after this error:
 * - `always`: the command was not carried out (refused before it ran);
 * - `idempotent`: it may have been carried out, so only a command that leaves the same result when run twice
 *   (a read, a plain set or delete; not an increment) may be retried;
 * - `never`: retrying it unchanged fails again, or cannot help.
 */
export type Retry = 'always' | 'idempotent' | 'never';

/** The Avro protocol's declared error a code travels in; `system` when it travels as a system error "CODE: message". */
export type AvroError = 'BadInput' | 'Unavailable' | 'Timeout' | 'system';

interface CodeSpec {
  /** The HTTP status; null for codes that never reach HTTP (the client's, the stack's, the configuration's). */
  readonly status: number | null;
  /** The declared Avro error; null when no Avro answer carries it (absence is a null value, routes are HTTP's). */
  readonly avro: AvroError | null;
  /** The first word of the RESP error line (`-LOADING ...`); null when RESP answers something else (absence: a nil). */
  readonly resp: string | null;
  readonly exit: ExitCode;
  readonly retry: Retry;
  readonly summary: string;
}

const request = (status: number, avro: AvroError | null, resp: string | null, exit: ExitCode, retry: Retry, summary: string): CodeSpec => ({
  status,
  avro,
  resp,
  exit,
  retry,
  summary,
});
const local = (exit: ExitCode, retry: Retry, summary: string): CodeSpec => ({ status: null, avro: null, resp: null, exit, retry, summary });
const { negative, usage, unavailable, timeout, failed } = EXIT_CODES;

export const ERROR_CODES = {
  // A request's errors: every front-end answers them.
  KEY_MISSING: request(400, 'BadInput', 'ERR', usage, 'never', 'the key is missing or empty'),
  KEY_INVALID: request(400, 'BadInput', 'ERR', usage, 'never', 'the key is not valid UTF-8 or was given more than once'),
  KEY_TOO_LARGE: request(413, 'BadInput', 'ERR', usage, 'never', 'the key is longer than MAX_KEY_BYTES'),
  TOO_MANY_KEYS: request(400, 'BadInput', 'ERR', usage, 'never', 'a multi-key command names more than 1,000 keys'),
  VALUE_MISSING: request(400, 'BadInput', 'ERR', usage, 'never', 'a write has neither a value query parameter nor a body'),
  VALUE_AMBIGUOUS: request(400, 'BadInput', 'ERR', usage, 'never', 'a write has both a value query parameter and a body, or the value twice'),
  VALUE_TOO_LARGE: request(413, 'BadInput', 'ERR', usage, 'never', 'the value is longer than MAX_VALUE_BYTES'),
  BAD_ENCODING: request(400, 'BadInput', 'ERR', usage, 'never', 'the query string has a malformed percent-encoding'),
  BAD_REQUEST: request(400, 'BadInput', 'ERR', usage, 'never', 'the request could not be read (cut off, or malformed)'),
  UNAUTHORIZED: request(401, 'system', 'NOAUTH', usage, 'never', 'AUTH_TOKEN is set on the node and the request did not present it (Authorization: Bearer <token>)'),
  NOT_FOUND: request(404, null, null, negative, 'never', 'the key is absent'),
  ROUTE_NOT_FOUND: request(404, null, 'ERR', usage, 'never', 'no such path'),
  METHOD_NOT_ALLOWED: request(405, null, 'ERR', usage, 'never', 'the path does not accept this method'),
  NOT_READY: request(503, 'Unavailable', 'LOADING', unavailable, 'always', 'a read missed while the node is still loading the topic or its apply path is failed, so absence is not known'),
  KAFKA_UNAVAILABLE: request(503, 'Unavailable', 'TRYAGAIN', unavailable, 'idempotent', 'Kafka did not accept the write within PRODUCE_TIMEOUT_MS'),
  SHUTTING_DOWN: request(503, 'Unavailable', 'TRYAGAIN', unavailable, 'always', 'the node is stopping and takes no new requests'),
  APPLY_TIMEOUT: request(504, 'Timeout', 'TIMEOUT', timeout, 'idempotent', 'Kafka acknowledged the write, but this node did not apply it within APPLY_TIMEOUT_MS'),
  INTERNAL: request(500, 'system', 'ERR', failed, 'never', 'an unexpected error; the log has the details'),

  // The TypeScript client's and the CLI's own.
  TRANSPORT: local(unavailable, 'idempotent', 'the connection to a node failed or the call timed out on it'),
  NO_NODE: local(unavailable, 'never', 'no node answered within the call\'s timeout, or none is known'),
  CLIENT_CLOSED: local(failed, 'never', 'the client was closed'),
  SERVER_ERROR: local(failed, 'never', 'a node answered a system error this client does not know'),
  CONFIG_INVALID: local(usage, 'never', 'a configuration variable cannot be used'),

  // The local Kafka/ZooKeeper stack's (src/stack/).
  JAVA_NOT_FOUND: local(failed, 'never', 'no Java runtime on the PATH or in JAVA_HOME'),
  MAVEN_NOT_FOUND: local(failed, 'never', 'no Maven to resolve the Kafka jars with'),
  KAFKA_RESOLVE_FAILED: local(failed, 'never', 'the Kafka jars could not be resolved'),
  PORT_IN_USE: local(failed, 'never', 'a port the stack needs is taken'),
  ALREADY_RUNNING: local(failed, 'never', 'a stack already runs in this folder'),
  PROCESS_EXITED: local(failed, 'never', 'a stack JVM exited while starting'),
  START_TIMEOUT: local(failed, 'never', 'a stack JVM did not become ready in time'),
  FORMAT_FAILED: local(failed, 'never', 'formatting the KRaft storage failed'),
  STORAGE_MISMATCH: local(failed, 'never', 'the stack folder holds storage of another cluster'),
  STOP_FAILED: local(failed, 'never', 'a stack JVM did not stop'),
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status of a code; 500 for codes that never reach HTTP. */
export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status ?? 500;
}

/** What a request came to, as a metric label: a closed set, so cardinality stays bounded. */
export type Outcome = 'ok' | 'not_found' | 'client_error' | 'unavailable' | 'timeout' | 'error';

/** The outcome label of an error code. */
export function outcomeOf(code: ErrorCode): Outcome {
  const status = statusOf(code);
  if (status === 404) return 'not_found';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  if (status < 500) return 'client_error';
  return 'error';
}

/** Whether a command that answered `code` may be sent again: see Retry. */
export function canRetry(code: ErrorCode, command: { readonly idempotent: boolean }): boolean {
  const retry = ERROR_CODES[code].retry;
  return retry === 'always' || (retry === 'idempotent' && command.idempotent);
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
