import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error';
import { loadNodeConfig } from '../../src/config/node-config';

describe('node config', () => {
  it('has the documented defaults', () => {
    const config = loadNodeConfig({ NODENAME: 'n1' });
    assert.deepEqual(config.kafka.brokers, ['localhost:9092']);
    assert.equal(config.zookeeper.connectString, 'localhost:2181');
    assert.equal(config.zookeeper.root, '/bitacora/bitacora');
    assert.equal(config.http.port, 8080);
    assert.equal(config.kafka.topic, 'bitacora');
    assert.equal(config.kafka.replicationFactor, undefined);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.kafka));
  });

  it('passes Kafka TLS and SASL settings through, the password exactly as given', () => {
    const config = loadNodeConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/ca.pem',
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'cache',
      KAFKA_SASL_PASSWORD: ' secret ',
    });
    assert.deepEqual(config.kafka.security, {
      ssl: { caFile: '/etc/ca.pem', certFile: undefined, keyFile: undefined, rejectUnauthorized: false },
      sasl: { mechanism: 'scram-sha-512', username: 'cache', password: ' secret ' },
    });
    assert.deepEqual(loadNodeConfig({}).kafka.security, { ssl: false, sasl: undefined });
    assert.equal(loadNodeConfig({ AUTH_TOKEN: 'x'.repeat(16) }).authToken, 'x'.repeat(16));
    assert.equal(loadNodeConfig({}).authToken, undefined);
    assert.equal(loadNodeConfig({}).metricsAuth, 'token');
  });

  it('accepts ZOOKEEPER_HOSTS as an alias of ZOOKEEPER_HOST', () => {
    assert.equal(loadNodeConfig({ ZOOKEEPER_HOSTS: 'a:1,b:2' }).zookeeper.connectString, 'a:1,b:2');
    assert.equal(loadNodeConfig({ ZOOKEEPER_HOST: 'c:3', ZOOKEEPER_HOSTS: 'a:1' }).zookeeper.connectString, 'c:3');
  });

  const refusals: Array<[Record<string, string>, string]> = [
    [{ API_PORT: 'eighty' }, 'API_PORT'],
    [{ API_PORT: '70000' }, 'API_PORT'],
    [{ BROKER_LIST: 'localhost' }, 'BROKER_LIST'],
    [{ BROKER_LIST: 'a:1,b:notaport' }, 'BROKER_LIST'],
    [{ ZOOKEEPER_HOSTS: 'zk' }, 'ZOOKEEPER_HOSTS'],
    [{ KAFKA_TOPIC: 'has space' }, 'KAFKA_TOPIC'],
    [{ NODENAME: 'a/b' }, 'NODENAME'],
    [{ MAX_KEY_BYTES: '0' }, 'MAX_KEY_BYTES'],
    [{ MAX_VALUE_BYTES: '-1' }, 'MAX_VALUE_BYTES'],
    [{ KAFKA_TOPIC_PARTITIONS: '1.5' }, 'KAFKA_TOPIC_PARTITIONS'],
    [{ KAFKA_REPLICATION_FACTOR: '0' }, 'KAFKA_REPLICATION_FACTOR'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ZK_ROOT: 'relative/path' }, 'ZK_ROOT'],
    [{ AUTH_TOKEN: 'short' }, 'AUTH_TOKEN'],
    [{ AUTH_TOKEN: 'has a space in it, 16+ chars' }, 'AUTH_TOKEN'],
    [{ METRICS_AUTH: 'maybe' }, 'METRICS_AUTH'],
    [{ ZK_AUTH: 'no-colon' }, 'ZK_AUTH'],
    [{ ZK_AUTH: 'user:' }, 'ZK_AUTH'],
    [{ KAFKA_SSL: 'perhaps' }, 'KAFKA_SSL'],
    [{ KAFKA_SSL_CA_FILE: '/ca.pem' }, 'KAFKA_SSL_CA_FILE'],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/cert.pem' }, 'KAFKA_SSL_KEY_FILE'],
    [{ KAFKA_SASL_MECHANISM: 'kerberos' }, 'KAFKA_SASL_MECHANISM'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'p' }, 'KAFKA_SASL_USERNAME'],
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_PASSWORD'],
    [{ KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_USERNAME'],
    [{ MAX_CONNECTIONS: '0' }, 'MAX_CONNECTIONS'],
    [{ MAX_INFLIGHT_PER_CONNECTION: 'lots' }, 'MAX_INFLIGHT_PER_CONNECTION'],
  ];
  for (const [env, variable] of refusals) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(
        () => loadNodeConfig(env),
        (error: unknown) => error instanceof ConfigError && error.variable === variable && error.message.includes(variable),
      );
    });
  }
});
