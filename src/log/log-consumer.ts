import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { backoffDelay, withTimeout } from '../retry/retry';
import type { EntryStore } from '../store/entry-store';
import { type RefuseKeyHook, storeForApplier } from './apply-test-hooks';
import { EndOffsetsPoller } from './end-offsets-poller';
import type { KeyMerge } from './key-merge';
import type { ApplyFailure, PartitionPositions } from './partition-positions';
import { type AppliedStore, applyBatch, newApplyCounters, type ApplyCounters } from './record-applier';

export interface LogConsumerOptions {
  readonly kafka: Kafka;
  /** Asks the broker for the partitions' ends on a timer (lag, stalls). */
  readonly admin: Admin;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly limits: { readonly maxKeyBytes: number; readonly maxValueBytes: number };
  readonly store: EntryStore;
  /** Decides keys across partitions; lives as long as the store (a restarted consumer goes on with both). */
  readonly merge: KeyMerge;
  /** The key's canonical partition under the topic's pinned key→partition map. */
  readonly canonicalPartition: (key: Buffer) => number;
  readonly positions: PartitionPositions;
  readonly logger: Logger;
  /** LAG_CHECK_INTERVAL_MS, APPLY_STALL_TIMEOUT_MS, APPLY_RESTARTS and the test-only refuse hook. */
  readonly apply: ApplyOptions;
  readonly onKeyApplied?: (key: string) => void;
  /** Called once when the apply path failed again after APPLY_RESTARTS restarts: the node cannot follow the log. */
  readonly onFatal: (error: Error) => void;
}

export interface ApplyOptions {
  readonly lagCheckIntervalMs: number;
  readonly stallTimeoutMs: number;
  /** Consumer restarts after failures in a row that made no progress; one more failure is fatal. */
  readonly restarts: number;
  readonly refuseKeyHook?: RefuseKeyHook;
}

/** The apply path's state, for readiness, /stats and metrics. */
export interface ApplyReport {
  readonly failure: ApplyFailure | undefined;
  /** Failures since start, by kind. */
  readonly failures: Readonly<Record<ApplyFailure['kind'], number>>;
  /** Consumer restarts since start. */
  readonly restarts: number;
  /** Set once the restarts are spent: the node has failed. */
  readonly fatal: string | undefined;
}

/**
 * How old the consumer's topic metadata may grow: partitions added to the topic are consumed within this (plus a
 * rejoin of the group, about a second). kafkajs' default is 5 minutes.
 */
export const METADATA_MAX_AGE_MS = 5_000;

const MISROUTED_WARNING_INTERVAL_MS = 60_000;

/**
 * Records applied in one turn of the event loop: about 20 ms of applying at the load rate (~200,000 records/s),
 * while a turn between slices costs a few microseconds.
 */
const APPLY_SLICE_RECORDS = 4_096;

/** What one fetch may return, per partition and in all: see startConsumer. A larger batch is still returned whole. */
const FETCH_MAX_BYTES_PER_PARTITION = 512 * 1024;
const FETCH_MAX_BYTES = 1024 * 1024;

/** Lets I/O and timers run (setImmediate: after the poll phase, unlike a resolved promise or nextTick). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** First and largest wait before a consumer restart; the wait grows with failures in a row. */
const RESTART_DELAY_MS = { initial: 1_000, max: 30_000 };

/** Thrown out of eachBatch after an apply failure: not retriable, so kafkajs stops this consumer rather than re-fetch. */
class ApplyError extends Error {
  override name = 'ApplyError';
  readonly retriable = false;
}

/**
 * Reads the whole topic into the map, from the earliest offset at every start, and keeps following it.
 * The group's committed offsets are never used (nothing is committed, and each assignment seeks to the node's own
 * position): the map is empty after a restart, so resuming from a committed offset would lose keys.
 *
 * It also watches its own apply path. An exception while applying, a crash kafkajs does not restart from, or a
 * partition whose position stays still for APPLY_STALL_TIMEOUT_MS while the broker holds records past it marks the
 * positions failed (the node is not ready, and answers no definite 404 of its own), and the kafkajs consumer is
 * replaced by a new one that resumes from the node's own applied positions, after a growing, jittered wait. The
 * failure clears once the position moves on. After APPLY_RESTARTS restarts in a row without progress, onFatal.
 */
