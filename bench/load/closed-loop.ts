import { createHistogram, performance } from 'node:perf_hooks';
import { errorRatio, ratePerSecond, summarizeHistogram } from '../stats';
import type { ClosedLoopResult, ClosedLoopSpec, PhaseListener } from './load-spec';
import type { Operation } from './operations';

/** A load run that must not be reported: requests failed beyond the threshold, or nothing completed. */
export class LoadFailedError extends Error {
  override name = 'LoadFailedError';
}

/** Failures are judged only once this many have happened, so one early hiccup does not end a run by itself. */
const MIN_FAILURES_TO_ABORT = 10;
const MAX_ERROR_SAMPLES = 5;

/**
 * Runs `operation` with `spec.concurrency` requests always in flight: each worker sends its next request as soon
 * as the previous one is answered. Nothing is recorded during the warm-up; afterwards every request that completes
 * inside the measured window is counted and its latency recorded (nanoseconds, 3 significant figures). Throws
 * LoadFailedError when more than `maxErrorRatio` of the requests failed (warm-up included) or none completed, so
 * a broken scenario can never report a number.
 */
export async function runClosedLoop(spec: ClosedLoopSpec, operation: Operation, onPhase: PhaseListener = () => undefined): Promise<ClosedLoopResult> {
  validate(spec);
  const histogram = createHistogram({ lowest: 1, highest: 3_600_000_000_000, figures: 3 });
  let phase: 'warmup' | 'measure' | 'done' = spec.warmupMs > 0 ? 'warmup' : 'measure';
  let windowStart = phase === 'measure' ? performance.now() : 0;
  if (phase === 'measure') onPhase('measure');
  let windowEnd = 0;
  let succeeded = 0;
  let completed = 0;
  let failed = 0;
  const samples: string[] = [];
  let abort: LoadFailedError | undefined;

  const describeFailures = (): string =>
    `${failed} of ${succeeded + failed} requests failed (more than ${(spec.maxErrorRatio * 100).toFixed(2)}% allowed); first errors: ${samples.join(' | ')}`;

  const phaseTimers: NodeJS.Timeout[] = [];
  const ended = new Promise<void>((resolve) => {
    if (phase === 'warmup') {
      phaseTimers.push(
        setTimeout(() => {
          phase = 'measure';
          windowStart = performance.now();
          onPhase('measure');
        }, spec.warmupMs),
      );
    }
    phaseTimers.push(
      setTimeout(() => {
        phase = 'done';
        windowEnd = performance.now();
        onPhase('done');
        resolve();
      }, spec.warmupMs + spec.durationMs),
    );
  });

  const worker = async (index: number): Promise<void> => {
    while (phase !== 'done' && !abort) {
      const started = process.hrtime.bigint();
      try {
        await operation.execute(index);
        succeeded++;
        if (phase === 'measure') {
          histogram.record(process.hrtime.bigint() - started || 1n);
          completed++;
        }
      } catch (error) {
        failed++;
        if (samples.length < MAX_ERROR_SAMPLES) samples.push(error instanceof Error ? error.message : String(error));
        if (failed >= MIN_FAILURES_TO_ABORT && errorRatio(succeeded, failed) > spec.maxErrorRatio) abort ??= new LoadFailedError(describeFailures());
      }
    }
  };

  const workers = Array.from({ length: spec.concurrency }, (_, index) => worker(index));
  const allDone = Promise.all(workers);
  // The run ends when its time is up or it is aborted; the requests then in flight get their timeout to finish.
  await Promise.race([ended, allDone]);
  const drained = await Promise.race([
    allDone.then(() => true),
    new Promise<false>((resolve) => phaseTimers.push(setTimeout(() => resolve(false), spec.requestTimeoutMs + 2_000))),
  ]);
  for (const timer of phaseTimers) clearTimeout(timer);
  if (abort) throw abort;
  if (!drained) throw new LoadFailedError(`requests still unanswered ${spec.requestTimeoutMs + 2_000} ms after the run ended`);
  if (errorRatio(succeeded, failed) > spec.maxErrorRatio) throw new LoadFailedError(describeFailures());
  if (completed === 0) {
    throw new LoadFailedError(`no request completed in the ${spec.durationMs} ms measured window${samples.length ? `; errors: ${samples.join(' | ')}` : ''}`);
  }
  await operation.verify();
  const windowMs = windowEnd - windowStart;
  return {
    job: 'closed-loop',
    operation: spec.operation.kind,
    concurrency: spec.concurrency,
    windowMs,
    completed,
    failed,
    attempted: succeeded + failed,
    opsPerSecond: ratePerSecond(completed, windowMs),
    latency: summarizeHistogram(histogram),
    errorSamples: samples,
  };
}

function validate(spec: ClosedLoopSpec): void {
  if (!Number.isSafeInteger(spec.concurrency) || spec.concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${spec.concurrency}`);
  if (!(spec.durationMs > 0)) throw new RangeError(`the measured duration must be positive, got ${spec.durationMs} ms`);
  if (!(spec.warmupMs >= 0)) throw new RangeError(`the warm-up must be >= 0 ms, got ${spec.warmupMs}`);
  if (!(spec.maxErrorRatio >= 0 && spec.maxErrorRatio < 1)) throw new RangeError(`maxErrorRatio must be in [0, 1), got ${spec.maxErrorRatio}`);
}
