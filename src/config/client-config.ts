import { type Environment, readHostPortList, readInteger, readOptionalString, readString, rawValue } from './env-parsers';

/** How the CLI (`bitacora get|set|del|mget`) finds nodes and how long it waits. */
export interface ClientConfig {
  /** Explicit Avro addresses; when empty, nodes are discovered in ZooKeeper. */
  readonly addresses: readonly string[];
  readonly zookeeper: { readonly connectString: string; readonly root: string };
  readonly timeoutMs: number;
  /** AUTH_TOKEN of the cluster, when its nodes require one. */
  readonly authToken: string | undefined;
}

export function loadClientConfig(env: Environment): ClientConfig {
  const topic = readString(env, 'KAFKA_TOPIC', 'bitacora');
  return Object.freeze({
    addresses: Object.freeze(rawValue(env, 'AVRO_ADDRESSES') ? readHostPortList(env, 'AVRO_ADDRESSES', '') : []),
    zookeeper: Object.freeze({
      connectString: readHostPortList(env, 'ZOOKEEPER_HOST', 'localhost:2181', ['ZOOKEEPER_HOSTS']).join(','),
      root: readString(env, 'ZK_ROOT', `/bitacora/${topic}`),
    }),
    timeoutMs: readInteger(env, 'CLIENT_TIMEOUT_MS', 5_000, { min: 100, max: 600_000 }),
    authToken: readOptionalString(env, 'AUTH_TOKEN'),
  });
}
