import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sleep } from '../src/retry/retry';
import { renderChart } from './chart';
import { type CpuSnapshot, type CpuUsage, cpuBetween, snapshotCpu } from './cpu-usage';
import { Fixtures } from './fixtures';
import { startLoadProcess } from './load-generator';
import type { LoadResult, LoadSpec } from './load/load-spec';
import { BenchUsageError, parseBenchArgs, USAGE } from './options';
import { type BenchReport, fileStamp, formatTable, machineInfo, type ScenarioOutcome, withRedisRatios, writeResults } from './report';
import { Resources } from './resources';
import { SCENARIOS } from './scenarios';
import { type ScenarioContext, ScenarioSkipped } from './scenarios/scenario';

/**
 * `npm run bench`: starts its own Kafka + ZooKeeper, nodes and (when installed) redis-server, runs the chosen
 * scenarios one after another with the load made by a separate process, prints the table and writes
 * bench/results/<timestamp>.json and .svg. Everything it started is stopped at the end, on failure and on Ctrl-C.
 * Exit code: 0 when every chosen scenario ran (or was skipped for a stated reason), 1 when one failed, 2 on a bad
 * command line, 130 when interrupted.
 */
export async function runBench(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(args);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = parsed;
  const started = new Date();
  const stamp = fileStamp(started);
  const runId = `${stamp.replace(/[-TZ]/g, '').slice(2, 14)}${Math.random().toString(36).slice(2, 5)}`.toLowerCase();
  const t0 = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  };
  const logDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-bench-logs-'));
  const profileDir = options.cpuProf ? path.join(options.outDir, `profiles-${stamp}`) : undefined;
  if (profileDir) await fs.mkdir(profileDir, { recursive: true });
  const resources = new Resources(log);
  const cpuUsages: CpuUsage[] = [];

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    interrupted = true;
    log(`${signal}: stopping everything this run started (again to exit at once)`);
    void resources.closeAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  log(`run ${runId}: ${options.scenarios.join(', ')}${options.quick ? ' (quick)' : ''}; process logs in ${logDir}`);
  const fixtures = new Fixtures({ options, runId, resources, logDir, profileDir, log });
  const context: ScenarioContext = {
    options,
    runId,
    fixtures,
    resources,
    logDir,
    log,
    async load(spec) {
      // On a shared machine, a measurement that other processes disturbed is taken again (--busy-retries); the
      // least disturbed attempt is kept, and its disturbance is reported with it.
      let best: LoadResult | undefined;
      for (let attempt = 0; ; attempt++) {
        const result = await loadOnce(spec);
        const others = result.cpu?.others ?? 0;
        if (!best || others < (best.cpu?.others ?? Infinity)) best = result;
        if (others <= BUSY_MACHINE_CORES || attempt >= options.busyRetries || interrupted) break;
        log(`    other processes used ${others.toFixed(2)} cores during this measurement: measuring again`);
        await sleep(BUSY_RETRY_PAUSE_MS);
      }
      if (best.cpu) {
        cpuUsages.push(best.cpu);
        if (best.cpu.others > BUSY_MACHINE_CORES) log(`    warning: other processes used ${best.cpu.others.toFixed(2)} cores during this measurement`);
      }
      return best;
    },
  };

  /** One load run in a fresh generator process, with the CPU each process used during its measured window. */
  async function loadOnce(spec: LoadSpec): Promise<LoadResult> {
    const samples: Promise<CpuSnapshot>[] = [];
    const generator = startLoadProcess(spec, () => samples.push(snapshotCpu(processes())));
    const processes = (): { name: string; pid: number }[] => [
      { name: 'bench-driver', pid: process.pid },
      ...resources.processes(),
      ...fixtures.stackProcesses(),
      ...(generator.pid === undefined ? [] : [{ name: 'load-generator', pid: generator.pid }]),
    ];
    const release = resources.add('load generator', () => generator.stop());
    try {
      const result = await generator.result;
      if (samples.length < 2) return result;
      const [before, after] = await Promise.all([samples[0]!, samples[1]!]);
      return { ...result, cpu: cpuBetween(before, after) };
    } finally {
      await release();
    }
  }

  const selected = options.scenarios.map((name) => SCENARIOS[name]);
  const outcomes: ScenarioOutcome[] = [];
  try {
    for (const [index, scenario] of selected.entries()) {
      if (interrupted) break;
      log(`scenario ${scenario.name}`);
      const scenarioStart = performance.now();
      const seconds = (): number => Math.round((performance.now() - scenarioStart) / 100) / 10;
      try {
        const result = await scenario.run(context);
        outcomes.push({ name: scenario.name, status: 'ok', seconds: seconds(), figures: result.figures, details: result.details });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const skipped = error instanceof ScenarioSkipped && !options.scenariosNamed;
        outcomes.push({ name: scenario.name, status: skipped ? 'skipped' : 'failed', reason, seconds: seconds(), figures: [] });
        log(`${scenario.name} ${skipped ? 'skipped' : 'FAILED'}: ${reason}`);
      }
      const later = selected.slice(index + 1);
      for (const fixture of scenario.fixtures) {
        if (!later.some((next) => next.fixtures.includes(fixture))) await fixtures.release(fixture);
      }
    }
  } finally {
    log('stopping everything this run started');
    await resources.closeAll();
  }

  const figures = withRedisRatios(outcomes.flatMap((outcome) => outcome.figures));
  const warnings: string[] = [];
  const busiest = Math.max(0, ...cpuUsages.map((usage) => usage.others));
  if (busiest > BUSY_MACHINE_CORES) {
    warnings.push(
      `other processes on this machine used up to ${busiest.toFixed(2)} of ${cpuUsages[0]?.cores ?? '?'} cores during the measurements: ` +
        'the figures are lower than this machine gives when idle; run again when it is quiet',
    );
  }
  const finished = new Date();
  const report: BenchReport = {
    version: 1,
    runId,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    seconds: Math.round((finished.getTime() - started.getTime()) / 1000),
    machine: machineInfo(),
    options,
    scenarios: outcomes,
    figures,
    warnings,
  };
  process.stdout.write(`\n${formatTable(outcomes, figures)}\n\n${warnings.map((warning) => `warning: ${warning}\n`).join('')}`);
  const machine = report.machine;
  const title = `Bitacora benchmark ${stamp}${options.quick ? ' (quick)' : ''} on ${machine.cpus} cores, Node ${machine.node}`;
  const written = await writeResults(options.outDir, stamp, report, renderChart(figures, title));
  log(`wrote ${path.relative(process.cwd(), written.json)} and ${path.relative(process.cwd(), written.svg)}${profileDir ? `; CPU profiles in ${profileDir}` : ''}`);
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  if (failed.length > 0) log(`failed: ${failed.map((outcome) => outcome.name).join(', ')} (process logs in ${logDir})`);
  return failed.length > 0 ? 1 : 0;
}

/** Cores used by processes outside the run above which its figures are flagged as disturbed. */
const BUSY_MACHINE_CORES = 0.2;
const BUSY_RETRY_PAUSE_MS = 2_000;

if (require.main === module) {
  runBench(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
