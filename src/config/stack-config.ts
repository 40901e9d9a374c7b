import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config-error';
import { readInteger, readPort, readString, type Environment } from './env-parsers';

/** Settings of the local Kafka/ZooKeeper stack (`bitacora stack`, `npm start`, the tests). */
export interface StackConfig {
  /** ZK_PORT; 0 picks a free port. */
  readonly zkPort: number;
  /** KAFKA_PORT; 0 picks a free port. */
  readonly kafkaPort: number;
  /** KAFKA_CONTROLLER_PORT, the KRaft controller listener; 0 picks a free port. */
  readonly kafkaControllerPort: number;
  /** STACK_DIR, absolute: data, logs and stack.json. */
  readonly dir: string;
  /** STACK_CACHE_DIR, absolute: the downloaded Kafka jars, shared by every stack on the machine. */
  readonly cacheDir: string;
  /** STACK_START_TIMEOUT_MS: how long ZooKeeper and Kafka get to answer once started. */
  readonly startTimeoutMs: number;
}

export const STACK_CONFIG_DEFAULTS = Object.freeze({
  zkPort: 2181,
  kafkaPort: 9092,
  kafkaControllerPort: 9093,
  dir: '.stack',
  startTimeoutMs: 90_000,
});

/** Reads and validates the stack settings from `env`; relative paths are resolved against `cwd`. */
export function loadStackConfig(env: Environment, cwd: string = process.cwd()): StackConfig {
  const config: StackConfig = {
    zkPort: readPort(env, 'ZK_PORT', STACK_CONFIG_DEFAULTS.zkPort),
    kafkaPort: readPort(env, 'KAFKA_PORT', STACK_CONFIG_DEFAULTS.kafkaPort),
    kafkaControllerPort: readPort(env, 'KAFKA_CONTROLLER_PORT', STACK_CONFIG_DEFAULTS.kafkaControllerPort),
    dir: path.resolve(cwd, readString(env, 'STACK_DIR', STACK_CONFIG_DEFAULTS.dir)),
    cacheDir: path.resolve(cwd, readString(env, 'STACK_CACHE_DIR', defaultCacheDir(env))),
    startTimeoutMs: readInteger(env, 'STACK_START_TIMEOUT_MS', STACK_CONFIG_DEFAULTS.startTimeoutMs, { min: 1_000, max: 3_600_000 }),
  };
  assertDistinctPorts(config);
  return Object.freeze(config);
}

/** $XDG_CACHE_HOME/bitacora, else ~/.cache/bitacora; XDG says a relative XDG_CACHE_HOME is to be ignored. */
function defaultCacheDir(env: Environment): string {
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'bitacora');
  const home = env.HOME?.trim() || os.homedir();
  return path.join(home, '.cache', 'bitacora');
}

function assertDistinctPorts(config: StackConfig): void {
  const ports: [string, number][] = [
    ['ZK_PORT', config.zkPort],
    ['KAFKA_PORT', config.kafkaPort],
    ['KAFKA_CONTROLLER_PORT', config.kafkaControllerPort],
  ];
  for (let i = 0; i < ports.length; i++) {
    for (let j = 0; j < i; j++) {
      const [name, port] = ports[i]!;
      const [otherName, otherPort] = ports[j]!;
      if (port !== 0 && port === otherPort) {
        throw new ConfigError(name, `${name} must differ from ${otherName} (both are ${port})`);
      }
    }
  }
}
