import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Environment } from '../config/env-parsers';
import type { Logger } from '../logging/logger';
import { findFreePort, isPortFree, STACK_HOST } from './free-port';
import { locateJava } from './java-tools';
import { KAFKA_STOP_GRACE_MS, KafkaBroker, kafkaAnswers } from './kafka-broker';
import { resolveKafkaDistribution } from './kafka-distribution';
import { writeLog4jConfig } from './log4j-config';
import { isPidAlive, terminatePid } from './process-control';
import { StackError } from './stack-error';
import {
  findStackProcesses,
  isStackProcess,
  readStackState,
  removeStackState,
  STACK_ROLES,
  writeStackState,
  type StackMode,
  type StackRole,
  type StackState,
} from './stack-state';
import { ZOOKEEPER_STOP_GRACE_MS, ZooKeeperServer, zookeeperAnswers } from './zookeeper-server';

export interface StackOptions {
  /** STACK_DIR: data, logs and stack.json; relative paths are taken from the current directory. */
  readonly dir: string;
  /** 0 picks a free port (tests); so do the other two. */
  readonly zkPort: number;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  /** Machine-wide cache of the Kafka jars (STACK_CACHE_DIR). */
  readonly cacheDir: string;
  /** How long ZooKeeper and Kafka get to answer, once the jars are there. */
  readonly startTimeoutMs: number;
  readonly logger: Logger;
  /** Where java and mvn are looked up and what the JVMs run with; this process's environment when omitted. */
  readonly env?: Environment;
}

/** A stack whose JVMs are children of this process; stop() (or this process exiting) ends them. */
export interface RunningStack {
  readonly zookeeperConnectString: string;
  readonly kafkaBrokers: string[];
  readonly dir: string;
  readonly kafkaClusterId: string;
  /** Stops Kafka, then ZooKeeper; idempotent, bounded by timeouts. */
  stop(): Promise<void>;
}

/** What stackUp() did: the recorded stack, and whether it was running already. */
export interface StackUpResult extends StackState {
  readonly alreadyRunning: boolean;
}

export interface StackProcessStatus {
  readonly role: StackRole;
  readonly pid: number;
  readonly port: number;
  /** The pid is alive and still the process stack.json recorded. */
  readonly alive: boolean;
  /** A ZooKeeper session / Kafka metadata request succeeded just now. */
  readonly answering: boolean;
}

export type StackStatusState = 'running' | 'partial' | 'down';

export interface StackStatus {
  /** running: everything recorded answers; down: nothing of this stack runs; partial: anything else. */
  readonly state: StackStatusState;
  readonly dir: string;
  readonly recorded: StackState | undefined;
  readonly processes: readonly StackProcessStatus[];
  /**
   * Processes of this STACK_DIR that stack.json does not list: detached ones are left by an interrupted `stack up`
   * (`down` stops them); attached ones belong to a running `npm start` or `stack up --foreground`.
   */
  readonly untracked: readonly { readonly pid: number; readonly role: StackRole; readonly mode: StackMode }[];
}

export interface StackDownResult {
  readonly dir: string;
  readonly stopped: readonly { readonly pid: number; readonly role: StackRole }[];
}

/** Starts ZooKeeper and Kafka as attached children and resolves once both answer; for tests and `npm start`. */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const dir = path.resolve(options.dir);
  const launched = await launch(options, 'attached');
  return {
    zookeeperConnectString: launched.zookeeper.connectString,
    kafkaBrokers: [...launched.kafka.brokers],
    dir,
    kafkaClusterId: launched.kafka.clusterId,
    stop: launched.stop,
  };
}

/**
 * Starts ZooKeeper and Kafka detached (they outlive this process) and records them in STACK_DIR/stack.json.
 * When the recorded stack already runs and answers, leaves it alone; leftovers of a broken one are stopped first.
 */
