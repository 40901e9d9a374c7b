import type { ChildProcess } from 'node:child_process';
import { withTimeout } from '../src/retry/retry';

type Closer = { readonly name: string; readonly close: () => Promise<unknown> };

/**
 * Everything the benchmark started, closed newest first, each within a timeout, exactly once. Child processes are
 * also remembered by pid, so that an exit without a cleanup (a second Ctrl-C) still SIGKILLs them.
 */
export class Resources {
  private readonly closers: Closer[] = [];
  private readonly children = new Map<ChildProcess, string>();
  private closingAll: Promise<void> | undefined;

  constructor(private readonly log: (line: string) => void = () => undefined) {
    process.once('exit', () => this.killChildrenNow());
  }

  /**
   * Registers `close` and returns a function that runs it now (once) and forgets it. After closeAll() has begun,
   * `close` runs at once and the caller gets an error, so nothing started late outlives the run.
   */
  add(name: string, close: () => Promise<unknown>): () => Promise<void> {
    if (this.closingAll) {
      void Promise.resolve()
        .then(close)
        .catch(() => undefined);
      throw new Error(`the run is stopping: ${name} was closed as soon as it started`);
    }
    let closed: Promise<void> | undefined;
    const closer: Closer = {
      name,
      close: () => {
        closed ??= Promise.resolve().then(close).then(() => undefined);
        return closed;
      },
    };
    this.closers.push(closer);
    return async () => {
      const index = this.closers.indexOf(closer);
      if (index >= 0) this.closers.splice(index, 1);
      await withTimeout(closer.close(), CLOSE_TIMEOUT_MS, `closing ${name}`);
    };
  }

  /** Remembers a child process, by name, for CPU accounting and for the last-resort SIGKILL at exit. */
  track(child: ChildProcess, name: string): void {
    if (this.closingAll && child.exitCode === null) child.kill('SIGKILL');
    this.children.set(child, name);
    child.once('exit', () => this.children.delete(child));
  }

  /** The tracked child processes still running. */
  processes(): { name: string; pid: number }[] {
    return [...this.children].flatMap(([child, name]) => (child.pid === undefined ? [] : [{ name, pid: child.pid }]));
  }

  /** Closes everything still registered, newest first; errors are logged, never thrown. */
  closeAll(): Promise<void> {
    this.closingAll ??= (async () => {
      while (this.closers.length > 0) {
        const closer = this.closers.pop()!;
        try {
          await withTimeout(closer.close(), CLOSE_TIMEOUT_MS, `closing ${closer.name}`);
        } catch (error) {
          this.log(`cleanup: ${closer.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      this.killChildrenNow();
    })();
    return this.closingAll;
  }

  private killChildrenNow(): void {
    for (const child of this.children.keys()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}

const CLOSE_TIMEOUT_MS = 60_000;
