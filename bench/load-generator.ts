import { fork } from 'node:child_process';
import path from 'node:path';
import { LoadFailedError, runClosedLoop } from './load/closed-loop';
import type { FromGenerator, LoadResult, LoadSpec, PhaseListener, ToGenerator } from './load/load-spec';
import { createOperation } from './load/operations';
import { runReplication } from './load/replication-probe';

/**
 * The load generator: a process of its own, so the load it makes never shares a JS thread with the nodes or with
 * the script that drives it. bench/run.ts forks it once per run and talks over IPC (runLoadInProcess); by hand it
 * takes the spec as JSON in argv and prints the result as JSON:
 *
 *   node --require tsx/cjs bench/load-generator.ts '{"job":"closed-loop",...}'
 *
 * It exits non-zero, with the reason on stderr, when the run fails.
 */

/** Runs one load spec in this process. */
export async function runLoad(spec: LoadSpec, onPhase?: PhaseListener): Promise<LoadResult> {
  if (spec.job === 'replication') return runReplication(spec, onPhase);
  const operation = await createOperation(spec.operation, { concurrency: spec.concurrency, requestTimeoutMs: spec.requestTimeoutMs });
  try {
    return await runClosedLoop(spec, operation, onPhase);
  } finally {
    await operation.close();
  }
}

/** How long a run may take beyond its warm-up and measured time before its process is killed. */
const SLACK_MS = 60_000;

/** A forked load generator process: stop() kills it if it still runs. */
export interface LoadProcess {
  readonly pid: number | undefined;
  readonly result: Promise<LoadResult>;
  stop(): Promise<void>;
}

/**
 * Forks a load generator process, sends it `spec` and resolves with its result. Rejects with the generator's own
 * message when the run failed, and when the process exits without a result or overruns its time.
 */
export function startLoadProcess(spec: LoadSpec, onPhase: PhaseListener = () => undefined): LoadProcess {
  const child = fork(path.join(__dirname, 'load-generator.ts'), [], {
    execArgv: ['--require', 'tsx/cjs'],
    cwd: path.join(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const limitMs = spec.warmupMs + spec.durationMs + SLACK_MS;
  const result = new Promise<LoadResult>((resolve, reject) => {
    let answer: FromGenerator | undefined;
    const timer = setTimeout(() => {
      reject(new LoadFailedError(`the load generator did not finish within ${limitMs} ms; killed`));
      child.kill('SIGKILL');
    }, limitMs);
    child.on('message', (message: FromGenerator) => {
      if (message.type === 'phase') onPhase(message.phase);
      else answer = message;
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (answer?.type === 'result' && code === 0) resolve(answer.result);
      else if (answer?.type === 'error') reject(new LoadFailedError(answer.message));
      else reject(new LoadFailedError(`the load generator exited with code ${code} and no result`));
    });
    child.send({ type: 'run', spec } satisfies ToGenerator);
  });
  return {
    pid: child.pid,
    result,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function runAsProcess(): Promise<void> {
  const reply = (message: FromGenerator): Promise<void> =>
    new Promise((resolve) => (process.send ? process.send(message, undefined, undefined, () => resolve()) : resolve()));
  let spec: LoadSpec;
  if (process.send) {
    spec = await new Promise<LoadSpec>((resolve) => process.once('message', (message: ToGenerator) => resolve(message.spec)));
  } else {
    const argument = process.argv[2];
    if (!argument) throw new Error('usage: load-generator.ts <spec as JSON> (or fork it with an IPC channel)');
    spec = JSON.parse(argument) as LoadSpec;
  }
  try {
    const result = await runLoad(spec, (phase) => process.send?.({ type: 'phase', phase } satisfies FromGenerator));
    if (process.send) await reply({ type: 'result', result });
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`load generator: ${message}\n`);
    await reply({ type: 'error', message });
    process.exitCode = 1;
  }
  process.disconnect?.();
}

if (require.main === module) {
  runAsProcess().catch((error: unknown) => {
    process.stderr.write(`load generator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    process.disconnect?.();
  });
}
