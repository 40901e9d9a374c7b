import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config-error';
import { DEFAULT_KAFKA_VERSION, isKafkaVersion, KAFKA_VERSIONS, type KafkaVersion } from './kafka-versions';
import { parseInteger, readChoice, readInteger, readOptionalString, readPort, readSecret, readString, type Environment } from './env-parsers';

/** Credentials of the one user the stack's SASL_PLAINTEXT listener accepts (PLAIN mechanism). */
export interface SaslPlainCredentials {
  readonly username: string;
  readonly password: string;
}

/** Settings of the local Kafka/ZooKeeper stack (`bitacora stack`, `npm start`, the tests). */
export interface StackConfig {
  /** ZK_PORT; 0 picks a free port. */
  readonly zkPort: number;
  /** KAFKA_PORT, the first broker's PLAINTEXT port (see brokerPorts); 0 picks free ports. */
  readonly kafkaPort: number;
  /** KAFKA_CONTROLLER_PORT, the first broker's KRaft controller port; 0 picks free ports. */
  readonly kafkaControllerPort: number;
  /** STACK_BROKERS or `--brokers`: how many Kafka brokers (each also a KRaft controller), 1 to MAX_STACK_BROKERS. */
  readonly brokers: number;
  /** STACK_SASL_PORT, the first broker's SASL_PLAINTEXT port; used only with saslPlain; 0 picks free ports. */
  readonly saslPort: number;
  /** `--sasl-plain` with STACK_SASL_USERNAME and STACK_SASL_PASSWORD: adds a SASL_PLAINTEXT listener to every broker. */
  readonly saslPlain: SaslPlainCredentials | undefined;
  /** STACK_DIR, absolute: data, logs and stack.json. */
  readonly dir: string;
  /** STACK_CACHE_DIR, absolute: the downloaded Kafka jars, shared by every stack on the machine. */
  readonly cacheDir: string;
  /** STACK_START_TIMEOUT_MS: how long ZooKeeper and Kafka get to answer once started. */
  readonly startTimeoutMs: number;
  /** STACK_KAFKA_VERSION or `--kafka-version`: the Kafka release the brokers run (one of KAFKA_VERSIONS). */
  readonly kafkaVersion: KafkaVersion;
}

/** What the `stack up` flags override: `--brokers N` and `--sasl-plain`. */
export interface StackConfigOverrides {
  /** The raw `--brokers` value, validated here so the error names the flag. */
  readonly brokers?: string;
  readonly saslPlain?: boolean;
  /** The raw `--kafka-version` value. */
  readonly kafkaVersion?: string;
}

/** A quorum of more than 9 controllers is beyond what one machine's loopback stack is for. */
export const MAX_STACK_BROKERS = 9;

/**
 * Broker i (1-based) uses KAFKA_PORT + 3·(i−1), KAFKA_CONTROLLER_PORT + 3·(i−1) and STACK_SASL_PORT + 3·(i−1):
 * with the defaults each broker takes the next three consecutive ports (9092–9094, 9095–9097, ...).
 */
export const PORTS_PER_BROKER = 3;

/** A SASL user name that is safe as a JAAS option name (`user_<name>`) and in a properties file. */
export const SASL_USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const STACK_CONFIG_DEFAULTS = Object.freeze({
  zkPort: 2181,
  kafkaPort: 9092,
  kafkaControllerPort: 9093,
  brokers: 1,
  saslPort: 9094,
  dir: '.stack',
  startTimeoutMs: 90_000,
});

/** The ports of broker `nodeId` (1-based) given the first broker's; a 0 stays 0 (free ports are picked later). */
export function brokerPorts(
  first: { readonly kafkaPort: number; readonly kafkaControllerPort: number; readonly saslPort: number },
  nodeId: number,
): { port: number; controllerPort: number; saslPort: number } {
  const offset = PORTS_PER_BROKER * (nodeId - 1);
  const shift = (port: number): number => (port === 0 ? 0 : port + offset);
  return { port: shift(first.kafkaPort), controllerPort: shift(first.kafkaControllerPort), saslPort: shift(first.saslPort) };
}

