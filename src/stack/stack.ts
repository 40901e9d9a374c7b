import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Environment } from '../config/env-parsers';
import { brokerPorts, MAX_STACK_BROKERS, type SaslPlainCredentials } from '../config/stack-config';
import type { Logger } from '../logging/logger';
import { findFreePort, isPortFree, STACK_HOST } from './free-port';
import { locateJava } from './java-tools';
import { KAFKA_STOP_GRACE_MS, kafkaAnswers } from './kafka-broker';
import { KafkaCluster, type BrokerPorts } from './kafka-cluster';
import { resolveJars } from './jar-distribution';
import { writeLoggingConfig } from './log4j-config';
import { DEFAULT_KAFKA_VERSION, type KafkaVersion, kafkaJars, zookeeperJars } from './stack-versions';
import { isPidAlive, terminatePid } from './process-control';
import { StackError } from './stack-error';
import type { StackService } from './stack-service';
import {
  findStackProcesses,
  isOrphanedAttached,
  isStackProcess,
  kafkaServiceName,
  readStackState,
  removeStackState,
  writeStackState,
  type FoundStackProcess,
  type StackMode,
  type StackRole,
  type StackServiceName,
  type StackState,
} from './stack-state';
import { ZOOKEEPER_STOP_GRACE_MS, ZooKeeperServer, zookeeperAnswers } from './zookeeper-server';

export type { StackService } from './stack-service';

export interface StackOptions {
  /** STACK_DIR: data, logs and stack.json; relative paths are taken from the current directory. */
  readonly dir: string;
  /** 0 picks a free port (tests); so do the others. */
  readonly zkPort: number;
  /** The first broker's ports; broker i adds PORTS_PER_BROKER·(i−1) (see brokerPorts), a 0 picks free ones for all. */
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  /** How many brokers, 1 (the default) to MAX_STACK_BROKERS; each is also a voter of the KRaft controller quorum. */
  readonly brokers?: number;
  /** Adds a SASL_PLAINTEXT listener (PLAIN mechanism) accepting this one user to every broker. */
  readonly saslPlain?: SaslPlainCredentials;
  /** The first broker's SASL_PLAINTEXT port, used with saslPlain; free ports when 0 or omitted. */
  readonly saslPort?: number;
  /** The Kafka release the brokers run; DEFAULT_KAFKA_VERSION when omitted. */
  readonly kafkaVersion?: KafkaVersion;
  /** Machine-wide cache of the Kafka jars (STACK_CACHE_DIR). */
  readonly cacheDir: string;
  /** How long ZooKeeper and Kafka get to answer, once the jars are there. */
  readonly startTimeoutMs: number;
  readonly logger: Logger;
  /** Where java and mvn are looked up and what the JVMs run with; this process's environment when omitted. */
  readonly env?: Environment;
  /** Extra server.properties for every broker, written after (so over) the stack's own, e.g. log.cleaner.backoff.ms for tests. */
  readonly brokerProperties?: Readonly<Record<string, string>>;
}

/** A stack whose JVMs are children of this process; stop() (or this process exiting) ends them. */
export interface RunningStack {
  readonly zookeeperConnectString: string;
  /** Bootstrap list: every broker's PLAINTEXT address, node.id order. */
  readonly kafkaBrokers: string[];
  readonly dir: string;
  readonly kafkaClusterId: string;
  /** The Kafka release the brokers run. */
  readonly kafkaVersion: KafkaVersion;
  /** Stops every broker, then ZooKeeper; idempotent, bounded by timeouts. */
  stop(): Promise<void>;
  readonly zookeeper: StackService;
  /** Index 0 is node.id 1. */
  readonly kafka: readonly StackService[];
  /** SASL_PLAINTEXT (PLAIN mechanism) addresses of every broker, present only when saslPlain was asked for. */
  readonly saslBrokers?: string[];
}

/** What stackUp() did: the recorded stack, and whether it was running already. */
export interface StackUpResult extends StackState {
  readonly alreadyRunning: boolean;
}

export interface StackProcessStatus {
  readonly role: StackRole;
  /** 'zookeeper', 'kafka-1', ... */
  readonly service: StackServiceName;
  readonly pid: number;
  readonly port: number;
  /** The pid is alive and still the process stack.json recorded. */
  readonly alive: boolean;
  /** A ZooKeeper session succeeded just now / this broker served metadata listing itself. */
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
  readonly untracked: readonly FoundStackProcess[];
}

/** A process `stack down` stopped. */
export interface StoppedProcess {
  readonly pid: number;
  readonly role: StackRole;
  readonly service: StackServiceName;
}