export class LogConsumer {
  readonly counters: ApplyCounters = newApplyCounters();
  private readonly failures: Record<ApplyFailure['kind'], number> = { apply_error: 0, consumer_crash: 0, stall: 0 };
  private readonly store: AppliedStore;
  private readonly poller: EndOffsetsPoller;
  private consumer: Consumer | undefined;
  private stopping: Promise<void> | undefined;
  private restarts = 0;
  /** Failures in a row without progress, and where the failing partition (or all of them) stood at the last one. */
  private streak = { count: 0, partition: undefined as number | undefined, mark: -1 };
  private restartTimer: NodeJS.Timeout | undefined;
  private restarting = false;
  private fatal: string | undefined;
  /** When the current kafkajs consumer was started, and when it last joined its group (a stall is judged from then). */
  private consumerStartedAt = 0;
  private joinedAt: number | undefined;
  private misroutedWarned = { count: 0, at: 0 };

  constructor(private readonly options: LogConsumerOptions) {
    this.store = storeForApplier(options.store, options.apply.refuseKeyHook);
    this.poller = new EndOffsetsPoller({
      admin: options.admin,
      topic: options.topic,
      positions: options.positions,
      intervalMs: options.apply.lagCheckIntervalMs,
      logger: options.logger,
      onTick: () => this.checkHealth(),
    });
  }

  async start(): Promise<void> {
    if (this.options.apply.refuseKeyHook) this.options.logger.warn({ hook: 'TEST_HOOK_REFUSE_KEY' }, 'a test hook is enabled: this node will fail to apply a key on purpose');
    await this.startConsumer();
    this.poller.start();
  }

  report(): ApplyReport {
    return { failure: this.options.positions.failure, failures: { ...this.failures }, restarts: this.restarts, fatal: this.fatal };
  }

  /**
   * TEST ONLY: stops fetching (the map stops moving) until resume(), for tests that need a node that lags behind the
   * log for real. A pause longer than APPLY_STALL_TIMEOUT_MS while records wait is a stall like any other: the
   * consumer is restarted, unpaused.
   */
  pause(): void {
    this.consumer?.pause([{ topic: this.options.topic }]);
  }

  resume(): void {
    this.consumer?.resume([{ topic: this.options.topic }]);
  }

  /** Asks the broker for the ends now (tests: instead of waiting for the timer). */
  checkEnds(): Promise<void> {
    return this.poller.poll();
  }

