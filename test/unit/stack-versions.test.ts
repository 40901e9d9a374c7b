import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pomOf } from '../../src/stack/jar-distribution';
import { DEFAULT_KAFKA_VERSION, KAFKA_VERSIONS, kafkaJars, zookeeperJars } from '../../src/stack/stack-versions';

const artifacts = (versionOrSet: ReturnType<typeof kafkaJars>): string[] => versionOrSet.dependencies.map((d) => `${d.groupId}:${d.artifactId}:${d.version}`);

describe('the stack\'s Kafka and ZooKeeper versions', () => {
  it('runs Kafka 4.4.0 by default and can still run 3.9.1', () => {
    assert.equal(DEFAULT_KAFKA_VERSION, '4.4.0');
    assert.deepEqual([...KAFKA_VERSIONS], ['4.4.0', '3.9.1']);
  });

  it('gives Kafka 4 and ZooKeeper an SLF4J 2 API with log4j2, and Kafka 3.9 reload4j', () => {
    for (const set of [kafkaJars('4.4.0'), zookeeperJars()]) {
      assert.ok(artifacts(set).includes('org.slf4j:slf4j-api:2.0.13'), set.name);
      assert.ok(artifacts(set).some((a) => a.startsWith('org.apache.logging.log4j:log4j-slf4j2-impl:2.24.')), set.name);
    }
    assert.ok(artifacts(kafkaJars('3.9.1')).includes('org.slf4j:slf4j-reload4j:1.7.36'));
    assert.ok(artifacts(kafkaJars('4.4.0')).includes('org.apache.kafka:kafka_2.13:4.4.0'));
    assert.ok(artifacts(zookeeperJars()).some((a) => a.startsWith('org.apache.zookeeper:zookeeper:3.9.')));
  });

  it('writes a pom naming every dependency, whose hash changes with them (so the jar cache resolves again)', () => {
    const pom = pomOf(kafkaJars('4.4.0'));
    for (const artifact of artifacts(kafkaJars('4.4.0'))) {
      const [groupId, artifactId, version] = artifact.split(':');
      assert.match(pom, new RegExp(`<groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version>`));
    }
    const hash = (text: string): string => createHash('sha256').update(text).digest('hex');
    assert.notEqual(hash(pom), hash(pomOf(kafkaJars('3.9.1'))));
  });
});
