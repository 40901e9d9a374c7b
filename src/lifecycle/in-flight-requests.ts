/** Counts requests under way so a stop can wait, boundedly, for them to finish. */
export class InFlightRequests {
  private count = 0;
  private waiting: Array<() => void> = [];

  started(): void {
    this.count++;
  }

  finished(): void {
    if (--this.count > 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves true when none is in flight, or false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