export interface StackDownResult {
  readonly dir: string;
  /** Brokers first, then ZooKeeper. */
  readonly stopped: readonly StoppedProcess[];
}

/**
 * Starts ZooKeeper and the brokers as attached children and resolves once all answer; for tests and `npm start`.
 * Each server can be stopped, killed and started again through `zookeeper` and `kafka`.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const dir = path.resolve(options.dir);
  const launched = await launch(options, 'attached');
  const sasl = launched.kafka.saslAddresses;
  return {
    zookeeperConnectString: launched.zookeeper.connectString,
    kafkaBrokers: launched.kafka.addresses,
    ...(sasl ? { saslBrokers: sasl } : {}),
    dir,
    kafkaClusterId: launched.kafka.clusterId,
    kafkaVersion: launched.kafkaVersion,
    zookeeper: launched.zookeeper,
    kafka: launched.kafka.brokers,
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
    const status = await statusOf(dir, recorded);
    if (status.state === 'running') {
      refuseIfShapeDiffers(recorded, options);
      options.logger.info({ dir, zookeeper: recorded.zookeeperConnectString, kafka: recorded.kafkaBrokers }, 'stack already running');
      return { ...recorded, alreadyRunning: true };
    }
    options.logger.info({ dir }, 'recorded stack is not fully running; replacing it');
  }
  await stopStackProcesses(dir, recorded, options.logger);
  await removeStackState(dir);

  const launched = await launch(options, 'detached');
  const sasl = launched.kafka.saslAddresses;
  const state: StackState = {
    version: 2,
    dir,
    startedAt: new Date().toISOString(),
    zookeeperConnectString: launched.zookeeper.connectString,
    kafkaBrokers: launched.kafka.addresses,
    ...(sasl ? { saslBrokers: sasl } : {}),
    kafkaClusterId: launched.kafka.clusterId,
    kafkaVersion: launched.kafkaVersion,
    zookeeper: { pid: launched.zookeeper.pid ?? 0, port: launched.ports.zookeeper },
    kafka: launched.ports.brokers.map((ports, index) => ({ ...ports, pid: launched.kafka.brokers[index]?.pid ?? 0 })),
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

/** Stops the detached stack of STACK_DIR (every broker, then ZooKeeper), checking each pid is still ours before signalling it. */
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
  return statusOf(dir, await readStackState(dir));
}

interface Ports {
  readonly zookeeper: number;
  /** node.id order. */
  readonly brokers: readonly BrokerPorts[];
}

interface Launched {
  readonly zookeeper: ZooKeeperServer;
  readonly kafka: KafkaCluster;
  readonly ports: Ports;
  readonly kafkaVersion: KafkaVersion;
  readonly stop: () => Promise<void>;
}

/** The requested number of brokers; a programmer error when outside 1..MAX_STACK_BROKERS (config validates user input). */
function brokerCount(options: Pick<StackOptions, 'brokers'>): number {
  const count = options.brokers ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_STACK_BROKERS) {
    throw new RangeError(`brokers must be a whole number from 1 to ${MAX_STACK_BROKERS}, got ${count}`);
  }
  return count;
}

async function launch(options: StackOptions, mode: StackMode): Promise<Launched> {
  // The one default that touches process.env: children inherit it anyway, and java/mvn are found on its PATH.
  const env = options.env ?? process.env;
  const dir = path.resolve(options.dir);
  const logger = options.logger;
  const count = brokerCount(options);
  const java = await locateJava(env);
  await stopOrphanedAttached(dir, logger);
  await refuseIfStackRuns(dir);
  const kafkaVersion = options.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
  const resolving = { cacheDir: options.cacheDir, env, logger };
  const [kafkaDistribution, zookeeperDistribution] = await Promise.all([resolveJars(kafkaJars(kafkaVersion), resolving), resolveJars(zookeeperJars(), resolving)]);
  const ports = await choosePorts(options, count);
  await fs.mkdir(path.join(dir, 'logs'), { recursive: true });
  const logging = await writeLoggingConfig(dir);

  const common = { stackDir: dir, java: java.executable, logging, mode, env, logger, startTimeoutMs: options.startTimeoutMs };
  const zookeeper = new ZooKeeperServer({ ...common, classpath: zookeeperDistribution.classpath, port: ports.zookeeper });
  const kafka = new KafkaCluster({
    ...common,
    classpath: kafkaDistribution.classpath,
    brokers: ports.brokers,
    ...(options.saslPlain ? { saslPlain: options.saslPlain } : {}),
    ...(options.brokerProperties ? { brokerProperties: options.brokerProperties } : {}),
  });
  const stopping = new AbortController();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping.abort();
    stopped ??= (async () => {
      // Kafka first, as `stack down` does: its shutdown is the stateful one and should see everything else still up.
      await kafka.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping Kafka failed'));
      await zookeeper.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping ZooKeeper failed'));
    })();
    return stopped;
  };

  const started = Date.now();
  logger.info(
    { dir, mode, brokers: count, zkPort: ports.zookeeper, kafkaPorts: ports.brokers.map((broker) => broker.port), kafkaVersion },
    'starting stack',
  );
  // In parallel: ZooKeeper and Kafka are independent (Kafka runs KRaft), and startup is mostly JVM warm-up.
  const starts = [zookeeper.start(options.startTimeoutMs), kafka.start(options.startTimeoutMs, stopping.signal)];
  try {
    await Promise.all(starts);
  } catch (error) {
    await stop();
    await Promise.allSettled(starts);
    throw error;
  }
  logger.info({ dir, zookeeper: zookeeper.connectString, kafka: kafka.addresses, kafkaVersion, durationMs: Date.now() - started }, 'stack ready');
  return { zookeeper, kafka, ports, kafkaVersion, stop };
}

