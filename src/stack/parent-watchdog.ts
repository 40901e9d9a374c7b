import { type ChildProcess, spawn } from 'node:child_process';

/** How long the watchdog gives a JVM between SIGTERM and SIGKILL once the parent is gone. */
export const WATCHDOG_GRACE_MS = 5_000;

/**
 * The watchdog's program, run by this same Node binary. It reads lines on stdin: `+<pid> <marker>` to watch a
 * process, `-<pid>` to forget it. When stdin ends, which the kernel makes happen however the parent died (SIGKILL,
 * a closed terminal, a crash), it sends SIGTERM to every watched process whose command line still carries its
 * marker (so a reused pid is never hit), SIGKILL to those still there after the grace, and exits.
 */
const WATCHDOG_SCRIPT = `
const fs = require('node:fs');
const watched = new Map();
let pending = '';
const ours = (pid, marker) => {
  try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0').includes(marker); }
  catch { try { process.kill(pid, 0); return process.platform !== 'linux'; } catch { return false; } }
};
const signal = (name) => { for (const [pid, marker] of watched) if (ours(pid, marker)) { try { process.kill(pid, name); } catch {} } };
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let end;
  while ((end = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, end); pending = pending.slice(end + 1);
    const space = line.indexOf(' ');
    if (line[0] === '+' && space > 0) watched.set(Number(line.slice(1, space)), line.slice(space + 1));
    else if (line[0] === '-') watched.delete(Number(line.slice(1)));
  }
});
process.stdin.on('close', () => {
  if (watched.size === 0) process.exit(0);
  signal('SIGTERM');
  const deadline = Date.now() + Number(process.argv[1]);
  const timer = setInterval(() => {
    for (const [pid, marker] of watched) if (!ours(pid, marker)) watched.delete(pid);
    if (watched.size === 0) process.exit(0);
    if (Date.now() >= deadline) { signal('SIGKILL'); process.exit(0); }
  }, 100);
});
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
`;

let watchdog: ChildProcess | undefined;

/**
 * Makes sure `pid` dies with this process: the JVMs of an attached stack run in a process group of their own (so a
 * terminal's Ctrl-C reaches only this process, which stops them in order), and this watchdog ends them when this
 * process dies without doing so. `marker` is an argument of the JVM's command line that identifies it.
 */
export function watchWithParent(pid: number, marker: string): void {
  const stdin = ensureWatchdog();
  stdin?.write(`+${pid} ${marker}\n`);
}

/** Forgets `pid`: it was stopped on purpose. */
export function unwatchWithParent(pid: number): void {
  watchdog?.stdin?.write(`-${pid}\n`);
}

function ensureWatchdog(): NodeJS.WritableStream | undefined {
  if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) return watchdog.stdin ?? undefined;
  // Its own session (detached): a terminal's SIGINT or SIGHUP to this process's group must not end the watchdog.
  const child = spawn(process.execPath, ['-e', WATCHDOG_SCRIPT, String(WATCHDOG_GRACE_MS)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  // Neither the watchdog nor its pipe keeps this process alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog = child;
  return child.stdin ?? undefined;
}
