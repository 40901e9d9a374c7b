import { readFileSync } from 'node:fs';
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { KafkaSecurity } from '../config/node-config';
import type { Logger } from '../logging/logger';
import { installLinearMessageGrouping } from '../patches/kafkajs-message-grouping';
import { installFastProduceEncoding } from '../patches/kafkajs-produce-encoding';
import { installFastRecordDecoding } from '../patches/kafkajs-record-decoding';

/**
 * kafkajs messages that describe expected, handled conditions: a protocol error answer it will retry (a
 * coordinator still loading at start), and its warning about the producer's bounded retries, which are deliberate
 * (PRODUCE_TIMEOUT_MS bounds every write). Logged at debug, not as errors.
 */
const EXPECTED_NOISE = [/^Response \w+\(key: \d+, version: \d+\)$/, /^Limiting retries for the idempotent producer/];

// At load, before any kafkajs client of this process can fetch or produce (see the patches for why they must come first).
installFastRecordDecoding();
installFastProduceEncoding();

/** Builds the kafkajs client every Kafka component of a node shares, logging through the node's logger. */
export function createKafkaClient(options: {
  clientId: string;
  brokers: readonly string[];
  logger: Logger;
  requestTimeoutMs?: number;
  /** TLS and SASL (KAFKA_SSL*, KAFKA_SASL_*); plain TCP when omitted. */
  security?: KafkaSecurity;
}): Kafka {
  const logger = options.logger.child({ component: 'kafkajs' });
  if (installFastRecordDecoding() === 'too-late') logger.debug("kafkajs fetched before its record decoder was patched: this process keeps kafkajs' own (same results, slower)");
  if (installFastProduceEncoding() === 'too-late') logger.debug("kafkajs produced before its request encoder was patched: this process keeps kafkajs' own (same bytes, slower)");
  if (installLinearMessageGrouping() === 'too-late') logger.debug("kafkajs was loaded before its message grouping was patched: this process keeps kafkajs' own (same groups, slower)");
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...kafkaSecurityOptions(options.security),
    connectionTimeout: 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // kafkajs' own retries are kept short: callers bound the total time with their own deadlines.
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...rest } = log as { message: string; timestamp?: string; logger?: string };
        if (EXPECTED_NOISE.some((pattern) => pattern.test(message))) logger.debug(rest, message);
        else if (level === KafkaLogLevel.ERROR) logger.error(rest, message);
        else if (level === KafkaLogLevel.WARN) logger.warn(rest, message);
        else if (level === KafkaLogLevel.INFO) logger.info(rest, message);
        else logger.debug(rest, message);
      },
  });
}

/** kafkajs' `ssl` and `sasl` options from the node's settings; certificate files are read here, once. */
export function kafkaSecurityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!security) return {};
  const read = (file: string | undefined, variable: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read ${variable} (${file}): ${(error as Error).message}`, { cause: error });
    }
  };
  const { ssl, sasl } = security;
  return {
    ssl: ssl
      ? {
          rejectUnauthorized: ssl.rejectUnauthorized,
          ca: ssl.caFile === undefined ? undefined : [read(ssl.caFile, 'KAFKA_SSL_CA_FILE')!],
          cert: read(ssl.certFile, 'KAFKA_SSL_CERT_FILE'),
          key: read(ssl.keyFile, 'KAFKA_SSL_KEY_FILE'),
        }
      : false,
    sasl: sasl ? ({ mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as KafkaConfig['sasl']) : undefined,
  };
}
