import os from 'node:os';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../logging/logger';
import { ConfigError } from './config-error';
import { type Environment, readBoolean, readOptionalString, readSecret, readChoice, readHostPortList, readInteger, readOptionalInteger, readPort, readString } from './env-parsers';

/**
 * How the node watches its own apply path (LogConsumer's ApplyOptions, which it satisfies), and the test-only hook
 * that breaks it (src/log/apply-test-hooks.ts). Stated here, since config/ imports nothing from log/, which imports
 * config/ (test/unit/import-graph.test.ts).
 */
export interface ApplyOptions {
  readonly lagCheckIntervalMs: number;
  readonly stallTimeoutMs: number;
  readonly restarts: number;
  readonly refuseKeyHook?: { readonly key: string; readonly times: number };
}

/** When a miss asks the peers (FANOUT): `auto` only while this node is behind on the key's partition. */
export const FANOUT_MODES = ['auto', 'always', 'never'] as const;
export type FanOutMode = (typeof FANOUT_MODES)[number];

/** Everything a node needs, validated and frozen. Built only from environment variables (see docs/configuration.md). */
export interface NodeConfig {
  readonly nodeName: string;
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly topic: string;
    readonly partitions: number;
    /** Undefined means min(3, live brokers), decided when the topic is created. */
    readonly replicationFactor: number | undefined;
    readonly connectTimeoutMs: number;
    readonly sessionTimeoutMs: number;
    readonly produceTimeoutMs: number;
    /** TLS and SASL settings passed to kafkajs as they are. */
    readonly security: KafkaSecurity;
  };
  readonly zookeeper: {
    readonly connectString: string;
    readonly root: string;
    readonly sessionTimeoutMs: number;
    readonly connectTimeoutMs: number;
    /** ZK_AUTH "user:password" for ZooKeeper digest authentication; undefined for none. */
    readonly digestAuth: string | undefined;
  };
  readonly http: { readonly host: string; readonly port: number };
  /** AUTH_TOKEN: the shared secret clients and peers must present; undefined leaves the node open. */
  readonly authToken: string | undefined;
  /** METRICS_AUTH: whether /metrics needs the token too (`token`) or is open to scrapers (`open`). */
  readonly metricsAuth: MetricsAuth;
  /** The host peers and clients use to reach this node (in its ZooKeeper registration). */
  readonly advertisedHost: string;
  readonly fanOut: { readonly mode: FanOutMode; readonly timeoutMs: number };
  readonly avro: { readonly port: number };
  /** The Redis protocol (docs/resp.md): RESP_PORT (undefined when `off`) and RESP_PROTECTED_MODE. */
  readonly resp: { readonly port: number | undefined; readonly protectedMode: boolean };
  readonly limits: {
    readonly maxKeyBytes: number;
    readonly maxValueBytes: number;
    /** MAX_CONNECTIONS: open connections each listener (HTTP, Avro) accepts; more are closed at once. */
    readonly maxConnections: number;
    /** MAX_INFLIGHT_PER_CONNECTION: pipelined Avro calls one connection may have unanswered before it is read no further. */
    readonly maxInFlightPerConnection: number;
  };
  /** STORE_MAX_BYTES: bytes the map may hold; undefined means 75 % of the machine's (or container's) memory. */
  readonly storeMaxBytes: number | undefined;
  readonly applyTimeoutMs: number;
  /** How the node watches its own apply path (see LogConsumer), and the test-only hook that breaks it. */
  readonly apply: ApplyOptions;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** LOG_FORMAT: json lines, pretty lines, or auto (pretty on a terminal). */
  readonly logFormat: LogFormat;
}

export const METRICS_AUTH_MODES = ['token', 'open'] as const;
export type MetricsAuth = (typeof METRICS_AUTH_MODES)[number];

export const SASL_MECHANISMS = ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = Exclude<(typeof SASL_MECHANISMS)[number], 'none'>;

/** How a node talks to Kafka beyond plain TCP: TLS (with optional files) and SASL credentials. */
export interface KafkaSecurity {
  readonly ssl:
    | false
    | { readonly caFile: string | undefined; readonly certFile: string | undefined; readonly keyFile: string | undefined; readonly rejectUnauthorized: boolean };
  readonly sasl: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string } | undefined;
}

/** Shortest AUTH_TOKEN accepted: a guessable secret is no protection on a shared network. */
export const MIN_AUTH_TOKEN_LENGTH = 16;

/** Defaults that other tools (the digest replay) must share with nodes. */
export const NODE_CONFIG_DEFAULTS = Object.freeze({ maxKeyBytes: 1024, maxValueBytes: 1_000_000 });

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const NODE_NAME = /^[A-Za-z0-9._-]{1,128}$/;
const MIB = 1024 * 1024;

