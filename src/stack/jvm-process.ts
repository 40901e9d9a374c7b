import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import type { Environment } from '../config/env-parsers';
import type { Logger } from '../logging/logger';
import { waitFor, WaitTimeoutError, withTimeout } from '../retry/retry';
import { readLogErrors, readLogTail } from './log-tail';
import { loggingJvmOptions, type StackLoggingConfig } from './log4j-config';
import { unwatchWithParent, watchWithParent } from './parent-watchdog';
import { StackError } from './stack-error';

/** After SIGKILL only a process stuck in uninterruptible I/O is still there; this bounds waiting for it. */
export const KILL_WAIT_MS = 5_000;
const TAIL_LINES = 10;
const ERROR_ENTRIES = 5;

/** Small-footprint flags shared by every JVM of the stack: the machine is small and shared with the tests. */
const COMMON_JVM_OPTIONS = ['-server', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true', '-Dfile.encoding=UTF-8'];

export type JvmProcessStatus = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface JvmProcessOptions {
  /** Short name used in logs and errors, e.g. "kafka". */
  readonly name: string;
  readonly java: string;
  readonly classpath: readonly string[];
  readonly mainClass: string;
  readonly args: readonly string[];
  /** Heap sizes and service-specific system properties. */
  readonly jvmOptions: readonly string[];
  /** Arguments that identify this process as ours on its command line (see stack-state.ts); the first names its stack. */
  readonly markers: readonly string[];
  /** The stack's logging configuration; it writes to `logFile`. */
  readonly logging: StackLoggingConfig;
  readonly logFile: string;
  /** stdout and stderr of the JVM (crashes, JVM warnings); normally almost empty. */
  readonly outFile: string;
  readonly cwd: string;
  /** Detached processes outlive this one; attached ones are killed when this process exits or dies (parent-watchdog.ts). */
  readonly detached: boolean;
  readonly env: Environment;
  readonly logger: Logger;
}

interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: Error;
}

/**
 * One run of one JVM child process of the stack: start(), waitUntilReady(), stop() or kill(); its status changes
 * only in setStatus(). A run starts once; a service that restarts makes a new JvmProcess per run (stack-server.ts).
 */
export class JvmProcess {
  private status: JvmProcessStatus = 'created';
  private child: ChildProcess | undefined;
  private exitInfo: ExitInfo | undefined;
  private exited: Promise<ExitInfo> = new Promise(() => undefined);
  private stopping: Promise<void> | undefined;
  /** Where this run's output starts in the (appended) log files, so errors of earlier runs are not reported as ours. */
  private logOffsets = { log: 0, out: 0 };

