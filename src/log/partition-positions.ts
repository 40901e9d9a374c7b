import { BitacoraError } from '../errors/bitacora-error';

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface PartitionState {
  /** The next offset to apply: every record below it has been applied (or skipped). */
  position: number;
  /** The end offset found at start; the node is caught up on this partition once position reaches it. */
  endAtStart: number;
  /** The partition's end as the broker last reported it (the last stable offset: what a read_committed consumer can reach). */
  end: number;
  /** When `end` was read. */
  endAt: number;
  /** Every record written before this time has been applied: when the newest end the position has reached was read. */
  readUpTo: number;
  /** Whether a record of this partition has been applied since start: until then the map holds nothing of it. */
  started: boolean;
  /** Since when the broker's end has been above a position that has not moved; undefined while nothing waits or it moves. */
  waitingSince: number | undefined;
  /** The partition stayed behind longer than the topic's delete.retention.ms: it may have missed deletes. */
  deletesMaybeMissed: boolean;
  /** Waiters sorted by offset (writes are acknowledged in nearly increasing order, so inserts land at the end). */
  waiters: Waiter[];
}

/** Why the apply path does not follow the log (see LogConsumer); cleared once it does again. */
export interface ApplyFailure {
  readonly kind: 'apply_error' | 'consumer_crash' | 'stall';
  readonly reason: string;
  /** Epoch ms. */
  readonly since: number;
  readonly partition?: number;
}

/** A partition whose position has not moved for a while although the broker holds records past it. */
export interface StalledPartition {
  readonly partition: number;
  readonly position: number;
  readonly end: number;
  readonly waitingMs: number;
}

/**
 * The node's applied position on each partition of the topic, and the partition's end as the broker reports it.
 * It answers "is the node caught up?" (readiness), "has this node applied offset O yet?" (read-your-writes), "how far
 * behind is it?" (lag), "has a partition stopped moving?" (stalls) and "may it have missed a delete?" (a partition
 * that stayed behind longer than the topic's delete.retention.ms, after which Kafka may remove tombstones).
 */
export class PartitionPositions {
  private readonly partitions = new Map<number, PartitionState>();
  private readyListeners: Array<() => void> = [];
  private ready = false;
  private applyFailure: ApplyFailure | undefined;
  private deleteRetention: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Records where each partition starts and ends at the time the node starts; readiness is judged against these. */
  initialize(offsets: ReadonlyArray<{ partition: number; low: number; high: number }>): void {
    const now = this.now();
    for (const { partition, low, high } of offsets) {
      const state = this.state(partition);
      state.position = Math.max(state.position, low);
      state.endAtStart = high;
      state.end = Math.max(state.end, high);
      state.endAt = now;
      state.readUpTo = now;
    }
    this.checkReady();
  }

  /** The topic's delete.retention.ms, read at start: how long Kafka keeps a tombstone once the cleaner has seen it. */
  setDeleteRetention(ms: number): void {
    this.deleteRetention = ms;
  }

  get deleteRetentionMs(): number | undefined {
    return this.deleteRetention;
  }

  /** The next offset to apply on `partition` (0 for a partition never seen). */
  position(partition: number): number {
    return this.partitions.get(partition)?.position ?? 0;
  }