export async function stackUp(options: StackOptions): Promise<StackUpResult> {
  const dir = path.resolve(options.dir);
  const recorded = await readStackState(dir);
  if (recorded) {
    const status = await statusOf(dir, recorded, options.logger);
    if (status.state === 'running') {
      options.logger.info({ dir, zookeeper: recorded.zookeeperConnectString, kafka: recorded.kafkaBrokers }, 'stack already running');
      return { ...recorded, alreadyRunning: true };
    }
    options.logger.info({ dir }, 'recorded stack is not fully running; replacing it');
  }
  await stopStackProcesses(dir, recorded, options.logger);
  await removeStackState(dir);

  const launched = await launch(options, 'detached');
  const state: StackState = {
    version: 1,
    dir,
    startedAt: new Date().toISOString(),
    zookeeperConnectString: launched.zookeeper.connectString,
    kafkaBrokers: [...launched.kafka.brokers],
    kafkaClusterId: launched.kafka.clusterId,
    zookeeper: { pid: launched.zookeeper.pid ?? 0, port: launched.ports.zookeeper },
    kafka: { pid: launched.kafka.pid ?? 0, port: launched.ports.kafka, controllerPort: launched.ports.controller },
  };
  try {
    await writeStackState(state);
  } catch (error) {
    // Unrecorded detached JVMs would hold the ports until found by hand.
    await launched.stop();
    throw error;
  }
  return { ...state, alreadyRunning: false };
}

/** Stops the detached stack of STACK_DIR (Kafka first), checking each pid is still ours before signalling it. */
export async function stackDown(options: Pick<StackOptions, 'dir' | 'logger'>): Promise<StackDownResult> {
  const dir = path.resolve(options.dir);
  const recorded = await readStackState(dir);
  const stopped = await stopStackProcesses(dir, recorded, options.logger);
  await removeStackState(dir);
  if (stopped.length === 0) options.logger.info({ dir }, 'no stack was running');
  return { dir, stopped };
}

/** What of the detached stack of STACK_DIR runs and answers. */
export async function stackStatus(options: Pick<StackOptions, 'dir' | 'logger'>): Promise<StackStatus> {
  const dir = path.resolve(options.dir);
  return statusOf(dir, await readStackState(dir), options.logger);
}

interface Ports {
  readonly zookeeper: number;
  readonly kafka: number;
  readonly controller: number;
}

interface Launched {
  readonly zookeeper: ZooKeeperServer;
  readonly kafka: KafkaBroker;
  readonly ports: Ports;
  readonly stop: () => Promise<void>;
}

async function launch(options: StackOptions, mode: StackMode): Promise<Launched> {
  // The one default that touches process.env: children inherit it anyway, and java/mvn are found on its PATH.
  const env = options.env ?? process.env;
  const dir = path.resolve(options.dir);
  const logger = options.logger;
  const java = await locateJava(env);
  await refuseIfStackRuns(dir);
  const distribution = await resolveKafkaDistribution({ cacheDir: options.cacheDir, env, logger });
  const ports = await choosePorts(options);
  await fs.mkdir(path.join(dir, 'logs'), { recursive: true });
  const log4jConfig = await writeLog4jConfig(dir);

  const common = { stackDir: dir, java: java.executable, classpath: distribution.classpath, log4jConfig, mode, env, logger };
  const zookeeper = new ZooKeeperServer({ ...common, port: ports.zookeeper });
  const kafka = new KafkaBroker({ ...common, port: ports.kafka, controllerPort: ports.controller });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Kafka first, as `stack down` does: its shutdown is the stateful one and should see everything else still up.
      await kafka.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping Kafka failed'));
      await zookeeper.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping ZooKeeper failed'));
    })();
    return stopping;
  };

  const started = Date.now();
  logger.info({ dir, mode, zkPort: ports.zookeeper, kafkaPort: ports.kafka, kafkaVersion: distribution.kafkaVersion }, 'starting stack');
  // In parallel: the two JVMs are independent (Kafka runs KRaft), and startup is mostly JVM warm-up.
  const starts = [zookeeper.start(options.startTimeoutMs), kafka.start(options.startTimeoutMs)];
  try {
    await Promise.all(starts);
  } catch (error) {
    await stop();
    await Promise.allSettled(starts);
    throw error;
  }
  logger.info({ dir, zookeeper: zookeeper.connectString, kafka: kafka.brokers, durationMs: Date.now() - started }, 'stack ready');
  return { zookeeper, kafka, ports, stop };
}

