import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isPidAlive, processArguments } from './process-control';

/** The two kinds of server of the stack, in the order they are stopped. */
export const STACK_ROLES = ['kafka', 'zookeeper'] as const;
export type StackRole = (typeof STACK_ROLES)[number];

/** One process of the stack by name: 'zookeeper', 'kafka-1', 'kafka-2', ... (the broker's node.id). */
export type StackServiceName = 'zookeeper' | `kafka-${number}`;

/** The name of broker `nodeId`'s process. */
export function kafkaServiceName(nodeId: number): StackServiceName {
  return `kafka-${nodeId}`;
}

/** The role a service plays. */
export function serviceRole(service: StackServiceName): StackRole {
  return service === 'zookeeper' ? 'zookeeper' : 'kafka';
}

/** Attached processes die with their parent; detached ones outlive it and are recorded in stack.json. */
export type StackMode = 'attached' | 'detached';

export const STACK_STATE_FILE = 'stack.json';
const PS_TIMEOUT_MS = 5_000;

export interface RecordedProcess {
  readonly pid: number;
  readonly port: number;
}

/** One broker of a recorded stack. */
export interface RecordedBroker extends RecordedProcess {
  /** Its node.id, 1 to the number of brokers. */
  readonly nodeId: number;
  readonly controllerPort: number;
  /** The SASL_PLAINTEXT port, when the stack has that listener. */
  readonly saslPort?: number;
}

/** What `stack up` records in STACK_DIR/stack.json so `down` and `status` find exactly its processes. */
export interface StackState {
  /** 2 since several brokers; a version-1 file (one broker, `kafka` an object) is read as its version-2 equivalent. */
  readonly version: 2;
  /** Absolute path of STACK_DIR. */
  readonly dir: string;
  /** ISO-8601 time the stack became ready. */
  readonly startedAt: string;
  readonly zookeeperConnectString: string;
  /** Every broker's PLAINTEXT address, node.id order. */
  readonly kafkaBrokers: readonly string[];
  /** Every broker's SASL_PLAINTEXT address, present only when the stack was started with that listener. */
  readonly saslBrokers?: readonly string[];
  readonly kafkaClusterId: string;
  /** The Kafka release the brokers run; absent in files written before the stack could run several. */
  readonly kafkaVersion?: string;
  readonly zookeeper: RecordedProcess;
  /** node.id order. */
  readonly kafka: readonly RecordedBroker[];
}