  constructor(private readonly options: JvmProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get currentStatus(): JvmProcessStatus {
    return this.status;
  }

  /** Spawns the JVM with its output going to files; throws if it cannot be spawned at all. */
  start(): void {
    if (this.status !== 'created') throw new Error(`${this.options.name} cannot start from status ${this.status}`);
    this.setStatus('starting');
    const { options } = this;
    const args = [
      ...COMMON_JVM_OPTIONS,
      ...options.jvmOptions,
      ...loggingJvmOptions(options.logging, options.logFile),
      ...options.markers,
      '-cp',
      options.classpath.join(':'),
      options.mainClass,
      ...options.args,
    ];
    this.logOffsets = { log: logSizeNow(options.logFile), out: logSizeNow(options.outFile) };
    const out = openSync(options.outFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(out, `\n--- ${new Date().toISOString()} starting ${options.name}: ${options.mainClass} ${options.args.join(' ')}\n`);
      // Attached JVMs get a process group of their own too: a terminal's Ctrl-C must reach only their parent, which
      // stops the nodes first and then the stack in order; the parent watchdog ends them if the parent dies instead.
      child = spawn(options.java, args, { cwd: options.cwd, env: { ...options.env }, stdio: ['ignore', out, out], detached: true });
    } finally {
      closeSync(out);
    }
    this.child = child;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
    }).then((info) => {
      this.exitInfo = info;
      attachedChildren.delete(child);
      if (!options.detached && child.pid !== undefined) unwatchWithParent(child.pid);
      // A detached process that is up is no longer this process's business; its exit is reported by `stack status`.
      if (this.status === 'starting' || (this.status === 'running' && !options.detached)) {
        this.options.logger.warn({ service: options.name, pid: child.pid, code: info.code, signal: info.signal }, 'stack process exited unexpectedly');
        this.setStatus('failed');
      }
      return info;
    });
    if (options.detached) child.unref();
    else {
      registerAttachedChild(child);
      if (child.pid !== undefined && options.markers[0]) watchWithParent(child.pid, options.markers[0]);
    }
    options.logger.debug({ service: options.name, pid: child.pid, detached: options.detached }, 'stack process spawned');
  }

  /**
   * Polls `check` until it returns true; fails at once, with the tail of the logs, if the process exits first,
   * and with StackError START_TIMEOUT after `timeoutMs`.
   */
  async waitUntilReady(check: () => Promise<boolean>, timeoutMs: number, description: string): Promise<void> {
    if (this.status !== 'starting') throw new Error(`${this.options.name} cannot become ready from status ${this.status}`);
    const done = new AbortController();
    const exitedEarly = this.exited.then(async (info) => {
      if (!done.signal.aborted) throw await this.failure('PROCESS_EXITED', `${this.options.name} exited (${describeExit(info)}) while starting`);
    });
    try {
      await Promise.race([waitFor(check, { timeoutMs, intervalMs: 250, description, signal: done.signal }), exitedEarly]);
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw await this.failure('START_TIMEOUT', error.message);
      throw error;
    } finally {
      done.abort();
      exitedEarly.catch(() => undefined);
    }
    this.setStatus('running');
  }

  /** SIGTERM, up to `graceMs` for a clean exit, then SIGKILL. Idempotent: a second call waits for the first. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.terminate(graceMs);
    return this.stopping;
  }

  /**
   * Sends `signal`. SIGKILL and SIGTERM end the run: resolves once the process has exited, and throws StackError
   * STOP_FAILED if it has not within `waitMs`. Other signals (SIGSTOP, SIGCONT, ...) are sent and not awaited.
   */
  async kill(signal: NodeJS.Signals, waitMs: number): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) return;
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') {
      child.kill(signal);
      return;
    }
    // Marked first, so the exit is not reported as unexpected.
    this.setStatus('stopping');
    child.kill(signal);
    if (signal === 'SIGTERM') child.kill('SIGCONT');
    if (!(await settlesWithin(this.exited, waitMs))) {
      throw new StackError('STOP_FAILED', `${this.options.name} (pid ${child.pid}) is still running ${waitMs} ms after ${signal}; check it with ps`);
    }
    attachedChildren.delete(child);
    this.setStatus('stopped');
  }

  private async terminate(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo) {
      this.setStatus('stopped');
      return;
    }
    this.setStatus('stopping');
    child.kill('SIGTERM');
    // A process a test paused (SIGSTOP) would only act on SIGTERM once continued; for a running one this is a no-op.
    child.kill('SIGCONT');
    if (!(await settlesWithin(this.exited, graceMs))) {
      this.options.logger.warn({ service: this.options.name, pid: child.pid, graceMs }, 'stack process ignored SIGTERM; sending SIGKILL');
      child.kill('SIGKILL');
      await settlesWithin(this.exited, KILL_WAIT_MS);
    }
    attachedChildren.delete(child);
    this.setStatus('stopped');
  }

  private async failure(code: 'PROCESS_EXITED' | 'START_TIMEOUT', headline: string): Promise<StackError> {
    const { logFile, outFile } = this.options;
    const offsets = this.logOffsets;
    const [errors, log, out] = await Promise.all([
      readLogErrors(logFile, ERROR_ENTRIES, offsets.log),
      readLogTail(logFile, TAIL_LINES, offsets.log),
      readLogTail(outFile, TAIL_LINES, offsets.out),
    ]);
    const sections = [`${headline}; logs in ${logFile} and ${outFile}`];
    if (errors) sections.push(`--- errors in ${logFile}:\n${errors}`);
    if (log) sections.push(`--- last lines of ${logFile}:\n${log}`);
    if (out) sections.push(`--- last lines of ${outFile}:\n${out}`);
    return new StackError(code, sections.join('\n'), { cause: this.exitInfo?.error });
  }

  private setStatus(next: JvmProcessStatus): void {
    if (next === this.status) return;
    this.options.logger.debug({ service: this.options.name, pid: this.child?.pid, from: this.status, to: next }, 'stack process status');
    this.status = next;
  }
}

function logSizeNow(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function describeExit(info: ExitInfo): string {
  if (info.error) return `could not run: ${info.error.message}`;
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  try {
    await withTimeout(promise, timeoutMs, 'process exit');
    return true;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return false;
    throw error;
  }
}

/** Attached children still running; killed when this process exits so a crashed test run leaves no JVM behind. */
const attachedChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function registerAttachedChild(child: ChildProcess): void {
  attachedChildren.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; SIGKILL is the one signal that needs no follow-up.
  process.once('exit', () => {
    for (const running of attachedChildren) running.kill('SIGKILL');
  });
}
