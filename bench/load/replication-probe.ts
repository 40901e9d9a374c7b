import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { benchKey, benchValue } from '../keys';
import { errorRatio, ratePerSecond, summarizeSamples } from '../stats';
import { LoadFailedError } from './closed-loop';
import type { PhaseListener, ReplicationResult, ReplicationSpec } from './load-spec';

interface PendingWrite {
  readonly partition: number;
  readonly offset: number;
  readonly ackAt: number;
  readonly measured: boolean;
  /** When each observer was first seen to have applied it (ms, performance.now()). */
  readonly seenAt: (number | undefined)[];
}

interface Observer {
  readonly url: string;
  readonly pool: Pool;
  polls: number;
  firstAnswerAt: number;
  lastAnswerAt: number;
  roundTripTotalMs: number;
}

const MAX_ERROR_SAMPLES = 5;

/**
 * Writes to one node at a steady rate and times each acknowledged write until every observer node has applied it.
 * "Applied" is read from the observers' /health/ready, whose per-partition `position` passes a record's offset
 * once the record is in the map (docs/architecture.md): one poll answers for every write in flight, so the
 * observers serve only a few hundred cheap requests a second instead of one lookup per write and poll.
 * A write counts as seen at the arrival of the first poll answer that shows it: an upper bound, at most one
 * poll period plus one round trip late, and both are reported.
 */
