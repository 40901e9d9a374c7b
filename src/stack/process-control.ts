import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { Logger } from '../logging/logger';
import { waitFor, WaitTimeoutError } from '../retry/retry';

/** After SIGKILL the kernel reaps at once; this only bounds the wait for a process stuck in uninterruptible I/O. */
const KILL_WAIT_MS = 5_000;
const PS_TIMEOUT_MS = 5_000;

/** True when a process with this pid exists (owned by anyone: EPERM still means it exists). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The argument vector of a running process: /proc on Linux, `ps` elsewhere; undefined when it is gone or unreadable. */
export async function processArguments(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.platform === 'linux') return undefined;
  }
  // No /proc (macOS): ps prints the command line space-joined, which is enough for whole-word matching.
  return new Promise((resolve) => {
    execFile('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { timeout: PS_TIMEOUT_MS }, (error, stdout) => {
      resolve(error || !stdout.trim() ? undefined : stdout.trim().split(/\s+/));
    });
  });
}

/**
 * Stops a process we do not hold a handle to: SIGTERM, up to `graceMs` for it to exit, then SIGKILL.
 * Resolves true when it is gone. The caller has checked the pid is ours just before.
 */
export async function terminatePid(pid: number, graceMs: number, logger: Logger, name: string): Promise<boolean> {
  if (!signal(pid, 'SIGTERM')) return true;
  if (await exitsWithin(pid, graceMs, `${name} (pid ${pid}) to exit after SIGTERM`)) return true;
  logger.warn({ pid, name, graceMs }, 'process ignored SIGTERM; sending SIGKILL');
  if (!signal(pid, 'SIGKILL')) return true;
  return exitsWithin(pid, KILL_WAIT_MS, `${name} (pid ${pid}) to exit after SIGKILL`);
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function exitsWithin(pid: number, timeoutMs: number, description: string): Promise<boolean> {
  try {
    await waitFor(() => !isPidAlive(pid), { timeoutMs, intervalMs: 100, description });
    return true;
  } catch (error) {
    if (error instanceof WaitTimeoutError) return false;
    throw error;
  }
}
