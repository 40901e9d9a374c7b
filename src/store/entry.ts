/** What the map holds for a key: the value Kafka last wrote for it and where that record sits in the log. */
export interface Entry {
  readonly value: Buffer;
  readonly partition: number;
  readonly offset: number;
  /** The Kafka record's timestamp, in ms since the epoch. */
  readonly timestamp: number;
}