export async function runReplication(spec: ReplicationSpec, onPhase: PhaseListener = () => undefined): Promise<ReplicationResult> {
  if (!(spec.ratePerSecond > 0)) throw new RangeError(`the write rate must be positive, got ${spec.ratePerSecond}`);
  if (spec.observerUrls.length === 0) throw new RangeError('replication needs at least one observer node');
  const writer = new Pool(spec.writeUrl, {
    connections: spec.maxInFlight,
    pipelining: 1,
    headersTimeout: spec.requestTimeoutMs,
    bodyTimeout: spec.requestTimeoutMs,
    connect: { timeout: spec.requestTimeoutMs },
  });
  const observers: Observer[] = spec.observerUrls.map((url) => ({
    url,
    pool: new Pool(url, { connections: 1, pipelining: 1, headersTimeout: spec.requestTimeoutMs, bodyTimeout: spec.requestTimeoutMs }),
    polls: 0,
    firstAnswerAt: 0,
    lastAnswerAt: 0,
    roundTripTotalMs: 0,
  }));
  const tag = Math.random().toString(36).slice(2, 8);
  const pending = new Set<PendingWrite>();
  const replicationMs: number[] = [];
  const ackMs: number[] = [];
  const samples: string[] = [];
  let failed = 0;
  let acknowledged = 0;
  let inFlight = 0;
  let issued = 0;
  let stopPolling = false;
  let fatal: Error | undefined;

  const fail = (message: string): void => {
    failed++;
    if (samples.length < MAX_ERROR_SAMPLES) samples.push(message);
  };

  const start = performance.now();
  const windowStart = start + spec.warmupMs;
  const windowEnd = windowStart + spec.durationMs;

  const write = async (sequence: number): Promise<void> => {
    const key = benchKey(spec.keyPrefix, sequence);
    const sentAt = performance.now();
    try {
      const { statusCode, body } = await writer.request({ method: 'POST', path: `/rpc?key=${key}&value=${benchValue(key, tag)}` });
      const text = await body.text();
      const ackAt = performance.now();
      if (statusCode !== 200) return fail(`POST /rpc?key=${key} answered ${statusCode}: ${text.slice(0, 200)}`);
      const { partition, offset } = JSON.parse(text) as { partition: number; offset: number };
      acknowledged++;
      const measured = ackAt >= windowStart && ackAt <= windowEnd;
      if (measured) ackMs.push(ackAt - sentAt);
      pending.add({ partition, offset, ackAt, measured, seenAt: observers.map(() => undefined) });
    } catch (error) {
      fail(`POST /rpc?key=${key}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      inFlight--;
    }
  };

  const poll = async (index: number): Promise<void> => {
    const observer = observers[index]!;
    while (!stopPolling) {
      const sentAt = performance.now();
      let positions: Map<number, number>;
      try {
        const { body } = await observer.pool.request({ method: 'GET', path: '/health/ready' });
        const report = (await body.json()) as { partitions?: { partition: number; position: number }[] };
        positions = new Map((report.partitions ?? []).map((p) => [p.partition, p.position]));
      } catch (error) {
        fatal ??= new LoadFailedError(`polling ${observer.url}/health/ready failed: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      const answeredAt = performance.now();
      if (observer.polls === 0) observer.firstAnswerAt = answeredAt;
      observer.polls++;
      observer.lastAnswerAt = answeredAt;
      observer.roundTripTotalMs += answeredAt - sentAt;
      for (const pendingWrite of pending) {
        if (pendingWrite.seenAt[index] !== undefined) continue;
        if ((positions.get(pendingWrite.partition) ?? -1) > pendingWrite.offset) {
          pendingWrite.seenAt[index] = answeredAt;
          if (pendingWrite.seenAt.every((seen) => seen !== undefined)) {
            pending.delete(pendingWrite);
            if (pendingWrite.measured) replicationMs.push(Math.max(...(pendingWrite.seenAt as number[])) - pendingWrite.ackAt);
          }
        }
      }
      const wait = sentAt + spec.pollIntervalMs - performance.now();
      if (wait >= 1) await delay(wait);
    }
  };

  const phaseTimers = [
    setTimeout(() => onPhase('measure'), spec.warmupMs),
    setTimeout(() => onPhase('done'), spec.warmupMs + spec.durationMs),
  ];
  const pollers = observers.map((_, index) => poll(index));
  const writes: Promise<void>[] = [];
  try {
    // Steady rate: each tick issues the writes due by now; when maxInFlight is reached, the rest wait for a slot.
    while (performance.now() < windowEnd && !fatal) {
      const due = Math.floor(((performance.now() - start) * spec.ratePerSecond) / 1000);
      while (issued < due && inFlight < spec.maxInFlight) {
        inFlight++;
        writes.push(write(issued++));
      }
      if (failed >= 10 && errorRatio(acknowledged, failed) > spec.maxErrorRatio) break;
      await delay(1);
    }
    await settledWithin(Promise.all(writes), spec.requestTimeoutMs + 2_000);
    // The measured writes get replicationTimeoutMs to reach every observer.
    const deadline = performance.now() + spec.replicationTimeoutMs;
    while (!fatal && performance.now() < deadline && [...pending].some((p) => p.measured)) await delay(5);
  } finally {
    for (const timer of phaseTimers) clearTimeout(timer);
    stopPolling = true;
    await settledWithin(Promise.allSettled(pollers), spec.requestTimeoutMs + 2_000);
    await Promise.all([writer.destroy(), ...observers.map((observer) => observer.pool.destroy())]);
  }
  if (fatal) throw fatal;
  const lost = [...pending].filter((p) => p.measured).length;
  for (let i = 0; i < lost; i++) fail(`an acknowledged write was not applied by every observer within ${spec.replicationTimeoutMs} ms`);
  if (errorRatio(acknowledged, failed) > spec.maxErrorRatio) {
    throw new LoadFailedError(`${failed} of ${acknowledged + failed - lost} writes failed or did not replicate; first errors: ${samples.join(' | ')}`);
  }
  if (replicationMs.length === 0) throw new LoadFailedError(`no write was acknowledged and replicated in the ${spec.durationMs} ms measured window`);
  const pollPeriods = observers.map((o) => (o.polls > 1 ? (o.lastAnswerAt - o.firstAnswerAt) / (o.polls - 1) : NaN));
  return {
    job: 'replication',
    windowMs: spec.durationMs,
    writesMeasured: replicationMs.length,
    failed,
    achievedWritesPerSecond: ratePerSecond(ackMs.length, spec.durationMs),
    replication: summarizeSamples(replicationMs),
    ack: summarizeSamples(ackMs),
    pollPeriodMs: pollPeriods.reduce((a, b) => a + b, 0) / pollPeriods.length,
    pollRoundTripMs: observers.reduce((sum, o) => sum + o.roundTripTotalMs, 0) / Math.max(1, observers.reduce((sum, o) => sum + o.polls, 0)),
    errorSamples: samples,
  };
}

/** Waits for `promise` to settle, at most `ms`; the timer never outlives the wait (it would hold the process open). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
