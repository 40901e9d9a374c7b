import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import { createKeyPartitioner } from '../../src/log/key-partitioner';
import { fuzzSeed, SeededRandom } from '../helpers/seeded-random';

describe('key partitioner', () => {
  it("maps keys exactly as kafkajs' DefaultPartitioner (Java's murmur2) does, for every length and several counts", () => {
    const seed = fuzzSeed();
    const rnd = new SeededRandom(seed);
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const count of [1, 2, 3, 6, 7, 64, 1000]) {
      const ours = createKeyPartitioner('t', count);
      const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (let i = 0; i < 2_000; i++) {
        const key = rnd.bytes(rnd.between(1, 40));
        assert.equal(ours(key), kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }), `seed ${seed}: key ${key.toString('hex')}, ${count} partitions`);
      }
    }
  });
});