/** The configured ports, 0 replaced by free ones; each checked free so a stranger on the port is never taken for ours. */
async function choosePorts(options: StackOptions): Promise<Ports> {
  const wanted: [keyof Ports, number, string][] = [
    ['zookeeper', options.zkPort, 'ZK_PORT'],
    ['kafka', options.kafkaPort, 'KAFKA_PORT'],
    ['controller', options.kafkaControllerPort, 'KAFKA_CONTROLLER_PORT'],
  ];
  const taken = new Set(wanted.map(([, port]) => port).filter((port) => port !== 0));
  const chosen: Partial<Record<keyof Ports, number>> = {};
  for (const [key, port, variable] of wanted) {
    if (port === 0) {
      let free = await findFreePort();
      for (let attempt = 0; taken.has(free) && attempt < 20; attempt++) free = await findFreePort();
      taken.add(free);
      chosen[key] = free;
      continue;
    }
    if (!(await isPortFree(port))) {
      throw new StackError(
        'PORT_IN_USE',
        `${STACK_HOST}:${port} (${variable}) is already in use: another stack may be running (npx bitacora stack status), or set ${variable} to a free port`,
      );
    }
    chosen[key] = port;
  }
  return { zookeeper: chosen.zookeeper ?? 0, kafka: chosen.kafka ?? 0, controller: chosen.controller ?? 0 };
}

/** Two stacks on one STACK_DIR would share data folders; the second would corrupt or fail confusingly. */
async function refuseIfStackRuns(dir: string): Promise<void> {
  const running = await findStackProcesses(dir, ['attached', 'detached']);
  if (running.length > 0) {
    const described = running.map((entry) => `${entry.role} pid ${entry.pid}, ${entry.mode}`).join('; ');
    throw new StackError(
      'ALREADY_RUNNING',
      `a stack already runs in ${dir} (${described}): stop it (npx bitacora stack down, or Ctrl-C for npm start) or use another STACK_DIR`,
    );
  }
}

async function statusOf(dir: string, recorded: StackState | undefined, logger: Logger): Promise<StackStatus> {
  const processes = recorded
    ? await Promise.all(
        STACK_ROLES.map(async (role): Promise<StackProcessStatus> => {
          const { pid, port } = recorded[role];
          const alive = await isStackProcess(pid, dir, role);
          const answering =
            alive &&
            (role === 'kafka'
              ? await kafkaAnswers(recorded.kafkaBrokers, recorded.kafkaClusterId, logger)
              : await zookeeperAnswers(recorded.zookeeperConnectString));
          return { role, pid, port, alive, answering };
        }),
      )
    : [];
  const recordedPids = new Set(processes.map((entry) => entry.pid));
  const untracked = (await findStackProcesses(dir, ['detached', 'attached'])).filter((entry) => !recordedPids.has(entry.pid));
  const strays = untracked.filter((entry) => entry.mode === 'detached').length;
  let state: StackStatusState = 'partial';
  if (processes.length > 0 && processes.every((entry) => entry.answering) && strays === 0) state = 'running';
  else if (processes.every((entry) => !entry.alive) && strays === 0) state = 'down';
  return { state, dir, recorded, processes, untracked };
}

/** Stops the recorded processes still ours, and any unrecorded ones of this STACK_DIR; Kafka first. */
async function stopStackProcesses(dir: string, recorded: StackState | undefined, logger: Logger): Promise<{ pid: number; role: StackRole }[]> {
  const targets: { pid: number; role: StackRole }[] = [];
  for (const role of STACK_ROLES) {
    const pid = recorded?.[role].pid;
    if (pid === undefined) continue;
    if (await isStackProcess(pid, dir, role)) targets.push({ pid, role });
    else if (isPidAlive(pid)) logger.warn({ pid, role }, 'recorded pid now belongs to another process; leaving it alone');
  }
  for (const { pid, role } of await findStackProcesses(dir)) {
    if (targets.some((target) => target.pid === pid)) continue;
    logger.warn({ pid, role }, 'stopping a stack process that stack.json does not list');
    targets.push({ pid, role });
  }

  const stopped: { pid: number; role: StackRole }[] = [];
  for (const role of STACK_ROLES) {
    for (const target of targets.filter((entry) => entry.role === role)) {
      // Checked again right before the signal: the pid must be ours at that moment, not just a while ago.
      if (!(await isStackProcess(target.pid, dir, role))) continue;
      const graceMs = role === 'kafka' ? KAFKA_STOP_GRACE_MS : ZOOKEEPER_STOP_GRACE_MS;
      if (!(await terminatePid(target.pid, graceMs, logger, role))) {
        throw new StackError('STOP_FAILED', `${role} (pid ${target.pid}) is still running after SIGTERM and SIGKILL; check it with ps`);
      }
      logger.info(target, 'stack process stopped');
      stopped.push(target);
    }
  }
  return stopped;
}
