import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { waitFor } from '../src/retry/retry';
import type { ProbeReply, ProbeRequest } from './node-probe';
import type { Resources } from './resources';

const ROOT = path.join(__dirname, '..');
const STOP_GRACE_MS = 12_000;

export interface BenchNodeOptions {
  /** Short name within the run, e.g. "reads" or "trio-1"; the log file is named after it. */
  readonly name: string;
  /** The node's variables (NODENAME, KAFKA_TOPIC, API_PORT, ...), on top of PATH and HOME. */
  readonly env: Readonly<Record<string, string>>;
  readonly apiPort: number;
  /** Where the node's stderr (JSON logs) goes: <logDir>/<name>.log. */
  readonly logDir: string;
  /**
   * `cli` runs `bitacora node` from the compiled build (bin/bitacora.js, dist/), as an operator would: `npm run
   * bench` builds it first. `probe` runs bench/node-probe.ts from the sources under tsx, which builds the same node
   * with createNode() and answers memory, timing and pause requests over IPC.
   */
  readonly mode: 'cli' | 'probe';
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
}

/** A node running as a child process of the benchmark. */
export interface BenchNode {
  readonly name: string;
  readonly url: string;
  readonly apiPort: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Waits until /health/ready answers 200; fails at once if the process exits. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Probe nodes only: sends a request over IPC and waits for its answer. */
  ask<T extends ProbeReply['type']>(request: ProbeRequest, expect: T, timeoutMs: number): Promise<Extract<ProbeReply, { type: T }>>;
  /** SIGTERM, a grace period for the graceful stop, then SIGKILL; idempotent. */
  stop(): Promise<void>;
}

/** Starts a node process; it is registered with `resources`, so it is stopped on failure and on Ctrl-C too. */
export function startBenchNode(options: BenchNodeOptions, resources: Resources): BenchNode {
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...options.env, API_PORT: String(options.apiPort) };
  const nodeFlags = options.nodeFlags ?? [];
  const startedAt = Date.now();
  // The sources under tsx ran about 20 % slower than the build on pipelined RESP GETs (esbuild's keepNames
  // wrappers among the hot frames): a benchmark of what ships runs the build.
  const child =
    options.mode === 'cli'
      ? spawn(process.execPath, [...nodeFlags, path.join(ROOT, 'bin', 'bitacora.js'), 'node'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] })
      : fork(path.join(__dirname, 'node-probe.ts'), [], { cwd: ROOT, env, execArgv: ['--require', 'tsx/cjs', ...nodeFlags, '--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  resources.track(child, options.name);
  child.stderr!.pipe(createWriteStream(logFile));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${options.apiPort}`;
  const describeExit = (): string => `node ${options.name} exited (code ${exit?.code}, signal ${exit?.signal}); see ${logFile}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  const release = resources.add(`node ${options.name}`, stop);

  const replies: ProbeReply[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (message: ProbeReply) => {
    replies.push(message);
    for (const wake of waiters.splice(0)) wake();
  });

  return {
    name: options.name,
    url,
    apiPort: options.apiPort,
    logFile,
    child,
    startedAt,
    async waitReady(timeoutMs) {
      await waitFor(
        async () => {
          if (exit) throw new Error(describeExit());
          const { statusCode, body } = await request(`${url}/health/ready`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
          await body.dump();
          return statusCode === 200;
        },
        { timeoutMs, intervalMs: 50, description: `node ${options.name} to be ready on ${url} (log: ${logFile})` },
      ).catch((error: unknown) => {
        throw exit ? new Error(describeExit()) : error;
      });
    },
    async ask(request, expect, timeoutMs) {
      if (options.mode !== 'probe') throw new Error(`node ${options.name} is not a probe node`);
      if (exit) throw new Error(describeExit());
      const seen = replies.length;
      child.send(request);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = replies.slice(seen).find((reply) => reply.type === expect || reply.type === 'error');
        if (found?.type === 'error') throw new Error(`node ${options.name}: ${found.message}`);
        if (found) return found as Extract<ProbeReply, { type: typeof expect }>;
        if (exit) throw new Error(describeExit());
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`node ${options.name} did not answer ${request.type} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 1_000));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    stop: release,
  };
}
