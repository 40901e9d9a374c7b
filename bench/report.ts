import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClosedLoopResult } from './load/load-spec';
import type { BenchOptions } from './options';
import { ratio } from './stats';

/** A goal a figure is held to: `field` of the figure compared with `value`. Reported, never asserted. */
export interface Target {
  /** vsRedis: the row's ratio to redis-server's row of the same shape (withRedisRatios), e.g. ≥ 0.8 × Redis. */
  readonly field: 'value' | 'p99Ms' | 'vsRedis';
  readonly op: '>=' | '<=';
  readonly value: number;
  readonly unit: string;
}

/** One row of the table. */
export interface Figure {
  readonly scenario: string;
  readonly label: string;
  /** The row's headline quantity (ops/s, records/s, bytes per entry, ...). */
  readonly value: number;
  readonly unit: string;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly system: 'bitacora' | 'redis';
  /** Rows of the same operation, concurrency, pipeline depth and kind of generator are compared with Redis's. */
  readonly operation?: 'get' | 'set' | 'mset';
  readonly concurrency?: number;
  /** Requests pipelined per connection (redis-benchmark -P); 1 when omitted. */
  readonly pipeline?: number;
  /** Who generated the load: the project's Node generator (the default) or a C tool (redis-benchmark, wrk). */
  readonly generator?: 'node' | 'c';
  readonly target?: Target;
  readonly met?: boolean;
  /** Filled by withRedisRatios(): this row's value divided by Redis's at the same operation and concurrency. */
  readonly vsRedis?: number;
  /**
   * redis-server's rate for this row's shape, measured right before and right after the row and averaged. When set,
   * vsRedis is taken against it rather than against Redis's row: on a machine whose speed swings from one minute to
   * the next, Redis measured minutes apart moved a ratio by as much as the row itself.
   */
  readonly redisBeside?: number;
  /** Cores that processes outside the run used during the measurement: above about 0.2 the figure is disturbed. */
  readonly otherCores?: number;
  readonly note?: string;
}

export type ScenarioStatus = 'ok' | 'failed' | 'skipped';

export interface ScenarioOutcome {
  readonly name: string;
  readonly status: ScenarioStatus;
  /** Why it failed or was skipped. */
  readonly reason?: string;
  readonly seconds: number;
  readonly figures: readonly Figure[];
  /** Everything the scenario measured, for the JSON file. */
  readonly details?: unknown;
}

