import assert from 'node:assert/strict';
import { backoffDelay, retry, waitFor, WaitTimeoutError } from '../../src/retry/retry';

describe('retry', () => {
  it('stops after maxAttempts and rethrows the last error', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      }, { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }),
      /fail 3/,
    );
    assert.equal(calls, 3);
  });

  it('never retries a programmer error', async () => {
    let calls = 0;
    await assert.rejects(
      retry(async () => {
        calls++;
        throw new TypeError('bug');
      }, { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 2 }),
      TypeError,
    );
    assert.equal(calls, 1);
  });

  it('keeps the jittered delay within [window/2, window] and the window capped', () => {
    assert.equal(backoffDelay(1, 100, 1_000, () => 0), 50);
    assert.equal(backoffDelay(1, 100, 1_000, () => 1), 100);
    assert.equal(backoffDelay(10, 100, 1_000, () => 1), 1_000);
  });

  it('waitFor names what it waited for when it times out', async () => {
    await assert.rejects(waitFor(() => false, { timeoutMs: 30, intervalMs: 5, description: 'the moon' }), (e: unknown) => e instanceof WaitTimeoutError && /the moon/.test(String(e)));
  });
});

describe('retry, aborted', () => {
  it('ends the wait at once when its signal aborts, makes no further attempt, and throws the last error', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const retrying = retry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      { maxAttempts: 100, initialDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(retrying, /fail 1/);
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 2_000, 'the wait outlived the abort');
  });
});