/**
 * Every port of the stack: the configured ones (broker i's shifted as brokerPorts says), each checked free so a
 * stranger on the port is never taken for ours, and free ones where 0 was asked for.
 */
async function choosePorts(options: StackOptions, count: number): Promise<Ports> {
  const first = { kafkaPort: options.kafkaPort, kafkaControllerPort: options.kafkaControllerPort, saslPort: options.saslPort ?? 0 };
  const wanted: { port: number; variable: string; owner: string }[] = [{ port: options.zkPort, variable: 'ZK_PORT', owner: 'ZooKeeper' }];
  for (let nodeId = 1; nodeId <= count; nodeId++) {
    const ports = brokerPorts(first, nodeId);
    const owner = `broker ${nodeId}`;
    wanted.push({ port: ports.port, variable: 'KAFKA_PORT', owner }, { port: ports.controllerPort, variable: 'KAFKA_CONTROLLER_PORT', owner });
    if (options.saslPlain) wanted.push({ port: ports.saslPort, variable: 'STACK_SASL_PORT', owner });
  }
  const taken = new Set(wanted.map(({ port }) => port).filter((port) => port !== 0));
  const chosen: number[] = [];
  for (const { port, variable, owner } of wanted) {
    if (port === 0) {
      let free = await findFreePort();
      for (let attempt = 0; taken.has(free) && attempt < 20; attempt++) free = await findFreePort();
      taken.add(free);
      chosen.push(free);
      continue;
    }
    if (!(await isPortFree(port))) {
      const shifted = owner === 'ZooKeeper' || owner === 'broker 1' ? '' : `, ${owner}'s`;
      throw new StackError(
        'PORT_IN_USE',
        `${STACK_HOST}:${port} (${variable}${shifted}) is already in use: another stack may be running (npx bitacora stack status), or set ${variable} to a free port`,
      );
    }
    chosen.push(port);
  }
  const perBroker = options.saslPlain ? 3 : 2;
  const brokers = Array.from({ length: count }, (_, index): BrokerPorts => {
    const [port, controllerPort, saslPort] = chosen.slice(1 + index * perBroker, 1 + (index + 1) * perBroker) as [number, number, number?];
    return { nodeId: index + 1, port, controllerPort, ...(saslPort === undefined ? {} : { saslPort }) };
  });
  return { zookeeper: chosen[0] ?? 0, brokers };
}

/**
 * Attached JVMs whose parent died without stopping them (its watchdog normally ends them within seconds; a watchdog
 * killed too, or one from an older version, does not) hold the stack's ports and data: they are stopped here.
 */
async function stopOrphanedAttached(dir: string, logger: Logger): Promise<void> {
  const orphans = (await findStackProcesses(dir, ['attached'])).filter(isOrphanedAttached);
  if (orphans.length > 0) await stopStackProcesses(dir, undefined, logger);
}

/** Two stacks on one STACK_DIR would share data folders; the second would corrupt or fail confusingly. */
async function refuseIfStackRuns(dir: string): Promise<void> {
  const running = await findStackProcesses(dir, ['attached', 'detached']);
  if (running.length > 0) {
    const described = running.map((entry) => `${entry.service} pid ${entry.pid}, ${entry.mode}`).join('; ');
    throw new StackError(
      'ALREADY_RUNNING',
      `a stack already runs in ${dir} (${described}): stop it (npx bitacora stack down, or Ctrl-C for npm start) or use another STACK_DIR`,
    );
  }
}

