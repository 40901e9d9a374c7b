import { type JarSet, maven } from './jar-distribution';

// The Kafka versions are listed in config/ (STACK_KAFKA_VERSION is validated there, and config/ imports nothing from
// stack/: test/unit/import-graph.test.ts); their jars are pinned here.
import type { KafkaVersion } from '../config/kafka-versions';
export { DEFAULT_KAFKA_VERSION, isKafkaVersion, KAFKA_VERSIONS, type KafkaVersion } from '../config/kafka-versions';

/** ZooKeeper serves the nodes' membership only (the brokers run KRaft); Kafka 4 no longer brings it along. */
export const ZOOKEEPER_VERSION = '3.9.5';

// Kafka 4 and ZooKeeper 3.9 log through SLF4J 2; log4j2 is the backend (one log4j2.xml for both). Kafka 4 itself
// asks for SLF4J 1.7.36, which cannot find an SLF4J 2 provider and would log nothing: the explicit API wins.
const LOG4J2 = [maven('org.apache.logging.log4j:log4j-core:2.24.3'), maven('org.apache.logging.log4j:log4j-slf4j2-impl:2.24.3')];
const SLF4J2_API = maven('org.slf4j:slf4j-api:2.0.13');

const KAFKA_JARS: Readonly<Record<KafkaVersion, readonly ReturnType<typeof maven>[]>> = {
  '4.4.0': [maven('org.apache.kafka:kafka_2.13:4.4.0'), SLF4J2_API, ...LOG4J2],
  // Kafka 3.9 logs through SLF4J 1.7 and log4j 1.x (log4j.properties): reload4j is its maintained backend.
  '3.9.1': [maven('org.apache.kafka:kafka_2.13:3.9.1'), maven('org.slf4j:slf4j-reload4j:1.7.36')],
};

/** The jars of one Kafka broker of `version`. */
export function kafkaJars(version: KafkaVersion): JarSet {
  return { name: 'kafka', version, dependencies: KAFKA_JARS[version], requiredJarPrefix: `kafka_2.13-${version}` };
}

/** The jars of the ZooKeeper server, the same whichever Kafka runs beside it. */
export function zookeeperJars(): JarSet {
  return {
    name: 'zookeeper',
    version: ZOOKEEPER_VERSION,
    // Dropwizard (the server's metrics) and snappy (snapshot streams) are needed at run time; ZooKeeper's pom marks them provided.
    dependencies: [
      maven(`org.apache.zookeeper:zookeeper:${ZOOKEEPER_VERSION}`),
      maven('io.dropwizard.metrics:metrics-core:4.1.12.1'),
      maven('org.xerial.snappy:snappy-java:1.1.10.7'),
      SLF4J2_API,
      ...LOG4J2,
    ],
    requiredJarPrefix: `zookeeper-${ZOOKEEPER_VERSION}`,
  };
}
