import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as zookeeper from 'node-zookeeper-client';
import { guardZooKeeperClient } from '../membership/zookeeper-client-guard';
import { withTimeout } from '../retry/retry';
import { STACK_HOST } from './free-port';
import type { StackJvmOptions, StackJvmProgram } from './stack-jvm';
import { StackServer } from './stack-server';

/** ZooKeeper exits within a second of SIGTERM; more than this means it hangs. */
export const ZOOKEEPER_STOP_GRACE_MS = 10_000;
/** One readiness probe; the overall wait is the caller's start timeout. */
const PROBE_TIMEOUT_MS = 3_000;
const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';

export type ZooKeeperServerOptions = StackJvmOptions;

/** A standalone ZooKeeper server on 127.0.0.1, data in STACK_DIR/zookeeper; can be stopped and started again. */
export class ZooKeeperServer extends StackServer {
  readonly connectString: string;
  private readonly configFile: string;
  private readonly dataDir: string;

  constructor(private readonly options: ZooKeeperServerOptions) {
    super('zookeeper', options, ZOOKEEPER_STOP_GRACE_MS);
    this.connectString = `${STACK_HOST}:${options.port}`;
    this.configFile = path.join(options.stackDir, 'zoo.cfg');
    this.dataDir = path.join(options.stackDir, 'zookeeper');
  }

  /** Writes zoo.cfg; the server then resolves start() once a client session is established. */
  protected override async prepare(): Promise<StackJvmProgram> {
    await fs.mkdir(this.dataDir, { recursive: true });
    await fs.writeFile(this.configFile, this.config());
    return {
      mainClass: MAIN_CLASS,
      args: [this.configFile],
      jvmOptions: ['-Xms32m', '-Xmx256m', '-Dzookeeper.admin.enableServer=false', '-Dzookeeper.jmx.log4j.disable=true'],
    };
  }

  protected override probe(): Promise<boolean> {
    return probeZooKeeper(this.connectString);
  }

  protected override readiness(): string {
    return `a ZooKeeper session with ${this.connectString}`;
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
  // A port taken by something else (a race with another stack starting) must fail the probe, not crash the process.
  const unguard = guardZooKeeperClient(() => undefined);
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
    unguard();
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
