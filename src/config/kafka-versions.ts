/**
 * The Kafka versions the local stack runs, pinned so CI is reproducible (their jars: src/stack/stack-versions.ts).
 * Kafka 4.x is the default: new installations run it, and it changed defaults that later work depends on
 * (KIP-1030, KIP-896). 3.9.1, the last 3.x line, stays selectable (STACK_KAFKA_VERSION, `stack up
 * --kafka-version`) and is smoke-tested in CI.
 */
export const KAFKA_VERSIONS = ['4.4.0', '3.9.1'] as const;
export type KafkaVersion = (typeof KAFKA_VERSIONS)[number];
export const DEFAULT_KAFKA_VERSION: KafkaVersion = '4.4.0';

/** True for the versions this stack knows how to run. */
export function isKafkaVersion(version: string): version is KafkaVersion {
  return (KAFKA_VERSIONS as readonly string[]).includes(version);
}
