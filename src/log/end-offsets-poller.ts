import type { Admin } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { withTimeout } from '../retry/retry';
import type { PartitionPositions } from './partition-positions';
import { fetchPartitionOffsets } from './topic-admin';

/**
 * Asks the broker for every partition's end on a timer (LAG_CHECK_INTERVAL_MS) and hands it to PartitionPositions,
 * so lag, stalls and readiness are judged against the log as it is, not against what the last fetch said (a
 * consumer that stopped fetching sees nothing new). The end asked for is the last stable offset, the one a
 * read_committed consumer can reach (see fetchPartitionOffsets): an open transaction of another producer does not
 * count as lag. One request at a time; a failed one is logged (once per run of failures) and the next tick tries again.
 */
export class EndOffsetsPoller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly options: {
      readonly admin: Admin;
      readonly topic: string;
      readonly positions: PartitionPositions;
      readonly intervalMs: number;
      readonly logger: Logger;
      /** Called after every attempt, successful or not (the consumer checks stalls and recovery then). */
      readonly onTick: () => void;
    },
  ) {}

  start(): void {
    this.schedule();
  }

  /** Asks the broker now; resolves when the answer (or failure) has been handled. */
  poll(): Promise<void> {
    this.running ??= this.ask().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Clears the timer and waits for a request in flight; idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll().finally(() => this.schedule()), this.options.intervalMs);
  }

  private async ask(): Promise<void> {
    const { admin, topic, positions, logger } = this.options;
    try {
      const offsets = await withTimeout(fetchPartitionOffsets(admin, topic), Math.max(5_000, this.options.intervalMs), `asking Kafka for the end offsets of ${topic}`);
      if (this.stopped) return;
      for (const { partition, high } of offsets) positions.observeEnd(partition, high);
      if (this.failing) logger.info({ topic }, 'end offsets answered again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) logger.warn({ err: error, topic }, 'could not ask Kafka for the end offsets; lag is as last known');
      this.failing = true;
    }
    if (!this.stopped) this.options.onTick();
  }
}
