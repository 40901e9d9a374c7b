import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { withTimeout } from '../retry/retry';
import type { EntryStore } from '../store/entry-store';
import type { PartitionPositions } from './partition-positions';
import { applyBatch, newApplyCounters, type ApplyCounters } from './record-applier';

export interface LogConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly limits: { readonly maxKeyBytes: number; readonly maxValueBytes: number };
  readonly store: EntryStore;
  readonly positions: PartitionPositions;
  readonly logger: Logger;
  readonly onKeyApplied?: (key: string) => void;
}

/**
 * Reads the whole topic into the map, from the earliest offset at every start, and keeps following it.
 * The group's committed offsets are never used (nothing is committed, and each assignment seeks to the node's own
 * position): the map is empty after a restart, so resuming from a committed offset would lose keys.
 */
export class LogConsumer {
  readonly counters: ApplyCounters = newApplyCounters();
  private consumer: Consumer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: LogConsumerOptions) {}

  async start(): Promise<void> {
    const { kafka, topic, groupId, sessionTimeoutMs, positions, logger } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.floor(sessionTimeoutMs / 4),
      rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
      // A short long-poll keeps stop() quick; the fetch still returns as soon as a record arrives.
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      // Each attempt is bounded by kafkajs' retry; after a crash the consumer restarts, so a node follows the log
      // for as long as it runs, through broker outages, without a restart of the node.
      // ...until stop(): a consumer being stopped must not schedule a restart, or it outlives its node.
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000, restartOnFailure: async () => this.stopping === undefined },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[topic] ?? [];
      logger.info({ partitions: assigned }, 'joined consumer group');
      for (const partition of assigned) {
        consumer.seek({ topic, partition, offset: String(positions.position(partition)) });
      }
    });
    // Batches holding only control records or aborted transactions skip eachBatch; the position still moves.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic !== topic) return;
      positions.advance(payload.partition, Number(payload.lastOffset) + 1, Number(payload.highWatermark));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        applyBatch(
          batch.partition,
          batch.messages,
          Number(batch.lastOffset()),
          { store: this.options.store, positions, limits: this.options.limits, counters: this.counters, onKeyApplied: this.options.onKeyApplied },
        );
      },
    });
  }

  /**
   * Stops fetching (the map stops moving) until resume(). For tests and diagnostics that need a node that lags
   * behind the log for real.
   */
  pause(): void {
    this.consumer?.pause([{ topic: this.options.topic }]);
  }

  resume(): void {
    this.consumer?.resume([{ topic: this.options.topic }]);
  }

  /** Leaves the group and closes connections; idempotent, and bounded by `timeoutMs`. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.consumer) return;
      try {
        await withTimeout(this.consumer.disconnect(), timeoutMs, 'Kafka consumer disconnect');
      } catch (error) {
        this.options.logger.warn({ err: error }, 'consumer did not disconnect cleanly');
      }
    })();
    return this.stopping;
  }
}
