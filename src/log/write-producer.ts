import { KafkaJSProtocolError, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { BitacoraError } from '../errors/bitacora-error';
import type { Logger } from '../logging/logger';
import { withTimeout } from '../retry/retry';

/** Where Kafka stored an acknowledged write. */
export interface WriteAck {
  readonly partition: number;
  readonly offset: number;
}

/** One record of a group of writes (writeTogether). */
export interface GroupedRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
}

interface PendingWrite {
  readonly key: Buffer;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** How many writes after this one belong to its group: they go in the same produce request, or none do. */
  readonly groupRest: number;
  readonly partition: number;
  /** The record's timestamp (CreateTime), ms since the epoch. */
  readonly timestamp: number;
  readonly deadline: number;
  readonly resolve: (ack: WriteAck) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
  /** Put in a produce request (so it may be in the log even when it fails). */
  sent: boolean;
  /** Fails the write at its deadline, queued or sent. */
  timer: NodeJS.Timeout | undefined;
}

/** One produce request carries at most this many bytes of keys and values, under the broker's 1 MiB default. */
const MAX_BATCH_BYTES = 900_000;
const MAX_BATCH_RECORDS = 10_000;
/** Closing a producer's sockets takes no round trip; this only bounds a hang. */
const PRODUCER_DISCONNECT_TIMEOUT_MS = 2_000;

/**
 * The node's one idempotent producer (acks=all). Writes are queued and sent together at the end of the event
 * loop's turn, or once the request in flight is answered, so concurrent writes share few requests without a timer
 * (a write waits at most for the rest of its own turn when the node is idle). Each write has a deadline: one not
 * acknowledged in time fails with KAFKA_UNAVAILABLE at that deadline, whether it is still queued (then it is never
 * sent) or already sent.
 */