  /** Moves a partition's position forward (never back) and wakes the writers waiting for it. */
  advance(partition: number, nextOffset: number): void {
    const state = this.state(partition);
    if (nextOffset <= state.position) return;
    const wasBehind = state.position < state.end;
    if (!state.started) {
      // The map held nothing of this partition until now, so no delete written before now can be missing from it.
      state.started = true;
      state.readUpTo = Math.max(state.readUpTo, this.now());
    }
    state.position = nextOffset;
    state.waitingSince = undefined;
    if (wasBehind && nextOffset >= state.end) this.caughtUp(state, state.endAt);
    let released = 0;
    while (released < state.waiters.length && state.waiters[released].offset < nextOffset) {
      const waiter = state.waiters[released++];
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    if (released > 0) state.waiters.splice(0, released);
    if (!this.ready) this.checkReady();
  }

  /** Records the partition's end as the broker reports it now (asked on a timer: see EndOffsetsPoller). */
  observeEnd(partition: number, end: number): void {
    const state = this.state(partition);
    const now = this.now();
    state.end = end;
    state.endAt = now;
    if (state.position >= end) {
      this.caughtUp(state, now);
    } else {
      state.waitingSince ??= now;
      this.checkDeletes(state, now);
    }
  }

  /** Resolves once `offset` of `partition` has been applied; rejects with APPLY_TIMEOUT after `timeoutMs`. */
  waitForApplied(partition: number, offset: number, timeoutMs: number): Promise<void> {
    if (this.position(partition) > offset) return Promise.resolve();
    const waiters = this.state(partition).waiters;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { offset, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        const index = waiters.indexOf(waiter);
        if (index >= 0) waiters.splice(index, 1);
        reject(
          new BitacoraError(
            'APPLY_TIMEOUT',
            `Kafka acknowledged the write at partition ${partition} offset ${offset}, but this node did not apply it within APPLY_TIMEOUT_MS (${timeoutMs} ms); it is durable and will appear once the node catches up`,
            { partition, offset },
          ),
        );
      }, timeoutMs);
      let index = waiters.length;
      while (index > 0 && waiters[index - 1].offset > offset) index--;
      waiters.splice(index, 0, waiter);
    });
  }

  /** The partition's end as the broker last reported it (at start, or since on the timer). */
  knownEnd(partition: number): number {
    return this.partitions.get(partition)?.end ?? 0;
  }

  /** True when this node has applied `partition` up to its known end, and its apply path works. */
  isCaughtUp(partition: number): boolean {
    return this.applyFailure === undefined && this.reachedEnd(partition);
  }

  /** True when the position has reached the known end, whatever the apply path's state. */
  reachedEnd(partition: number): boolean {
    const state = this.partitions.get(partition);
    return state !== undefined && state.position >= state.end;
  }

  /**
   * True once every partition found at start has been read up to the end offset it had then, while the apply path
   * works: a node whose apply path failed cannot tell an absent key from one it has not applied.
   */
  isReady(): boolean {
    return this.ready && this.applyFailure === undefined;
  }

  /** True once every partition found at start has been read up to the end offset it had then (it stays true). */
  isLoaded(): boolean {
    return this.ready;
  }

  /** Calls `listener` once, when the node has loaded the topic (at once if it already has). */
  onReady(listener: () => void): void {
    if (this.ready) listener();
    else this.readyListeners.push(listener);
  }

  /** Marks the apply path failed: the node is not ready and no local absence is definite until clearFailure(). */
  markFailed(failure: ApplyFailure): void {
    this.applyFailure = failure;
  }

  clearFailure(): void {
    this.applyFailure = undefined;
  }

  get failure(): ApplyFailure | undefined {
    return this.applyFailure;
  }

  /** Partitions whose position has not moved for `timeoutMs` or more while the broker's end was above it. */
  stalled(timeoutMs: number): StalledPartition[] {
    const now = this.now();
    const stalled: StalledPartition[] = [];
    for (const [partition, s] of this.partitions) {
      if (s.waitingSince !== undefined && s.position < s.end && now - s.waitingSince >= timeoutMs) {
        stalled.push({ partition, position: s.position, end: s.end, waitingMs: now - s.waitingSince });
      }
    }
    return stalled;
  }

  /** Partitions that stayed behind longer than the topic's delete.retention.ms since the node started. */
  deletesMaybeMissed(): number[] {
    return [...this.partitions.entries()].filter(([, s]) => s.deletesMaybeMissed).map(([partition]) => partition).sort((a, b) => a - b);
  }

  /** Per partition: applied position, end offset at start, the broker's end and lag. */
  snapshot(): Array<{ partition: number; position: number; endAtStart: number; end: number; lag: number }> {
    return [...this.partitions.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, s]) => ({ partition, position: s.position, endAtStart: s.endAtStart, end: s.end, lag: Math.max(0, s.end - s.position) }));
  }

  /** Fails every pending waiter (on stop), so no request hangs. */
  rejectAll(error: Error): void {
    for (const state of this.partitions.values()) {
      for (const waiter of state.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(error);
      }
      state.waiters = [];
    }
  }

  private state(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      // A partition added after start (or a waiter ahead of the first fetch): it was not part of the start-up catch-up.
      const now = this.now();
      state = { position: 0, endAtStart: 0, end: 0, endAt: now, readUpTo: now, started: false, waitingSince: undefined, deletesMaybeMissed: false, waiters: [] };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /** The position reached an end read at `endAt`: every record written before then has been applied. */
  private caughtUp(state: PartitionState, endAt: number): void {
    this.checkDeletes(state, this.now());
    state.readUpTo = Math.max(state.readUpTo, endAt);
    state.waitingSince = undefined;
  }

  /**
   * A tombstone is removed no sooner than delete.retention.ms after the cleaner first passes it, which is after it
   * was written (and after the value it deletes was removed, so after the node read that value, if it did), which
   * is after `readUpTo` if the node has not applied it. So a partition can have missed a delete only if it has
   * stayed behind for longer than delete.retention.ms since `readUpTo`. A partition the node has applied nothing of
   * holds no value a missed delete could leave behind.
   */
  private checkDeletes(state: PartitionState, now: number): void {
    if (this.deleteRetention !== undefined && state.started && now - state.readUpTo > this.deleteRetention) state.deletesMaybeMissed = true;
  }

  private checkReady(): void {
    if (this.ready || this.partitions.size === 0) return;
    for (const state of this.partitions.values()) if (state.position < state.endAtStart) return;
    this.ready = true;
    const listeners = this.readyListeners;
    this.readyListeners = [];
    for (const listener of listeners) listener();
  }
}
