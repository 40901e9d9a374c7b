import { describeCpu } from '../cpu-usage';
import type { Fixtures, FixtureName } from '../fixtures';
import type { ClosedLoopResult, LoadResult, LoadSpec, OperationSpec, ReplicationResult } from '../load/load-spec';
import type { BenchOptions, ScenarioName } from '../options';
import type { Figure } from '../report';
import type { Resources } from '../resources';

/** What a scenario gets from bench/run.ts. */
export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly runId: string;
  readonly fixtures: Fixtures;
  readonly resources: Resources;
  /** Where the processes' logs of this run go. */
  readonly logDir: string;
  log(line: string): void;
  /** Runs one spec in a fresh load generator process and resolves with its result; rejects when the run failed. */
  load(spec: LoadSpec): Promise<LoadResult>;
}

/** What a scenario measured: the table's rows and everything else worth keeping in the JSON file. */
export interface ScenarioResult {
  readonly figures: readonly Figure[];
  readonly details: unknown;
}

export interface Scenario {
  readonly name: ScenarioName;
  /** Shared nodes it uses; bench/run.ts stops them after the last scenario that needs them. */
  readonly fixtures: readonly FixtureName[];
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** Thrown by a scenario that cannot run on this machine (say, no redis-server); the message says how to fix it. */
export class ScenarioSkipped extends Error {
  override name = 'ScenarioSkipped';
}

/** A closed-loop run with the run's warm-up, duration and error threshold. */
export async function closedLoop(context: ScenarioContext, operation: OperationSpec, concurrency: number): Promise<ClosedLoopResult> {
  const { options } = context;
  const result = await context.load({
    job: 'closed-loop',
    operation,
    concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    requestTimeoutMs: 15_000,
    maxErrorRatio: options.maxErrorRatio,
  });
  if (result.job !== 'closed-loop') throw new Error(`expected a closed-loop result, got ${result.job}`);
  context.log(
    `  ${operation.kind} c=${concurrency}: ${Math.round(result.opsPerSecond).toLocaleString('en-US')} ops/s, ` +
      `p50 ${result.latency.p50Ms.toFixed(2)} ms, p99 ${result.latency.p99Ms.toFixed(2)} ms (${result.completed} requests, ${result.failed} failed)`,
  );
  if (result.cpu) context.log(`    cores used: ${describeCpu(result.cpu)}`);
  return result;
}

export function asReplication(result: LoadResult): ReplicationResult {
  if (result.job !== 'replication') throw new Error(`expected a replication result, got ${result.job}`);
  return result;
}

/** The concurrency the throughput targets are stated at. */
export const TARGET_CONCURRENCY = 64;