export interface BenchReport {
  readonly version: 1;
  readonly runId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly scenarios: readonly ScenarioOutcome[];
  readonly figures: readonly Figure[];
  /** What may make the figures unrepresentative, e.g. other work on the machine during the measurements. */
  readonly warnings: readonly string[];
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Whether a figure meets its target; undefined when it has none or lacks the field. */
export function meets(figure: Pick<Figure, 'value' | 'p99Ms' | 'vsRedis'>, target: Target | undefined): boolean | undefined {
  if (!target) return undefined;
  const actual = targetField(figure, target);
  if (actual === undefined || !Number.isFinite(actual)) return undefined;
  return target.op === '>=' ? actual >= target.value : actual <= target.value;
}

/** A figure with `met` decided from its target. */
export function figure(input: Omit<Figure, 'met' | 'vsRedis'>): Figure {
  const met = meets(input, input.target);
  return met === undefined ? input : { ...input, met };
}

/** A row measured by a closed-loop run: its throughput as the value, with its latency, concurrency and the load of other processes. */
export function loadFigure(
  run: ClosedLoopResult,
  row: Omit<Figure, 'value' | 'p50Ms' | 'p99Ms' | 'otherCores' | 'concurrency' | 'met' | 'vsRedis'>,
): Figure {
  return figure({ ...row, value: run.opsPerSecond, p50Ms: run.latency.p50Ms, p99Ms: run.latency.p99Ms, otherCores: run.cpu?.others, concurrency: run.concurrency });
}

/**
 * Adds to each Bitacora row its ratio to the Redis row of the same operation, concurrency and pipeline depth,
 * measured by the same kind of generator (a C tool's rows against redis-benchmark's, the Node generator's against
 * its own), since a generator's own ceiling is part of every figure it gives.
 */
export function withRedisRatios(figures: readonly Figure[]): Figure[] {
  const sameShape = (a: Figure, b: Figure): boolean =>
    a.operation === b.operation && a.concurrency === b.concurrency && (a.pipeline ?? 1) === (b.pipeline ?? 1) && (a.generator ?? 'node') === (b.generator ?? 'node');
  return figures.map((row) => {
    if (row.system !== 'bitacora' || !row.operation || row.concurrency === undefined) return row;
    const redis = row.redisBeside ?? figures.find((other) => other.system === 'redis' && sameShape(other, row))?.value;
    const vsRedis = ratio(row.value, redis);
    if (vsRedis === undefined) return row;
    // A target stated against Redis is decided only now that the ratio is known.
    const met = row.target?.field === 'vsRedis' ? meets({ ...row, vsRedis }, row.target) : row.met;
    return met === undefined ? { ...row, vsRedis } : { ...row, vsRedis, met };
  });
}

/** How good a figure is relative to its target: above 1 means met, for "at least" and "at most" targets alike. */
export function targetScore(row: Figure): number | undefined {
  const target = row.target;
  if (!target) return undefined;
  const actual = targetField(row, target);
  if (actual === undefined || !Number.isFinite(actual)) return undefined;
  if (target.op === '>=') return target.value === 0 ? Infinity : actual / target.value;
  return actual <= 0 ? Infinity : target.value / actual;
}

function targetField(row: Pick<Figure, 'value' | 'p99Ms' | 'vsRedis'>, target: Target): number | undefined {
  if (target.field === 'value') return row.value;
  return target.field === 'p99Ms' ? row.p99Ms : row.vsRedis;
}

/** 1234567 -> "1,234,567"; 12.345 -> "12.3"; 0.1234 -> "0.123". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function describeTarget(target: Target): string {
  if (target.field === 'vsRedis') return `${target.op === '>=' ? '≥' : '≤'} ${formatNumber(target.value)}× Redis`;
  const field = target.field === 'p99Ms' ? 'p99 ' : '';
  return `${field}${target.op === '>=' ? '≥' : '≤'} ${formatNumber(target.value)} ${target.unit}`;
}

/** The table printed at the end of a run (and pasted into docs/performance.md): Markdown, readable as plain text. */
export function formatTable(outcomes: readonly ScenarioOutcome[], figures: readonly Figure[]): string {
  const header = ['scenario', 'case', 'value', 'p50 ms', 'p99 ms', 'vs Redis', 'target', 'result', 'others'];
  const rows: string[][] = [];
  for (const outcome of outcomes) {
    if (outcome.status !== 'ok') {
      rows.push([outcome.name, outcome.status.toUpperCase(), outcome.reason ?? '', '', '', '', '', outcome.status === 'failed' ? 'FAILED' : 'skipped', '']);
      continue;
    }
    for (const row of figures.filter((f) => f.scenario === outcome.name)) {
      rows.push([
        row.scenario,
        row.label,
        `${formatNumber(row.value)} ${row.unit}`,
        row.p50Ms === undefined ? '' : formatNumber(row.p50Ms),
        row.p99Ms === undefined ? '' : formatNumber(row.p99Ms),
        row.vsRedis === undefined ? '' : `${row.vsRedis.toFixed(2)}×`,
        row.target ? describeTarget(row.target) : '',
        row.met === undefined ? '' : row.met ? 'met' : 'MISSED',
        row.otherCores === undefined ? '' : row.otherCores.toFixed(2),
      ]);
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const notes = figures.filter((row) => row.note).map((row) => `- ${row.scenario}, ${row.label}: ${row.note}`);
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** `2025-01-31T12-00-05Z`: an ISO time that is also a portable file name. */
export function fileStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

/** Writes <dir>/<stamp>.json and <dir>/<stamp>.svg; resolves with their paths. */
export async function writeResults(dir: string, stamp: string, report: BenchReport, svg: string): Promise<{ json: string; svg: string }> {
  await fs.mkdir(dir, { recursive: true });
  const json = path.join(dir, `${stamp}.json`);
  const chart = path.join(dir, `${stamp}.svg`);
  await fs.writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(chart, svg);
  return { json, svg: chart };
}
