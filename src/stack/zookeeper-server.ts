import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as zookeeper from 'node-zookeeper-client';
import { withTimeout } from '../retry/retry';
import { STACK_HOST } from './free-port';
import type { JvmProcess } from './jvm-process';
import { createStackJvm, type StackJvmOptions } from './stack-jvm';

/** ZooKeeper exits within a second of SIGTERM; more than this means it hangs. */
export const ZOOKEEPER_STOP_GRACE_MS = 10_000;
/** One readiness probe; the overall wait is the caller's start timeout. */
const PROBE_TIMEOUT_MS = 3_000;
const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';

export type ZooKeeperServerOptions = StackJvmOptions;

/** A standalone ZooKeeper server on 127.0.0.1, data in STACK_DIR/zookeeper. */
export class ZooKeeperServer {
  readonly connectString: string;
  private readonly process: JvmProcess;
  private readonly configFile: string;
  private readonly dataDir: string;

  constructor(private readonly options: ZooKeeperServerOptions) {
    this.connectString = `${STACK_HOST}:${options.port}`;
    this.configFile = path.join(options.stackDir, 'zoo.cfg');
    this.dataDir = path.join(options.stackDir, 'zookeeper');
    this.process = createStackJvm(options, 'zookeeper', {
      mainClass: MAIN_CLASS,
      args: [this.configFile],
      jvmOptions: ['-Xms32m', '-Xmx256m', '-Dzookeeper.admin.enableServer=false', '-Dzookeeper.jmx.log4j.disable=true'],
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Writes zoo.cfg, spawns the server and resolves once a client session is established. */
  async start(timeoutMs: number): Promise<void> {
    await fs.mkdir(this.dataDir, { recursive: true });
    await fs.writeFile(this.configFile, this.config());
    this.process.start();
    await this.process.waitUntilReady(
      () => probeZooKeeper(this.connectString),
      timeoutMs,
      `a ZooKeeper session with ${this.connectString}`,
    );
  }

  stop(): Promise<void> {
    return this.process.stop(ZOOKEEPER_STOP_GRACE_MS);
  }

  private config(): string {
    return [
      '# Written by bitacora (src/stack/zookeeper-server.ts); rewritten on every start.',
      'tickTime=2000',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${this.dataDir}`,
      `clientPort=${this.options.port}`,
      `clientPortAddress=${STACK_HOST}`,
      // Tests open many sessions at once; the default of 60 per address would refuse them.
      'maxClientCnxns=0',
      'admin.enableServer=false',
      'autopurge.snapRetainCount=3',
      'autopurge.purgeInterval=1',
      '',
    ].join('\n');
  }
}

/** Establishes one real session (not just a TCP connect) and closes it; throws when none is established in time. */
export async function probeZooKeeper(connectString: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<true> {
  // retries: 0 and the close() in finally keep a failed probe from reconnecting in the background.
  const client = zookeeper.createClient(connectString, { sessionTimeout: 6_000, spinDelay: 200, retries: 0 });
  try {
    await withTimeout(
      new Promise<void>((resolve) => {
        client.once('connected', () => resolve());
        client.connect();
      }),
      timeoutMs,
      `ZooKeeper session with ${connectString}`,
    );
    return true;
  } finally {
    client.close();
  }
}

/** True when a ZooKeeper session can be established now. */
export async function zookeeperAnswers(connectString: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    return await probeZooKeeper(connectString, timeoutMs);
  } catch {
    return false;
  }
}
