import os from 'node:os';
import { FANOUT_MODES, type FanOutMode } from '../cluster/fan-out';
import { LOG_LEVELS, type LogLevel } from '../logging/logger';
import { ConfigError } from './config-error';
import { type Environment, readChoice, readHostPortList, readInteger, readOptionalInteger, readPort, readString } from './env-parsers';

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
  };
  readonly zookeeper: { readonly connectString: string; readonly root: string; readonly sessionTimeoutMs: number; readonly connectTimeoutMs: number };
  readonly http: { readonly host: string; readonly port: number };
  /** The host peers and clients use to reach this node (in its ZooKeeper registration). */
  readonly advertisedHost: string;
  readonly fanOut: { readonly mode: FanOutMode; readonly timeoutMs: number };
  readonly avro: { readonly port: number };
  readonly limits: { readonly maxKeyBytes: number; readonly maxValueBytes: number };
  readonly applyTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
}

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
    },
    zookeeper: {
      connectString: readHostPortList(env, 'ZOOKEEPER_HOST', 'localhost:2181', ['ZOOKEEPER_HOSTS']).join(','),
      root: zkRoot,
      sessionTimeoutMs: readInteger(env, 'ZK_SESSION_TIMEOUT_MS', 10_000, { min: 4_000, max: 40_000 }),
      connectTimeoutMs: readInteger(env, 'ZK_CONNECT_TIMEOUT_MS', 5_000, { min: 500, max: 120_000 }),
    },
    http: { host: readString(env, 'BIND_HOST', '0.0.0.0'), port: readPort(env, 'API_PORT', 8080) },
    avro: { port: readPort(env, 'AVRO_PORT', 7080) },
    advertisedHost: readAdvertisedHost(env),
    fanOut: {
      mode: readChoice(env, 'FANOUT', FANOUT_MODES, 'auto'),
      timeoutMs: readInteger(env, 'FANOUT_TIMEOUT_MS', 500, { min: 1, max: 60_000 }),
    },
    limits: {
      maxKeyBytes: readInteger(env, 'MAX_KEY_BYTES', 1024, { min: 1, max: MIB }),
      maxValueBytes: readInteger(env, 'MAX_VALUE_BYTES', 1_000_000, { min: 0, max: 64 * MIB }),
    },
    applyTimeoutMs: readInteger(env, 'APPLY_TIMEOUT_MS', 5_000, { min: 100, max: 300_000 }),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, { min: 1_000, max: 600_000 }),
    logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
  return deepFreeze(config);
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