export class WriteProducer {
  private producer: Producer;
  /** The last request failed, so this producer's sequence numbers may no longer be Kafka's: see renew(). */
  private suspect = false;
  private queue: PendingWrite[] = [];
  private inFlight = false;
  private flushScheduled = false;
  private connected = false;
  /** stop() has given up waiting and disconnects: nothing may connect after this. */
  private closed = false;
  /** Sends completed and records carried, for metrics and the benchmark. */
  readonly stats = { requests: 0, records: 0, failures: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly options: {
      readonly topic: string;
      readonly produceTimeoutMs: number;
      readonly partitionOf: (key: Buffer) => number;
      readonly logger: Logger;
      /** Told of every produce request: whether it succeeded and how long it took. */
      readonly onProduce?: (ok: boolean, seconds: number) => void;
    },
  ) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Every record names its partition (partitionOf, Java's murmur2); naming the partitioner also keeps kafkajs
      // from printing its v2 partitioner-change warning at every start.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(200, Math.floor(this.options.produceTimeoutMs / 2)) },
    });
  }

  /**
   * Replaces the kafkajs producer with a new one, which gets a new producer id. kafkajs hands a failed request's
   * sequence numbers on to the next request; when the failed request had in fact been written (only its answer was
   * lost: a broker killed or frozen meanwhile), Kafka takes the next request, other records, for a duplicate of it,
   * answers success with the first request's offset and drops the records. A new producer id starts new sequences
   * that nothing in the log can match. Costs one reconnection, after failures only.
   */
  private async renew(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    await withTimeout(old.disconnect(), PRODUCER_DISCONNECT_TIMEOUT_MS, 'disconnecting the failed Kafka producer').catch((error) =>
      this.options.logger.warn({ err: error }, 'the failed producer did not disconnect cleanly'),
    );
    const renewed = this.producer;
    await renewed.connect();
    // stop() may have disconnected the producer while it connected: a connection made after that would outlive it.
    if (this.closed) {
      await renewed.disconnect().catch(() => undefined);
      throw new BitacoraError('SHUTTING_DOWN', 'the node is stopping; send the write to another node');
    }
    this.suspect = false;
    this.options.logger.info('Kafka producer renewed after a failed request');
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * Produces a value (or a tombstone when `value` is null), stamped `timestamp` (now by default), to the key's
   * canonical partition unless told another, and resolves with its partition and offset.
   */
  write(key: Buffer, value: Buffer | null, timestamp = Date.now(), partition = this.options.partitionOf(key), headers?: Readonly<Record<string, string>>): Promise<WriteAck> {
    return this.enqueue({ key, value, headers }, timestamp, partition, 0, true);
  }

  /**
   * Produces several records to one partition, all stamped `timestamp`, in one produce request: Kafka appends them as
   * one batch, so they are all in the log or none is, and the cleaner sees them at one position. Resolves with each
   * record's partition and offset, in order.
   */
  writeTogether(records: readonly GroupedRecord[], timestamp: number, partition: number): Promise<WriteAck[]> {
    return Promise.all(records.map((record, index) => this.enqueue(record, timestamp, partition, index === 0 ? records.length - 1 : 0, index === records.length - 1)));
  }

  private enqueue(record: GroupedRecord, timestamp: number, partition: number, groupRest: number, last: boolean): Promise<WriteAck> {
    return new Promise<WriteAck>((resolve, reject) => {
      const write: PendingWrite = {
        key: record.key,
        value: record.value,
        headers: record.headers,
        groupRest,
        partition,
        timestamp,
        deadline: Date.now() + this.options.produceTimeoutMs,
        resolve,
        reject,
        settled: false,
        sent: false,
        timer: undefined,
      };
      // Armed here, not when the write is sent: a write queued behind a request that hangs (a broker gone) must
      // still answer at its deadline, not when that request finally fails.
      write.timer = setTimeout(() => {
        const why = write.sent ? 'Kafka did not acknowledge it in time' : 'it waited in the queue behind an unanswered request past its deadline';
        this.fail(write, unavailable(this.options.produceTimeoutMs, why));
      }, this.options.produceTimeoutMs);
      this.queue.push(write);
      // A group is sent once its last write is queued (all in the same turn: writeTogether's map).
      if (last) this.flushAtTurnEnd();
    });
  }

  /** Waits for the queue to drain (bounded), then disconnects; writes still queued after that fail. */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.inFlight || this.queue.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const write of this.queue) this.fail(write, new BitacoraError('SHUTTING_DOWN', 'the node is stopping; send the write to another node'));
    this.queue = [];
    this.closed = true;
    if (this.connected) {
      this.connected = false;
      await withTimeout(this.producer.disconnect(), Math.max(1_000, deadline - Date.now()), 'Kafka producer disconnect').catch((error) =>
        this.options.logger.warn({ err: error }, 'producer did not disconnect cleanly'),
      );
    }
  }

  /**
   * Sends what is queued once this turn of the event loop has read every socket that was ready (setImmediate runs
   * after the poll phase), not at the first write or the first moment the previous request is answered: the writes
   * that arrived in the same turn then share one request, and one fetch brings them back. No timer: a lone write
   * waits only for the rest of its own turn.
   */
  private flushAtTurnEnd(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const now = Date.now();
    const batch: PendingWrite[] = [];
    let bytes = 0;
    let taken = 0;
    while (taken < this.queue.length) {
      // A group (a lone write is a group of one) is sent whole or left for the next request, never split.
      const group = this.queue.slice(taken, taken + 1 + this.queue[taken]!.groupRest);
      const size = group.reduce((sum, w) => sum + w.key.length + (w.value?.length ?? 0), 0);
      if (batch.length > 0 && (bytes + size > MAX_BATCH_BYTES || batch.length + group.length > MAX_BATCH_RECORDS)) break;
      taken += group.length;
      if (group.some((w) => w.settled || w.deadline <= now)) {
        for (const write of group) this.fail(write, unavailable(this.options.produceTimeoutMs, 'it waited in the queue past its deadline'));
        continue;
      }
      for (const write of group) write.sent = true;
      batch.push(...group);
      bytes += size;
    }
    this.queue = this.queue.slice(taken);
    if (batch.length === 0) return;
    this.inFlight = true;
    void this.send(batch).finally(() => {
      this.inFlight = false;
      this.flushAtTurnEnd();
    });
  }

  private async send(batch: PendingWrite[]): Promise<void> {
    const latestDeadline = batch.reduce((max, w) => Math.max(max, w.deadline), 0);
    // Writes whose deadline passes while the request is out answer 503 at their deadline (their own timers); the
    // request goes on.
    const started = process.hrtime.bigint();
    const took = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      if (this.suspect) await this.renew();
      const results = await this.producer.send({
        topic: this.options.topic,
        acks: -1,
        timeout: Math.max(100, latestDeadline - Date.now()),
        messages: batch.map((w) => ({ key: w.key, value: w.value, partition: w.partition, timestamp: String(w.timestamp), headers: w.headers })),
      });
      const baseOffsets = new Map<number, number>();
      for (const result of results) baseOffsets.set(result.partition, Number(result.baseOffset));
      // Within one request, a partition's records are one batch with consecutive offsets, in the order sent.
      const nextIndex = new Map<number, number>();
      for (const write of batch) {
        const index = nextIndex.get(write.partition) ?? 0;
        nextIndex.set(write.partition, index + 1);
        const base = baseOffsets.get(write.partition);
        if (base === undefined) this.fail(write, new BitacoraError('INTERNAL', 'Kafka acknowledged the request without this partition'));
        else if (!write.settled) {
          write.settled = true;
          clearTimeout(write.timer);
          write.resolve({ partition: write.partition, offset: base + index });
        }
      }
      this.stats.requests++;
      this.stats.records += batch.length;
      this.options.onProduce?.(true, took());
    } catch (error) {
      this.suspect = true;
      this.stats.failures++;
      this.options.onProduce?.(false, took());
      this.options.logger.warn({ err: error, records: batch.length }, 'produce failed');
      for (const write of batch) this.fail(write, translateProduceError(error, this.options.produceTimeoutMs));
    }
  }

  private fail(write: PendingWrite, error: Error): void {
    if (write.settled) return;
    write.settled = true;
    clearTimeout(write.timer);
    write.reject(error);
  }
}

function unavailable(timeoutMs: number, why: string): BitacoraError {
  return new BitacoraError(
    'KAFKA_UNAVAILABLE',
    `the write was not acknowledged by Kafka within PRODUCE_TIMEOUT_MS (${timeoutMs} ms): ${why}; check the brokers in BROKER_LIST, then retry`,
  );
}

function translateProduceError(error: unknown, timeoutMs: number): BitacoraError {
  if (error instanceof KafkaJSProtocolError && error.type === 'MESSAGE_TOO_LARGE') {
    return new BitacoraError(
      'VALUE_TOO_LARGE',
      "the broker refused the record as too large: lower MAX_VALUE_BYTES below the topic's max.message.bytes, or raise that setting",
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return unavailable(timeoutMs, `Kafka refused or failed the request (${reason})`);
}
