import { readPort, type Environment } from './env-parsers';
import { ConfigError } from './config-error';

/** Settings of `bitacora start` (`npm start`): where its three nodes listen. Node i takes the first port + i − 1. */
export interface StartConfig {
  /** START_API_PORT: node-1's HTTP port. */
  readonly apiPort: number;
  /** START_AVRO_PORT: node-1's Avro port. */
  readonly avroPort: number;
  /** START_RESP_PORT: node-1's Redis protocol port. */
  readonly respPort: number;
}

/** The three nodes of the local cluster need three consecutive ports from each base. */
const LOCAL_NODE_COUNT = 3;

export function loadStartConfig(env: Environment): StartConfig {
  const config = {
    apiPort: readPort(env, 'START_API_PORT', 8081),
    avroPort: readPort(env, 'START_AVRO_PORT', 7081),
    respPort: readPort(env, 'START_RESP_PORT', 6381),
  };
  const bases = [['START_API_PORT', config.apiPort], ['START_AVRO_PORT', config.avroPort], ['START_RESP_PORT', config.respPort]] as const;
  for (const [variable, port] of bases) {
    if (port === 0 || port + LOCAL_NODE_COUNT - 1 > 65535) {
      throw new ConfigError(variable, `${variable} must leave room for ${LOCAL_NODE_COUNT} consecutive ports (node i uses ${variable} + i − 1), got ${port}`);
    }
  }
  return Object.freeze(config);
}
