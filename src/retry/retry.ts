/** Options of the one retry primitive: bounded attempts, bounded total time, jittered exponential backoff. */
export interface RetryOptions {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts after this much time has passed since the first. */
  maxElapsedMs?: number;
  /** Decides whether an error is worth another attempt; programmer errors never are. */
  isRetriable?: (error: unknown) => boolean;
  /** Aborts the retrying (for example on stop): the wait under way ends at once, no attempt follows, the last error is thrown. */
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** True for errors that mean a bug rather than a passing condition, which no retry can fix. */
export function isProgrammerError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError || error instanceof ReferenceError;
}

/** The delay before attempt `attempt + 1`: full jitter over an exponentially growing, capped window. */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const window = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(window / 2 + (random() * window) / 2);
}

/** Runs `operation` until it succeeds or a bound is hit; the last error is rethrown. */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  const isRetriable = options.isRetriable ?? ((error: unknown) => !isProgrammerError(error));
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const delayMs = backoffDelay(attempt, options.initialDelayMs, options.maxDelayMs);
      const outOfTime = options.maxElapsedMs !== undefined && Date.now() - started + delayMs > options.maxElapsedMs;
      if (attempt >= options.maxAttempts || outOfTime || !isRetriable(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
      // Aborted while waiting (a stop): no further attempt, the last error stands.
      if (options.signal?.aborted) throw error;
    }
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Thrown by `waitFor` when its condition did not hold in time; the message says what was awaited. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/**
 * Polls `condition` until it returns a truthy value, which it resolves with, or fails after `timeoutMs`.
 * For conditions no event announces (a port that starts answering); an error thrown by the condition counts as "not yet".
 */
export async function waitFor<T>(
  condition: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { timeoutMs: number; intervalMs?: number; description: string; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (options.signal?.aborted) throw new WaitTimeoutError(`aborted while waiting for ${options.description}`);
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new WaitTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await sleep(options.intervalMs ?? 100, options.signal);
  }
}

/** Rejects with WaitTimeoutError if `promise` does not settle within `timeoutMs`; the timer never outlives it. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms: ${description}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
