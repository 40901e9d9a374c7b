import { promises as fs } from 'node:fs';
import os from 'node:os';

/** CPU time used during a measured window, in cores (1 = one core busy all the time). */
export interface CpuUsage {
  readonly windowMs: number;
  /** The whole machine, out of `cores`. */
  readonly machine: number;
  readonly cores: number;
  /** Per process of the run, by name (the load generator, each node, Kafka, ZooKeeper, redis-server). */
  readonly processes: Readonly<Record<string, number>>;
  /** The machine less the run's processes: anything else on the machine (other jobs) competing for the cores. */
  readonly others: number;
}

export interface CpuSnapshot {
  readonly atMs: number;
  readonly machineBusyMs: number;
  readonly machineTotalMs: number;
  /** CPU seconds (user + system) per process name; absent when the process could not be read. */
  readonly processSeconds: ReadonlyMap<string, number>;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts in these ticks, 100 a second on every common kernel. */
const TICKS_PER_SECOND = 100;

/** Reads the machine's CPU counters and those of `processes` (Linux /proc; elsewhere only the machine's). */
export async function snapshotCpu(processes: readonly { name: string; pid: number }[]): Promise<CpuSnapshot> {
  const atMs = performance.now();
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  const processSeconds = new Map<string, number>();
  await Promise.all(
    processes.map(async ({ name, pid }) => {
      const seconds = await processCpuSeconds(pid);
      if (seconds !== undefined) processSeconds.set(name, seconds);
    }),
  );
  return { atMs, machineBusyMs: busy, machineTotalMs: total, processSeconds };
}

/** The CPU used between two snapshots, in cores. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot, cores = os.cpus().length): CpuUsage {
  const windowMs = after.atMs - before.atMs;
  const totalMs = after.machineTotalMs - before.machineTotalMs;
  const processes: Record<string, number> = {};
  for (const [name, seconds] of after.processSeconds) {
    const earlier = before.processSeconds.get(name);
    if (earlier !== undefined && windowMs > 0) processes[name] = round2(((seconds - earlier) * 1000) / windowMs);
  }
  const machine = totalMs > 0 ? round2(((after.machineBusyMs - before.machineBusyMs) / totalMs) * cores) : NaN;
  const ours = Object.values(processes).reduce((sum, value) => sum + value, 0);
  return { windowMs, machine, cores, processes, others: round2(Math.max(0, machine - ours)) };
}

/** "generator 0.95, single 0.80, kafka 0.10; machine 1.90 of 2 cores" */
export function describeCpu(usage: CpuUsage): string {
  const parts = Object.entries(usage.processes)
    .sort(([, a], [, b]) => b - a)
    .map(([name, cores]) => `${name} ${cores.toFixed(2)}`);
  return `${parts.join(', ')}; other processes ${usage.others.toFixed(2)}; machine ${usage.machine.toFixed(2)} of ${usage.cores} cores`;
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds; undefined when it cannot be read. */
export async function processCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    return parseProcStat(await fs.readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Fields 14 and 15 (utime, stime) of a /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(line: string): number | undefined {
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / TICKS_PER_SECOND;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