/** Reads and validates the node's variables; a bad one throws ConfigError naming it. */
export function loadNodeConfig(env: Environment): NodeConfig {
  const topic = readString(env, 'KAFKA_TOPIC', 'bitacora');
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new ConfigError('KAFKA_TOPIC', `KAFKA_TOPIC must be 1-249 characters of letters, digits, '.', '_' or '-', got "${topic}"`);
  }
  const nodeName = readString(env, 'NODENAME', os.hostname());
  if (!NODE_NAME.test(nodeName)) {
    throw new ConfigError('NODENAME', `NODENAME must be 1-128 characters of letters, digits, '.', '_' or '-', got "${nodeName}"`);
  }
  const zkRoot = readString(env, 'ZK_ROOT', `/bitacora/${topic}`);
  if (!/^(\/[^/\s]+)+$/.test(zkRoot)) {
    throw new ConfigError('ZK_ROOT', `ZK_ROOT must be an absolute ZooKeeper path such as /bitacora/${topic}, got "${zkRoot}"`);
  }
  const config: NodeConfig = {
    nodeName,
    kafka: {
      brokers: readHostPortList(env, 'BROKER_LIST', 'localhost:9092'),
      topic,
      partitions: readInteger(env, 'KAFKA_TOPIC_PARTITIONS', 3, { min: 1, max: 10_000 }),
      replicationFactor: readOptionalInteger(env, 'KAFKA_REPLICATION_FACTOR', { min: 1, max: 100 }),
      connectTimeoutMs: readInteger(env, 'KAFKA_CONNECT_TIMEOUT_MS', 30_000, { min: 1_000, max: 600_000 }),
      sessionTimeoutMs: readInteger(env, 'KAFKA_SESSION_TIMEOUT_MS', 10_000, { min: 6_000, max: 300_000 }),
      produceTimeoutMs: readInteger(env, 'PRODUCE_TIMEOUT_MS', 5_000, { min: 100, max: 300_000 }),
      security: readKafkaSecurity(env),
    },
    zookeeper: {
      connectString: readHostPortList(env, 'ZOOKEEPER_HOST', 'localhost:2181', ['ZOOKEEPER_HOSTS']).join(','),
      root: zkRoot,
      sessionTimeoutMs: readInteger(env, 'ZK_SESSION_TIMEOUT_MS', 10_000, { min: 4_000, max: 40_000 }),
      connectTimeoutMs: readInteger(env, 'ZK_CONNECT_TIMEOUT_MS', 5_000, { min: 500, max: 120_000 }),
      digestAuth: readZooKeeperAuth(env),
    },
    authToken: readAuthToken(env),
    metricsAuth: readChoice(env, 'METRICS_AUTH', METRICS_AUTH_MODES, 'token'),
    http: { host: readString(env, 'BIND_HOST', '0.0.0.0'), port: readPort(env, 'API_PORT', 8080) },
    avro: { port: readPort(env, 'AVRO_PORT', 7080) },
    resp: { port: readRespPort(env), protectedMode: readBoolean(env, 'RESP_PROTECTED_MODE', true) },
    advertisedHost: readAdvertisedHost(env),
    fanOut: {
      mode: readChoice(env, 'FANOUT', FANOUT_MODES, 'auto'),
      timeoutMs: readInteger(env, 'FANOUT_TIMEOUT_MS', 500, { min: 1, max: 60_000 }),
    },
    limits: {
      maxKeyBytes: readInteger(env, 'MAX_KEY_BYTES', NODE_CONFIG_DEFAULTS.maxKeyBytes, { min: 1, max: MIB }),
      maxValueBytes: readInteger(env, 'MAX_VALUE_BYTES', NODE_CONFIG_DEFAULTS.maxValueBytes, { min: 0, max: 64 * MIB }),
      maxConnections: readInteger(env, 'MAX_CONNECTIONS', 10_000, { min: 1, max: 1_000_000 }),
      maxInFlightPerConnection: readInteger(env, 'MAX_INFLIGHT_PER_CONNECTION', 1_024, { min: 1, max: 1_000_000 }),
    },
    storeMaxBytes: readOptionalInteger(env, 'STORE_MAX_BYTES', { min: 16 * MIB, max: Number.MAX_SAFE_INTEGER }),
    applyTimeoutMs: readInteger(env, 'APPLY_TIMEOUT_MS', 5_000, { min: 100, max: 300_000 }),
    apply: readApplyOptions(env),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, { min: 1_000, max: 600_000 }),
    logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: readChoice(env, 'LOG_FORMAT', LOG_FORMATS, 'auto'),
  };
  return deepFreeze(config);
}

