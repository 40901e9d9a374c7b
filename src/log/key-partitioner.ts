import { Partitioners } from 'kafkajs';

/**
 * Maps a key to its partition exactly as Kafka's Java client does (murmur2 of the key bytes), so that a node,
 * a foreign Java producer and a peer all agree on where a key lives.
 */
export function createKeyPartitioner(topic: string, partitionCount: number): (key: Buffer) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return (key) => partitioner({ topic, partitionMetadata, message: { key, value: null } });
}
