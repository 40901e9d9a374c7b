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
