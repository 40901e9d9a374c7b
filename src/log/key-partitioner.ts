/**
 * Maps a key to its partition exactly as Kafka's Java client does (murmur2 of the key bytes, made positive, modulo
 * the partition count), so that a node, a foreign Java producer and a peer all agree on where a key lives. The count
 * is the topic's pinned one (key-partition-pin.ts), not its current one. Written with Math.imul rather than through
 * kafkajs' partitioner, which computes in 64-bit Long objects: every applied record is hashed, to tell whether it is
 * in its canonical partition. test/unit/key-partitioner.test.ts checks it against kafkajs' DefaultPartitioner.
 */
export function createKeyPartitioner(_topic: string, partitionCount: number): (key: Buffer) => number {
  return (key) => (murmur2(key) & 0x7fffffff) % partitionCount;
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit integer. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch falls through: the tail's bytes, highest first, then one multiply.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
