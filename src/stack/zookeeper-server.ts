import { promises as fs } from 'node:fs';
import path from 'node:path';
import { exchangeFrame } from './framed-exchange';
import { STACK_HOST } from './free-port';
import type { StackJvmOptions, StackJvmProgram } from './stack-jvm';
import { StackServer } from './stack-server';

/** ZooKeeper exits within a second of SIGTERM; more than this means it hangs. */
export const ZOOKEEPER_STOP_GRACE_MS = 10_000;
/** One readiness probe; the overall wait is the caller's start timeout. */
const PROBE_TIMEOUT_MS = 3_000;
/** What the probe asks for; the probe closes its session at once anyway. */
const PROBE_SESSION_TIMEOUT_MS = 6_000;
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

/**
 * Establishes one real session (a ConnectRequest answered with a session id, not just a TCP connect), closes it, and
 * throws when none is established in time. Spoken over a plain socket of its own rather than through
 * node-zookeeper-client: that client's close() before a session exists leaves a socket that connects later open,
 * which kept `stack up` alive after it had printed its summary. Here every path ends in socket.destroy().
 */
export async function probeZooKeeper(connectString: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<true> {
  // length, protocolVersion 0, lastZxidSeen 0, timeOut, sessionId 0, passwd (16 zero bytes), readOnly false
  const request = Buffer.alloc(4 + 4 + 8 + 4 + 8 + 4 + 16 + 1);
  request.writeInt32BE(request.length - 4, 0);
  request.writeInt32BE(PROBE_SESSION_TIMEOUT_MS, 16);
  request.writeInt32BE(16, 28);
  // closeSession (xid 1, type -11): the probe's session ends now instead of at its timeout.
  const farewell = Buffer.alloc(12);
  farewell.writeInt32BE(8, 0);
  farewell.writeInt32BE(1, 4);
  farewell.writeInt32BE(-11, 8);
  const answer = await exchangeFrame({
    address: connectString.split(',')[0] ?? connectString,
    request,
    // protocolVersion, timeOut, sessionId, passwd (length + 16 bytes); anything much larger is not ZooKeeper.
    minBytes: 20,
    maxBytes: 1024,
    farewell,
    timeoutMs,
    description: `ZooKeeper session with ${connectString}`,
  });
  // The body: protocolVersion, then the negotiated timeout and the session id.
  if (answer.readInt32BE(4) <= 0 || answer.readBigInt64BE(8) === 0n) throw new Error(`ZooKeeper at ${connectString} refused the session`);
  return true;
}

/** True when a ZooKeeper session can be established now. */
export async function zookeeperAnswers(connectString: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    return await probeZooKeeper(connectString, timeoutMs);
  } catch {
    return false;
  }
}
