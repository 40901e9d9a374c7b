import type { JvmProcess, JvmProcessStatus } from './jvm-process';
import { KILL_WAIT_MS } from './jvm-process';
import type { StackService } from './stack-service';
import { createStackJvm, type StackJvmOptions, type StackJvmProgram } from './stack-jvm';
import type { StackServiceName } from './stack-state';

/** Statuses in which a run holds (or is about to hold) the server's ports and data. */
const ACTIVE: readonly JvmProcessStatus[] = ['created', 'starting', 'running', 'stopping'];

/**
 * A stack server that can be stopped, killed and started again on the same ports and data: each start() is a
 * fresh JvmProcess run. Subclasses say what to write before a run (prepare) and how to tell it answers (probe).
 */
export abstract class StackServer implements StackService {
  private run: JvmProcess | undefined;
  private starting = false;
  /** Aborted by stop()/kill() so a start still preparing never spawns afterwards. */
  private abandon = new AbortController();

  protected constructor(
    readonly name: StackServiceName,
    protected readonly jvm: StackJvmOptions,
    private readonly stopGraceMs: number,
  ) {}

  get pid(): number | undefined {
    return this.run && this.isActive(this.run) ? this.run.pid : undefined;
  }

  /** Writes what the run needs (config files, storage), spawns the JVM and resolves once probe() says it answers. */
  async start(timeoutMs: number = this.jvm.startTimeoutMs): Promise<void> {
    if (this.starting || (this.run && this.isActive(this.run))) {
      throw new Error(`${this.name} is already running${this.pid ? ` (pid ${this.pid})` : ''}: stop() or kill() it first`);
    }
    this.starting = true;
    const abandon = new AbortController();
    this.abandon = abandon;
    try {
      const deadline = Date.now() + timeoutMs;
      const program = await this.prepare(timeoutMs);
      if (abandon.signal.aborted) throw new Error(`${this.name} start abandoned: stop() was called`);
      const run = createStackJvm(this.jvm, this.name, program);
      this.run = run;
      try {
        run.start();
        await run.waitUntilReady(() => this.probe(), Math.max(0, deadline - Date.now()), this.readiness());
      } catch (error) {
        // A run that never answered is stopped here, so it holds no port or data lock when start() is tried again.
        await run.stop(this.stopGraceMs).catch(() => undefined);
        throw error;
      }
    } finally {
      this.starting = false;
    }
  }

  /** SIGTERM, a bounded grace, then SIGKILL; idempotent for a run. */
  stop(): Promise<void> {
    this.abandon.abort();
    return this.run?.stop(this.stopGraceMs) ?? Promise.resolve();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.abandon.abort();
    return this.run?.kill(signal, signal === 'SIGKILL' ? KILL_WAIT_MS : this.stopGraceMs) ?? Promise.resolve();
  }

  /** Prepares a run and says what it runs; `timeoutMs` bounds any tool it runs first. */
  protected abstract prepare(timeoutMs: number): Promise<StackJvmProgram>;
  /** True once this server answers; an error counts as "not yet". */
  protected abstract probe(): Promise<boolean>;
  /** What start() waits for, for its timeout message. */
  protected abstract readiness(): string;

  private isActive(run: JvmProcess): boolean {
    return ACTIVE.includes(run.currentStatus);
  }
}