  /** Leaves the group and closes connections; idempotent, and bounded by `timeoutMs`. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.restartTimer);
      await this.poller.stop();
      await this.disconnect(timeoutMs);
    })();
    return this.stopping;
  }

  private async startConsumer(): Promise<void> {
    const { kafka, topic, groupId, sessionTimeoutMs, positions, logger } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.floor(sessionTimeoutMs / 4),
      rebalanceTimeout: Math.max(sessionTimeoutMs, 10_000),
      // A short long-poll keeps stop() quick; the fetch still returns as soon as a record arrives.
      maxWaitTimeInMs: 250,
      // kafkajs decodes a whole fetch response in one turn of the event loop: at its defaults (1 MiB per
      // partition, 10 MiB in all) that was a third of a second on a 3-partition topic of small records.
      maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      maxBytes: FETCH_MAX_BYTES,
      allowAutoTopicCreation: false,
      // Partitions added to the topic are noticed at the next metadata refresh, and the group rejoins to take them.
      metadataMaxAge: METADATA_MAX_AGE_MS,
      // Each attempt is bounded by kafkajs' retry; after a retriable crash kafkajs restarts the consumer itself, so a
      // node follows the log through broker outages without a restart of the node. A crash it does not restart
      // from is this class's to handle (CRASH below).
      // ...until stop(): a consumer being stopped must not schedule a restart, or it outlives its node.
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000, restartOnFailure: async () => this.stopping === undefined },
    });
    this.consumer = consumer;
    this.consumerStartedAt = Date.now();
    this.joinedAt = undefined;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (consumer === this.consumer) this.joinedAt = Date.now();
      const assigned = payload.memberAssignment[topic] ?? [];
      logger.info({ partitions: assigned }, 'joined consumer group');
      for (const partition of assigned) {
        consumer.seek({ topic, partition, offset: String(positions.position(partition)) });
      }
    });
    // Batches holding only control records or aborted transactions skip eachBatch; the position still moves.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic !== topic) return;
      positions.advance(payload.partition, Number(payload.lastOffset) + 1);
      if (positions.failure) this.checkRecovered();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (consumer !== this.consumer || payload.restart || this.stopping) return;
      this.fail({ kind: 'consumer_crash', reason: `the Kafka consumer crashed and kafkajs does not restart it: ${payload.error.message}` });
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        const deps = {
          store: this.store,
          positions,
          limits: this.options.limits,
          counters: this.counters,
          merge: this.options.merge,
          canonicalPartition: this.options.canonicalPartition,
          onKeyApplied: this.options.onKeyApplied,
        };
        try {
          // In slices, with a turn of the event loop between them: a fetched batch holds up to 1 MiB (tens of
          // thousands of small records), and kafkajs hands the next batch over in microtasks, so applying whole
          // batches kept requests, timers and heartbeats waiting for over a second while a large topic loaded.
          // One batch is applied at a time (partitionsConsumedConcurrently: 1), so slices of two batches never interleave.
          const { messages } = batch;
          for (let from = 0; from < messages.length || from === 0; from += APPLY_SLICE_RECORDS) {
            const to = Math.min(messages.length, from + APPLY_SLICE_RECORDS);
            const last = to === messages.length ? Number(batch.lastOffset()) : Number(messages[to - 1]!.offset);
            applyBatch(batch.partition, from === 0 && to === messages.length ? messages : messages.slice(from, to), last, deps);
            if (to < messages.length) await yieldToEventLoop();
          }
        } catch (error) {
          const offset = positions.position(batch.partition);
          const message = error instanceof Error ? error.message : String(error);
          this.fail({ kind: 'apply_error', partition: batch.partition, reason: `applying partition ${batch.partition} offset ${offset} failed: ${message}` }, error);
          throw new ApplyError(message);
        }
      },
    });
  }

  /** Warns of records outside their key's canonical partition: at most once a minute, with what to fix. */
  private warnMisrouted(): void {
    const { misrouted } = this.counters;
    const now = Date.now();
    if (misrouted <= this.misroutedWarned.count || now - this.misroutedWarned.at < MISROUTED_WARNING_INTERVAL_MS) return;
    this.options.logger.warn(
      { misrouted, since: misrouted - this.misroutedWarned.count },
      "records outside their key's canonical partition: another producer partitions keys otherwise than Bitacora (murmur2 of the key, as Java's client). " +
        'They are applied all the same, but each node must weigh them by timestamp against the canonical partition. Fix the producer: ' +
        'librdkafka (kcat, confluent-kafka) partitioner=murmur2_random; kafkajs the default partitioner, not LegacyPartitioner; Sarama NewReferenceHashPartitioner; ' +
        'and never add partitions to the topic (keys stay pinned to the count it had first)',
    );
    this.misroutedWarned = { count: misrouted, at: now };
  }

