import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pidHasMarkers } from './process-control';

/** The two services of the stack, in the order they are stopped. */
export const STACK_ROLES = ['kafka', 'zookeeper'] as const;
export type StackRole = (typeof STACK_ROLES)[number];

/** Attached processes die with their parent; detached ones outlive it and are recorded in stack.json. */
export type StackMode = 'attached' | 'detached';

export const STACK_STATE_FILE = 'stack.json';
const PS_TIMEOUT_MS = 5_000;

export interface RecordedProcess {
  readonly pid: number;
  readonly port: number;
}

/** What `stack up` records in STACK_DIR/stack.json so `down` and `status` find exactly its processes. */
export interface StackState {
  readonly version: 1;
  /** Absolute path of STACK_DIR. */
  readonly dir: string;
  /** ISO-8601 time the stack became ready. */
  readonly startedAt: string;
  readonly zookeeperConnectString: string;
  readonly kafkaBrokers: readonly string[];
  readonly kafkaClusterId: string;
  readonly zookeeper: RecordedProcess;
  readonly kafka: RecordedProcess & { readonly controllerPort: number };
}

/** Reads stack.json; undefined when there is none or it is not one we wrote. */
export async function readStackState(dir: string): Promise<StackState | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(path.join(dir, STACK_STATE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  return isStackState(parsed) ? parsed : undefined;
}

/** Writes stack.json through a temporary file and a rename, so a reader never sees half of it. */
export async function writeStackState(state: StackState): Promise<void> {
  const file = path.join(state.dir, STACK_STATE_FILE);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await fs.rename(temporary, file);
}

export async function removeStackState(dir: string): Promise<void> {
  await fs.rm(path.join(dir, STACK_STATE_FILE), { force: true });
}

/**
 * Command-line arguments that mark a JVM as one of the stack in `dir`, so a pid found again later is checked to be
 * ours (pids are reused) and orphans of an interrupted `stack up` can be found.
 */
export function stackProcessMarkers(dir: string, role: StackRole, mode: StackMode): string[] {
  return [`-Dbitacora.stack.dir=${dir}`, `-Dbitacora.stack.role=${role}`, `-Dbitacora.stack.mode=${mode}`];
}

/** True when `pid` is alive and is the detached `role` process of the stack in `dir`. */
export function isStackProcess(pid: number, dir: string, role: StackRole): Promise<boolean> {
  return pidHasMarkers(pid, stackProcessMarkers(dir, role, 'detached'));
}

/**
 * Every running process of the stack in `dir` started in one of `modes`, recorded or not (a `stack up` killed
 * half-way records nothing). Found by the markers on their command lines.
 */
export async function findStackProcesses(
  dir: string,
  modes: readonly StackMode[] = ['detached'],
): Promise<{ pid: number; role: StackRole; mode: StackMode }[]> {
  const found: { pid: number; role: StackRole; mode: StackMode }[] = [];
  for (const { pid, args } of await listProcesses()) {
    if (pid === process.pid) continue;
    for (const role of STACK_ROLES) {
      for (const mode of modes) {
        if (stackProcessMarkers(dir, role, mode).every((marker) => args.includes(marker))) found.push({ pid, role, mode });
      }
    }
  }
  return found;
}

async function listProcesses(): Promise<{ pid: number; args: string[] }[]> {
  if (process.platform === 'linux') {
    const entries = (await fs.readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
    const processes = await Promise.all(
      entries.map(async (entry) => {
        try {
          const raw = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8');
          return { pid: Number(entry), args: raw.split('\0').filter(Boolean) };
        } catch {
          return undefined; // exited meanwhile, or not ours to read
        }
      }),
    );
    return processes.filter((entry): entry is { pid: number; args: string[] } => entry !== undefined);
  }
  return new Promise((resolve) => {
    execFile('ps', ['-axww', '-o', 'pid=,command='], { timeout: PS_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return resolve([]);
      resolve(
        stdout
          .split('\n')
          .map((line) => line.trim().split(/\s+/))
          .filter((words) => /^\d+$/.test(words[0] ?? ''))
          .map((words) => ({ pid: Number(words[0]), args: words.slice(1) })),
      );
    });
  });
}

function isStackState(value: unknown): value is StackState {
  const state = value as Partial<StackState> | null;
  return (
    typeof state === 'object' &&
    state !== null &&
    state.version === 1 &&
    typeof state.dir === 'string' &&
    typeof state.zookeeper?.pid === 'number' &&
    typeof state.zookeeper.port === 'number' &&
    typeof state.kafka?.pid === 'number' &&
    typeof state.kafka.port === 'number' &&
    Array.isArray(state.kafkaBrokers)
  );
}