/** Reads stack.json (version 2, or 1 as written before several brokers); undefined when there is none or it is not one we wrote. */
export async function readStackState(dir: string): Promise<StackState | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(path.join(dir, STACK_STATE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (isStackState(parsed)) return parsed;
  if (isVersion1State(parsed)) {
    const { kafka, ...rest } = parsed;
    return { ...rest, version: 2, kafka: [{ nodeId: 1, pid: kafka.pid, port: kafka.port, controllerPort: kafka.controllerPort }] };
  }
  return undefined;
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

const SERVICE_MARKER = '-Dbitacora.stack.service=';
const OWNER_MARKER = '-Dbitacora.stack.owner=';

/**
 * Command-line arguments that mark a JVM as one of the stack in `dir`, so a pid found again later is checked to be
 * ours (pids are reused) and orphans of an interrupted `stack up` can be found. The service marker tells brokers
 * apart; processes started before it existed lack it (see identifyStackProcess).
 */
export function stackProcessMarkers(dir: string, service: StackServiceName, mode: StackMode): string[] {
  const markers = [`-Dbitacora.stack.dir=${dir}`, `-Dbitacora.stack.role=${serviceRole(service)}`, `-Dbitacora.stack.mode=${mode}`, `${SERVICE_MARKER}${service}`];
  // An attached process belongs to the process that started it; once that one is gone, it is a stray.
  if (mode === 'attached') markers.push(`${OWNER_MARKER}${process.pid}`);
  return markers;
}

/** A running process of the stack, as its command line describes it. */
export interface FoundStackProcess {
  readonly pid: number;
  readonly role: StackRole;
  readonly service: StackServiceName;
  readonly mode: StackMode;
  /** The pid of the process an attached one belongs to (undefined for detached ones and older attached ones). */
  readonly owner?: number;
}

/** True for an attached process whose owner has died: nothing will stop it but a sweep (stack up, npm start). */
export function isOrphanedAttached(found: FoundStackProcess): boolean {
  return found.mode === 'attached' && found.owner !== undefined && !isPidAlive(found.owner);
}

/** True when `pid` is alive and is the `service` process of the stack in `dir`, started in one of `modes`. */
export async function isStackProcess(pid: number, dir: string, service: StackServiceName, modes: readonly StackMode[] = ['detached']): Promise<boolean> {
  if (!isPidAlive(pid)) return false;
  const args = await processArguments(pid);
  return args !== undefined && identifyStackProcess(args, dir, modes)?.service === service;
}

/**
 * Every running process of the stack in `dir` started in one of `modes`, recorded or not (a `stack up` killed
 * half-way records nothing). Found by the markers on their command lines.
 */
export async function findStackProcesses(dir: string, modes: readonly StackMode[] = ['detached']): Promise<FoundStackProcess[]> {
  const found: FoundStackProcess[] = [];
  for (const { pid, args } of await listProcesses()) {
    if (pid === process.pid) continue;
    const identified = identifyStackProcess(args, dir, modes);
    if (identified) found.push({ pid, ...identified });
  }
  return found;
}

/**
 * Which service of the stack in `dir` these arguments start, if any. A process without the service marker was
 * started by a version that ran one broker, so its Kafka is broker 1.
 */
function identifyStackProcess(args: readonly string[], dir: string, modes: readonly StackMode[]): Omit<FoundStackProcess, 'pid'> | undefined {
  const marked = args.find((arg) => arg.startsWith(SERVICE_MARKER))?.slice(SERVICE_MARKER.length);
  for (const role of STACK_ROLES) {
    for (const mode of modes) {
      const common = [`-Dbitacora.stack.dir=${dir}`, `-Dbitacora.stack.role=${role}`, `-Dbitacora.stack.mode=${mode}`];
      if (!common.every((marker) => args.includes(marker))) continue;
      const service = (marked ?? (role === 'kafka' ? kafkaServiceName(1) : 'zookeeper')) as StackServiceName;
      const owner = Number(args.find((arg) => arg.startsWith(OWNER_MARKER))?.slice(OWNER_MARKER.length));
      if (serviceRole(service) !== role) return undefined;
      return Number.isSafeInteger(owner) && owner > 0 ? { role, service, mode, owner } : { role, service, mode };
    }
  }
  return undefined;
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

/** stack.json as versions before several brokers wrote it. */
interface StackStateVersion1 extends Omit<StackState, 'version' | 'kafka' | 'saslBrokers'> {
  readonly version: 1;
  readonly kafka: RecordedProcess & { readonly controllerPort: number };
}

function hasCommonFields(state: Partial<StackState> | null): state is Partial<StackState> {
  return (
    typeof state === 'object' &&
    state !== null &&
    typeof state.dir === 'string' &&
    typeof state.kafkaClusterId === 'string' &&
    typeof state.zookeeperConnectString === 'string' &&
    isRecordedProcess(state.zookeeper) &&
    Array.isArray(state.kafkaBrokers)
  );
}

function isStackState(value: unknown): value is StackState {
  const state = value as Partial<StackState> | null;
  return (
    hasCommonFields(state) &&
    state.version === 2 &&
    Array.isArray(state.kafka) &&
    state.kafka.length > 0 &&
    state.kafka.every((broker: unknown) => isRecordedProcess(broker) && typeof (broker as Partial<RecordedBroker>).nodeId === 'number')
  );
}

function isVersion1State(value: unknown): value is StackStateVersion1 {
  const state = value as Partial<StackStateVersion1> | null;
  return hasCommonFields(state as Partial<StackState> | null) && state?.version === 1 && isRecordedProcess(state.kafka);
}

function isRecordedProcess(value: unknown): value is RecordedProcess {
  const entry = value as Partial<RecordedProcess> | null | undefined;
  return typeof entry === 'object' && entry !== null && typeof entry.pid === 'number' && typeof entry.port === 'number';
}
