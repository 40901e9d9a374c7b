import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * The top self-time functions of a V8 .cpuprofile (as `npm run bench -- --cpu-prof` writes for each node):
 *
 *   node --require tsx/cjs bench/profile-summary.ts bench/results/profiles-<run>/single.cpuprofile [top]
 *   node --require tsx/cjs bench/profile-summary.ts <file.cpuprofile> --callers writeBuffer   (who calls a hot function)
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  /** Share of the time the thread was not idle. */
  readonly busyShare: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly top: readonly SelfTime[];
}

const ROOT = path.join(__dirname, '..');

/** Self time per function (name and location), largest first, idle time left out of the shares. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node) continue;
    totalUs += delta;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += delta;
      continue;
    }
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const name = functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = selfUs.get(key) ?? { name, where, us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
  }
  const busyUs = totalUs - idleUs;
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    top: [...selfUs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({ name: entry.name, where: entry.where, ms: entry.us / 1000, busyShare: busyUs > 0 ? entry.us / busyUs : 0 })),
  };
}

/** The call stacks (innermost first, `depth` frames) that spent self time in `functionName`, largest first. */
export function callersOf(profile: CpuProfile, functionName: string, depth = 8, top = 10): { stack: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stacks = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    let id: number | undefined = profile.samples[i]!;
    if (byId.get(id)?.callFrame.functionName !== functionName) continue;
    const frames: string[] = [];
    while (id !== undefined && frames.length < depth) {
      const frame: ProfileNode['callFrame'] | undefined = byId.get(id)?.callFrame;
      if (!frame || frame.functionName === '(root)') break;
      frames.push(`${frame.functionName || '(anonymous)'}${frame.url ? ` (${shorten(frame.url)}:${frame.lineNumber + 1})` : ''}`);
      id = parent.get(id);
    }
    const stack = frames.join(' <- ');
    stacks.set(stack, (stacks.get(stack) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return [...stacks.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([stack, us]) => ({ stack, ms: us / 1000 }));
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const lines = [
    `profiled ${(summary.totalMs / 1000).toFixed(1)} s: busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s`,
    'self ms   busy%  function  (location)',
  ];
  for (const entry of summary.top) {
    lines.push(`${entry.ms.toFixed(0).padStart(7)}  ${(entry.busyShare * 100).toFixed(1).padStart(5)}%  ${entry.name}${entry.where ? `  (${entry.where})` : ''}`);
  }
  return lines.join('\n');
}

function shorten(url: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const nodeModules = file.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) return file.slice(nodeModules + '/node_modules/'.length);
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
}

if (require.main === module) {
  const [file, second, third] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [top | --callers <function>]\n');
    process.exitCode = 2;
  } else {
    const render = (profile: CpuProfile): string =>
      second === '--callers' && third
        ? callersOf(profile, third, Number(process.argv[5]) || 8)
            .map(({ stack, ms }) => `${ms.toFixed(0).padStart(7)} ms  ${stack}`)
            .join('\n')
        : formatProfileSummary(summarizeProfile(profile, Number(second) || 25));
    fs.readFile(file, 'utf8').then(
      (text) => process.stdout.write(`${render(JSON.parse(text) as CpuProfile)}\n`),
      (error: unknown) => {
        process.stderr.write(`profile-summary: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      },
    );
  }
}