/** `stack up` leaves a running stack alone only when it is the one asked for; silently keeping another would mislead. */
function refuseIfShapeDiffers(recorded: StackState, options: StackOptions): void {
  const wanted = brokerCount(options);
  const running = recorded.kafka.length;
  const differences: string[] = [];
  if (running !== wanted) differences.push(`it has ${running} broker${running === 1 ? '' : 's'}, not ${wanted} (--brokers / STACK_BROKERS)`);
  const version = options.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
  if (recorded.kafkaVersion !== undefined && recorded.kafkaVersion !== version) {
    differences.push(`it runs Kafka ${recorded.kafkaVersion}, not ${version} (--kafka-version / STACK_KAFKA_VERSION)`);
  }
  if (Boolean(recorded.saslBrokers) !== Boolean(options.saslPlain)) {
    differences.push(recorded.saslBrokers ? 'it has a SASL listener, not asked for now (--sasl-plain)' : 'it has no SASL listener (--sasl-plain)');
  }
  if (differences.length > 0) {
    throw new StackError(
      'ALREADY_RUNNING',
      `another stack already runs in ${recorded.dir}: ${differences.join('; ')}. Stop it first (npx bitacora stack down) or use another STACK_DIR`,
    );
  }
}

/** The recorded processes in stop order (brokers, then ZooKeeper), each with its service name. */
function recordedProcesses(recorded: StackState): { service: StackServiceName; role: StackRole; pid: number; port: number; nodeId?: number }[] {
  return [
    ...recorded.kafka.map((broker) => ({ service: kafkaServiceName(broker.nodeId), role: 'kafka' as const, pid: broker.pid, port: broker.port, nodeId: broker.nodeId })),
    { service: 'zookeeper' as const, role: 'zookeeper' as const, pid: recorded.zookeeper.pid, port: recorded.zookeeper.port },
  ];
}

async function statusOf(dir: string, recorded: StackState | undefined): Promise<StackStatus> {
  const processes = recorded
    ? await Promise.all(
        recordedProcesses(recorded).map(async ({ service, role, pid, port, nodeId }): Promise<StackProcessStatus> => {
          const alive = await isStackProcess(pid, dir, service);
          const answering =
            alive &&
            (nodeId === undefined
              ? await zookeeperAnswers(recorded.zookeeperConnectString)
              : await kafkaAnswers(`${STACK_HOST}:${port}`, recorded.kafkaClusterId, [nodeId]));
          return { role, service, pid, port, alive, answering };
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

/** Stops the recorded processes still ours, and any unrecorded ones of this STACK_DIR: every broker at once, then ZooKeeper. */
async function stopStackProcesses(dir: string, recorded: StackState | undefined, logger: Logger): Promise<StoppedProcess[]> {
  const targets: StoppedProcess[] = [];
  for (const { pid, role, service } of recorded ? recordedProcesses(recorded) : []) {
    if (await isStackProcess(pid, dir, service)) targets.push({ pid, role, service });
    else if (isPidAlive(pid)) logger.warn({ pid, service }, 'recorded pid now belongs to another process; leaving it alone');
  }
  for (const found of await findStackProcesses(dir, ['detached', 'attached'])) {
    const { pid, role, service } = found;
    if (targets.some((target) => target.pid === pid) || (found.mode === 'attached' && !isOrphanedAttached(found))) continue;
    logger.warn({ pid, service, mode: found.mode }, 'stopping a stack process that stack.json does not list');
    targets.push({ pid, role, service });
  }

  const stopOne = async (target: StoppedProcess): Promise<StoppedProcess | undefined> => {
    // Checked again right before the signal: the pid must be ours at that moment, not just a while ago.
    if (!(await isStackProcess(target.pid, dir, target.service, ['detached', 'attached']))) return undefined;
    const graceMs = target.role === 'kafka' ? KAFKA_STOP_GRACE_MS : ZOOKEEPER_STOP_GRACE_MS;
    if (!(await terminatePid(target.pid, graceMs, logger, target.service))) {
      throw new StackError('STOP_FAILED', `${target.service} (pid ${target.pid}) is still running after SIGTERM and SIGKILL; check it with ps`);
    }
    logger.info(target, 'stack process stopped');
    return target;
  };
  const byNodeOrder = (a: StoppedProcess, b: StoppedProcess): number => a.service.localeCompare(b.service, 'en', { numeric: true });
  // Brokers together: stopped one by one, the last ones would wait for a controller quorum that is gone.
  const brokers = await Promise.all(targets.filter((target) => target.role === 'kafka').sort(byNodeOrder).map(stopOne));
  const zookeepers = [];
  for (const target of targets.filter((entry) => entry.role === 'zookeeper')) zookeepers.push(await stopOne(target));
  return [...brokers, ...zookeepers].filter((entry): entry is StoppedProcess => entry !== undefined);
}