/** Reads and validates the stack settings from `env` and the `stack up` flags; relative paths are resolved against `cwd`. */
export function loadStackConfig(env: Environment, cwd: string = process.cwd(), overrides: StackConfigOverrides = {}): StackConfig {
  const brokersFromEnv = readInteger(env, 'STACK_BROKERS', STACK_CONFIG_DEFAULTS.brokers, { min: 1, max: MAX_STACK_BROKERS });
  const config: StackConfig = {
    zkPort: readPort(env, 'ZK_PORT', STACK_CONFIG_DEFAULTS.zkPort),
    kafkaPort: readPort(env, 'KAFKA_PORT', STACK_CONFIG_DEFAULTS.kafkaPort),
    kafkaControllerPort: readPort(env, 'KAFKA_CONTROLLER_PORT', STACK_CONFIG_DEFAULTS.kafkaControllerPort),
    brokers: overrides.brokers === undefined ? brokersFromEnv : parseInteger('--brokers', overrides.brokers, { min: 1, max: MAX_STACK_BROKERS }),
    saslPort: readPort(env, 'STACK_SASL_PORT', STACK_CONFIG_DEFAULTS.saslPort),
    saslPlain: overrides.saslPlain ? readSaslCredentials(env) : undefined,
    dir: path.resolve(cwd, readString(env, 'STACK_DIR', STACK_CONFIG_DEFAULTS.dir)),
    cacheDir: path.resolve(cwd, readString(env, 'STACK_CACHE_DIR', defaultCacheDir(env))),
    startTimeoutMs: readInteger(env, 'STACK_START_TIMEOUT_MS', STACK_CONFIG_DEFAULTS.startTimeoutMs, { min: 1_000, max: 3_600_000 }),
    kafkaVersion:
      overrides.kafkaVersion === undefined
        ? readChoice(env, 'STACK_KAFKA_VERSION', KAFKA_VERSIONS, DEFAULT_KAFKA_VERSION)
        : parseKafkaVersion(overrides.kafkaVersion),
  };
  assertPortsFit(config);
  return Object.freeze(config);
}

function parseKafkaVersion(value: string): KafkaVersion {
  if (isKafkaVersion(value)) return value;
  throw new ConfigError('--kafka-version', `--kafka-version must be one of ${KAFKA_VERSIONS.join(', ')}, got "${value}"`);
}

/** The SASL user; both variables are required once `--sasl-plain` asks for the listener. */
function readSaslCredentials(env: Environment): SaslPlainCredentials {
  const username = readOptionalString(env, 'STACK_SASL_USERNAME');
  // Exactly as given, as a node reads KAFKA_SASL_PASSWORD, so the same value works on both sides.
  const password = readSecret(env, 'STACK_SASL_PASSWORD');
  if (!username) throw new ConfigError('STACK_SASL_USERNAME', '--sasl-plain needs STACK_SASL_USERNAME (and STACK_SASL_PASSWORD): the user the SASL listener accepts');
  if (!SASL_USERNAME_PATTERN.test(username)) {
    throw new ConfigError('STACK_SASL_USERNAME', 'STACK_SASL_USERNAME must be 1 to 64 letters, digits, ".", "_" or "-"');
  }
  if (!password) throw new ConfigError('STACK_SASL_PASSWORD', '--sasl-plain needs STACK_SASL_PASSWORD (and STACK_SASL_USERNAME): the password of that user');
  // A control character would end the quoted JAAS value early; the value itself is never echoed.
  if (/[\u0000-\u001f\u007f]/.test(password)) throw new ConfigError('STACK_SASL_PASSWORD', 'STACK_SASL_PASSWORD must not contain control characters');
  return Object.freeze({ username, password });
}

/** $XDG_CACHE_HOME/bitacora, else ~/.cache/bitacora; XDG says a relative XDG_CACHE_HOME is to be ignored. */
function defaultCacheDir(env: Environment): string {
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'bitacora');
  const home = env.HOME?.trim() || os.homedir();
  return path.join(home, '.cache', 'bitacora');
}

/** Every port of every broker must exist and differ from every other; port 0 (pick free ones) never collides. */
function assertPortsFit(config: StackConfig): void {
  const used: { variable: string; port: number; owner: string }[] = [{ variable: 'ZK_PORT', port: config.zkPort, owner: 'ZooKeeper' }];
  for (let nodeId = 1; nodeId <= config.brokers; nodeId++) {
    const ports = brokerPorts(config, nodeId);
    const owner = `broker ${nodeId}`;
    used.push({ variable: 'KAFKA_PORT', port: ports.port, owner }, { variable: 'KAFKA_CONTROLLER_PORT', port: ports.controllerPort, owner });
    if (config.saslPlain) used.push({ variable: 'STACK_SASL_PORT', port: ports.saslPort, owner });
  }
  for (const [i, entry] of used.entries()) {
    if (entry.port > 65535) {
      throw new ConfigError(
        entry.variable,
        `${entry.variable} leaves no room for ${config.brokers} brokers: ${entry.owner} would need port ${entry.port} (broker i uses ${entry.variable} + ${PORTS_PER_BROKER}·(i−1)); lower ${entry.variable}`,
      );
    }
    const clash = used.slice(0, i).find((other) => entry.port !== 0 && other.port === entry.port);
    if (clash) {
      const layout = config.brokers > 1 ? ` (broker i uses each Kafka port + ${PORTS_PER_BROKER}·(i−1))` : '';
      throw new ConfigError(
        entry.variable,
        `${entry.variable} must differ from ${clash.variable}: port ${entry.port} would serve both ${entry.owner} and ${clash.owner}${layout}`,
      );
    }
  }
}