function readApplyOptions(env: Environment): ApplyOptions {
  const refuseKey = readOptionalString(env, 'TEST_HOOK_REFUSE_KEY');
  const refuseTimes = readInteger(env, 'TEST_HOOK_REFUSE_TIMES', 0, { min: 0, max: 1_000_000 });
  return {
    lagCheckIntervalMs: readInteger(env, 'LAG_CHECK_INTERVAL_MS', 2_000, { min: 100, max: 600_000 }),
    stallTimeoutMs: readInteger(env, 'APPLY_STALL_TIMEOUT_MS', 30_000, { min: 1_000, max: 3_600_000 }),
    restarts: readInteger(env, 'APPLY_RESTARTS', 3, { min: 0, max: 1_000 }),
    ...(refuseKey !== undefined ? { refuseKeyHook: { key: refuseKey, times: refuseTimes } } : {}),
  };
}

/** RESP_PORT: a port (0 lets the OS pick), or `off` for no Redis protocol. */
function readRespPort(env: Environment): number | undefined {
  return readOptionalString(env, 'RESP_PORT')?.toLowerCase() === 'off' ? undefined : readPort(env, 'RESP_PORT', 6379);
}

function readAuthToken(env: Environment): string | undefined {
  const token = readOptionalString(env, 'AUTH_TOKEN');
  if (token === undefined) return undefined;
  if (token.length < MIN_AUTH_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError(
      'AUTH_TOKEN',
      `AUTH_TOKEN must be at least ${MIN_AUTH_TOKEN_LENGTH} printable ASCII characters without spaces (for example: openssl rand -hex 32), or unset to leave the node open`,
    );
  }
  return token;
}

function readZooKeeperAuth(env: Environment): string | undefined {
  const auth = readOptionalString(env, 'ZK_AUTH');
  if (auth === undefined) return undefined;
  const colon = auth.indexOf(':');
  if (colon < 1 || colon === auth.length - 1) {
    throw new ConfigError('ZK_AUTH', 'ZK_AUTH must be user:password (ZooKeeper digest authentication), or unset');
  }
  return auth;
}

function readKafkaSecurity(env: Environment): KafkaSecurity {
  const files = { caFile: readOptionalString(env, 'KAFKA_SSL_CA_FILE'), certFile: readOptionalString(env, 'KAFKA_SSL_CERT_FILE'), keyFile: readOptionalString(env, 'KAFKA_SSL_KEY_FILE') };
  const sslOn = readBoolean(env, 'KAFKA_SSL', false);
  if (!sslOn) {
    const stray = Object.entries({ KAFKA_SSL_CA_FILE: files.caFile, KAFKA_SSL_CERT_FILE: files.certFile, KAFKA_SSL_KEY_FILE: files.keyFile }).find(([, value]) => value);
    if (stray) throw new ConfigError(stray[0], `${stray[0]} is set but KAFKA_SSL is not true: set KAFKA_SSL=true to connect to Kafka over TLS, or unset ${stray[0]}`);
  }
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    const missing = files.certFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE';
    throw new ConfigError(missing, `KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its key): set ${missing} too`);
  }
  const ssl = sslOn ? { ...files, rejectUnauthorized: readBoolean(env, 'KAFKA_SSL_REJECT_UNAUTHORIZED', true) } : (false as const);
  const mechanism = readChoice(env, 'KAFKA_SASL_MECHANISM', SASL_MECHANISMS, 'none');
  if (mechanism === 'none') {
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
      if (readOptionalString(env, name)) throw new ConfigError(name, `${name} is set but KAFKA_SASL_MECHANISM is not: set KAFKA_SASL_MECHANISM to plain, scram-sha-256 or scram-sha-512`);
    }
    return { ssl, sasl: undefined };
  }
  const username = readOptionalString(env, 'KAFKA_SASL_USERNAME');
  const password = readSecret(env, 'KAFKA_SASL_PASSWORD');
  if (!username) throw new ConfigError('KAFKA_SASL_USERNAME', `KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME`);
  if (!password) throw new ConfigError('KAFKA_SASL_PASSWORD', `KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_PASSWORD`);
  return { ssl, sasl: { mechanism, username, password } };
}

function readAdvertisedHost(env: Environment): string {
  const host = readString(env, 'ADVERTISED_HOST', os.hostname());
  if (!/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])$/.test(host)) {
    throw new ConfigError('ADVERTISED_HOST', `ADVERTISED_HOST must be a host name or IP address that peers can reach, got "${host}"`);
  }
  return host;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
