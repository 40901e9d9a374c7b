import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../src/retry/retry';
import { httpRequest } from './http-client';
import { onTeardown } from './teardown';

const ROOT = path.join(__dirname, '../..');

/** A `bitacora node` child process, run from the TypeScript sources, with its stderr (JSON logs) kept in a file. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the `bitacora` CLI from the sources; the child is killed after the test if it still runs. */
export async function spawnBitacora(
  args: string[],
  env: Record<string, string>,
  options: { readonly detached?: boolean } = {},
): Promise<{ child: ChildProcess; logFile: string; exited: NodeProcess['exited']; output: () => string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bitacora-proc-'));
  const logFile = path.join(dir, 'stderr.log');
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', "require('./src/cli/main.ts').main(process.argv.slice(1))", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, as a terminal gives a foreground command: the test can signal the whole group.
    detached: options.detached ?? false,
  });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.pipe(createWriteStream(logFile));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  onTeardown(`process ${args.join(' ')}`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, logFile, exited, output: () => stdout };
}

/** Runs a `bitacora` command to its end: its exit code, stdout and stderr. */
export async function runBitacora(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = await spawnBitacora(args, env);
  let stderr = '';
  run.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { code } = await run.exited;
  return { code, stdout: run.output(), stderr };
}

/** Starts a node process on `port` and waits until /health/ready answers 200. */
export async function startNodeProcess(env: Record<string, string>, port: number, readyTimeoutMs = 60_000): Promise<NodeProcess> {
  const { child, logFile, exited } = await spawnBitacora(['node'], { ...env, API_PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  let exit: { code: number | null } | undefined;
  void exited.then((e) => (exit = e));
  await waitFor(
    async () => {
      if (exit) throw new Error(`the node exited with code ${exit.code} before it was ready; see ${logFile}`);
      return (await httpRequest(`${url}/health/ready`, { timeoutMs: 2_000 })).status === 200;
    },
    { timeoutMs: readyTimeoutMs, intervalMs: 100, description: `node on port ${port} to be ready (log: ${logFile})` },
  );
  return { child, url, logFile, exited };
}
