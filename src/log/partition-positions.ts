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
  /** The newest high watermark seen in a fetch, for lag. */
  highWatermark: number;
  /** Waiters sorted by offset (writes are acknowledged in nearly increasing order, so inserts land at the end). */
  waiters: Waiter[];
}

/**
 * The node's applied position on each partition of the topic. It answers "is the node caught up?" (readiness)
 * and "has this node applied offset O yet?" (read-your-writes).
 */
export class PartitionPositions {
  private readonly partitions = new Map<number, PartitionState>();
  private readyListeners: Array<() => void> = [];
  private ready = false;

  /** Records where each partition starts and ends at the time the node starts; readiness is judged against these. */
  initialize(offsets: ReadonlyArray<{ partition: number; low: number; high: number }>): void {
    for (const { partition, low, high } of offsets) {
      const existing = this.partitions.get(partition);
      const state = existing ?? { position: low, endAtStart: high, highWatermark: high, waiters: [] };
      state.position = Math.max(state.position, low);
      state.endAtStart = high;
      state.highWatermark = Math.max(state.highWatermark, high);
      this.partitions.set(partition, state);
    }
    this.checkReady();
  }

  /** The next offset to apply on `partition` (0 for a partition never seen). */
  position(partition: number): number {
    return this.partitions.get(partition)?.position ?? 0;
  }

  /** Moves a partition's position forward (never back) and wakes the writers waiting for it. */
  advance(partition: number, nextOffset: number, highWatermark?: number): void {
    let state = this.partitions.get(partition);
    if (!state) {
      // A partition added after start: it was not part of the start-up catch-up.
      state = { position: 0, endAtStart: 0, highWatermark: 0, waiters: [] };
      this.partitions.set(partition, state);
    }
    if (highWatermark !== undefined && highWatermark > state.highWatermark) state.highWatermark = highWatermark;
    if (nextOffset <= state.position) return;
    state.position = nextOffset;
    if (state.highWatermark < nextOffset) state.highWatermark = nextOffset;
    let released = 0;
    while (released < state.waiters.length && state.waiters[released].offset < nextOffset) {
      const waiter = state.waiters[released++];
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    if (released > 0) state.waiters.splice(0, released);
    if (!this.ready) this.checkReady();
  }

  /** Resolves once `offset` of `partition` has been applied; rejects with APPLY_TIMEOUT after `timeoutMs`. */
  waitForApplied(partition: number, offset: number, timeoutMs: number): Promise<void> {
    if (this.position(partition) > offset) return Promise.resolve();
    let state = this.partitions.get(partition);
    if (!state) {
      state = { position: 0, endAtStart: 0, highWatermark: 0, waiters: [] };
      this.partitions.set(partition, state);
    }
    const waiters = state.waiters;
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

  /** The highest end offset this node knows for `partition`: the one at start, or a newer one seen in a fetch. */
  knownEnd(partition: number): number {
    const state = this.partitions.get(partition);
    return state ? Math.max(state.endAtStart, state.highWatermark) : 0;
  }

  /** True when this node has applied `partition` up to every end offset it knows of. */
  isCaughtUp(partition: number): boolean {
    return this.partitions.has(partition) && this.position(partition) >= this.knownEnd(partition);
  }

  /** True once every partition found at start has been read up to the end offset it had then. */
  isReady(): boolean {
    return this.ready;
  }

  /** Calls `listener` once, when the node becomes ready (at once if it already is). */
  onReady(listener: () => void): void {
    if (this.ready) listener();
    else this.readyListeners.push(listener);
  }

  /** Per partition: applied position, end offset at start, newest high watermark and lag. */
  snapshot(): Array<{ partition: number; position: number; endAtStart: number; highWatermark: number; lag: number }> {
    return [...this.partitions.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, s]) => ({
        partition,
        position: s.position,
        endAtStart: s.endAtStart,
        highWatermark: s.highWatermark,
        lag: Math.max(0, s.highWatermark - s.position),
      }));
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

  private checkReady(): void {
    if (this.ready || this.partitions.size === 0) return;
    for (const state of this.partitions.values()) if (state.position < state.endAtStart) return;
    this.ready = true;
    const listeners = this.readyListeners;
    this.readyListeners = [];
    for (const listener of listeners) listener();
  }
}