  /** Stalls and recovery, checked each time the broker's ends have been asked for. */
  private checkHealth(): void {
    this.warnMisrouted();
    const { positions } = this.options;
    if (positions.failure) {
      this.checkRecovered();
      return;
    }
    // A consumer still joining its group is not stalled yet: after a SIGKILL the group waits up to the session
    // timeout for the old member, and a restart would only join again. Give it that long on top.
    const { stallTimeoutMs } = this.options.apply;
    const movingSince = this.joinedAt ?? this.consumerStartedAt + this.options.sessionTimeoutMs;
    if (Date.now() - movingSince < stallTimeoutMs) return;
    const [stalled] = positions.stalled(stallTimeoutMs);
    if (!stalled) return;
    this.fail({
      kind: 'stall',
      partition: stalled.partition,
      reason: `partition ${stalled.partition} has stayed at offset ${stalled.position} for ${stalled.waitingMs} ms while Kafka holds records up to ${stalled.end} (APPLY_STALL_TIMEOUT_MS ${this.options.apply.stallTimeoutMs} ms)`,
    });
  }

  /** Clears the failure once a restarted consumer has moved past where it failed (or the log has nothing to apply). */
  private checkRecovered(): void {
    const { positions, logger } = this.options;
    const failure = positions.failure;
    if (!failure || this.restarting || this.fatal) return;
    const moved = this.progressMark(this.streak.partition) > this.streak.mark;
    // A record that failed to apply must be applied for real; a stall or crash also ends when nothing is left to apply.
    const nothingWaits = failure.kind !== 'apply_error' && positions.snapshot().every((p) => positions.reachedEnd(p.partition));
    if (!moved && !nothingWaits) return;
    positions.clearFailure();
    logger.info({ kind: failure.kind, failedForMs: Date.now() - failure.since, restarts: this.restarts }, 'apply path recovered');
  }

  private fail(failure: Omit<ApplyFailure, 'since'>, error?: unknown): void {
    const { positions, logger } = this.options;
    if (this.stopping || this.fatal || this.restarting) return;
    this.failures[failure.kind]++;
    positions.markFailed({ ...failure, since: Date.now() });
    const mark = this.progressMark(failure.partition);
    const progressed = this.streak.count === 0 || failure.partition !== this.streak.partition || mark > this.streak.mark;
    this.streak = { count: progressed ? 1 : this.streak.count + 1, partition: failure.partition, mark };
    logger.error({ err: error, kind: failure.kind, partition: failure.partition, inARow: this.streak.count }, `apply path failed: ${failure.reason}`);
    if (this.streak.count > this.options.apply.restarts) {
      this.fatal = `${failure.reason} (failed ${this.streak.count} times in a row, APPLY_RESTARTS ${this.options.apply.restarts} restarts spent)`;
      logger.fatal({ kind: failure.kind }, `the apply path cannot follow the log: ${this.fatal}`);
      void this.disconnect(5_000);
      this.options.onFatal(new Error(this.fatal));
      return;
    }
    this.restarting = true;
    const delayMs = backoffDelay(this.streak.count, RESTART_DELAY_MS.initial, RESTART_DELAY_MS.max);
    logger.warn({ delayMs, restart: this.streak.count, of: this.options.apply.restarts }, 'restarting the consumer from the applied positions');
    this.restartTimer = setTimeout(() => void this.restart(), delayMs);
  }

  /** A new kafkajs consumer in place of the failed one; it seeks to the applied positions when it joins. */
  private async restart(): Promise<void> {
    if (this.stopping) return;
    await this.disconnect(10_000);
    if (this.stopping) return;
    this.restarts++;
    try {
      await this.startConsumer();
      this.restarting = false;
      this.checkRecovered();
    } catch (error) {
      this.restarting = false;
      this.fail({ kind: 'consumer_crash', reason: `restarting the Kafka consumer failed: ${error instanceof Error ? error.message : String(error)}` }, error);
    }
  }

  private progressMark(partition: number | undefined): number {
    const { positions } = this.options;
    if (partition !== undefined) return positions.position(partition);
    return positions.snapshot().reduce((sum, p) => sum + p.position, 0);
  }

  private async disconnect(timeoutMs: number): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    try {
      await withTimeout(consumer.disconnect(), timeoutMs, 'Kafka consumer disconnect');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'consumer did not disconnect cleanly');
    }
  }
}
