import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger';

/**
 * A component's status: a string union changed only through set(), which logs `from -> to` and emits `change`
 * (ioredis's setStatus). Listeners wait for a status rather than poll or sleep.
 */
export class Status<S extends string> extends EventEmitter {
  constructor(
    private current: S,
    private readonly logger: Logger,
    /** Names the component in the log line: "<component> status". */
    private readonly component: string,
  ) {
    super();
  }

  get value(): S {
    return this.current;
  }

  /** Moves to `next` (nothing when already there), logs it, and emits `change` with (next, previous). */
  set(next: S): void {
    const previous = this.current;
    if (next === previous) return;
    this.logger.info({ from: previous, to: next }, `${this.component} status`);
    this.current = next;
    this.emit('change', next, previous);
  }

  onChange(listener: (next: S, previous: S) => void): void {
    this.on('change', listener);
  }
}
