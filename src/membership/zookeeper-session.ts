import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import zookeeper, { type Client, type Stat } from 'node-zookeeper-client';
import type { Logger } from '../logging/logger';
import { backoffDelay } from '../retry/retry';
import { patchZooKeeperSocketData } from '../patches/zookeeper-socket-data';

const ANYONE = new zookeeper.Id('world', 'anyone');
/** ZooKeeper's OPEN_ACL_UNSAFE (the typings lack the library's constant). */
const OPEN_ACL = [new zookeeper.ACL(zookeeper.Permission.ALL, ANYONE)];

/** The session's state, changed only in setState(), which logs `from -> to` and emits `state`. */
export type SessionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface ZooKeeperSessionOptions {
  readonly connectString: string;
  readonly sessionTimeoutMs: number;
  /** How long one connection attempt may take before it is abandoned and retried. */
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** ZK_AUTH "user:password": sent as digest credentials on every connection, and what the znodes made are locked to. */
  readonly digestAuth?: string;
}

/**
 * One logical ZooKeeper session that outlives its clients. node-zookeeper-client's client is unusable once its
 * session expired, so on `expired` this opens a new client; a failed connection attempt is abandoned after
 * `connectTimeoutMs` and retried with capped, jittered backoff. Emits `connected` (with the client, on every
 * connection, so the owner can make sure it is registered and its watches are armed), `session` (a new session
 * began), `state` and `expired`.
 */
export class ZooKeeperSession extends EventEmitter {
  private client: Client | undefined;
  private state: SessionState = 'idle';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Sessions opened so far, the first included: a second one means an expiry was survived. */
  sessions = 0;
  lastError: string | undefined;
  /** Set when a server sent bytes that are not ZooKeeper's; kept until a registration succeeds. */
  protocolError: string | undefined;
  private readonly unguard: () => void;

  constructor(private readonly options: ZooKeeperSessionOptions) {
    super();
    this.unguard = patchZooKeeperSocketData((connection, error) => {
      if (connection !== (this.client as unknown as { connectionManager?: object } | undefined)?.connectionManager) return;
      this.protocolError = `the server at ZOOKEEPER_HOST does not speak ZooKeeper's protocol (${error instanceof Error ? error.message : String(error)})`;
      this.options.logger.warn(this.protocolError);
    });
  }

  /**
   * The ACL of every znode this session creates: open without ZK_AUTH; with it, full rights for the digest
   * identity that made it (every node shares ZK_AUTH) and read for everyone, so clients can still discover members.
   */
  get acls(): zookeeper.ACL[] {
    if (!this.options.digestAuth) return OPEN_ACL;
    return [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('auth', '')), new zookeeper.ACL(zookeeper.Permission.READ, ANYONE)];
  }

  get currentState(): SessionState {
    return this.state;
  }

  /** The live client, for operations; undefined while no session is up. */
  get current(): Client | undefined {
    return this.state === 'connected' ? this.client : undefined;
  }

  /** Starts connecting; resolves at the first session, or false after `waitMs` (the attempts go on). */
  start(waitMs: number): Promise<boolean> {
    if (this.state === 'idle') this.open();
    if (this.state === 'connected') return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.off('session', onSession);
        resolve(false);
      }, waitMs);
      const onSession = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.once('session', onSession);
    });
  }

  /** Closes the client (its ephemeral nodes go with the session) and stops reconnecting. */
  close(): void {
    this.unguard();
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    clearTimeout(this.reconnectTimer);
    this.client?.close();
    this.client = undefined;
    this.setState('closed');
  }

  private open(): void {
    if (this.state === 'closed') return;
    this.setState('connecting');
    this.attempt++;
    const client = zookeeper.createClient(this.options.connectString, {
      sessionTimeout: this.options.sessionTimeoutMs,
      spinDelay: 1_000,
      retries: 1,
    });
    if (this.options.digestAuth) client.addAuthInfo('digest', Buffer.from(this.options.digestAuth, 'utf8'));
    this.client = client;
    let everConnected = false;
    client.on('connected', () => {
      if (client !== this.client) return;
      clearTimeout(this.connectTimer);
      clearTimeout(this.reconnectTimer);
      this.attempt = 0;
      this.lastError = undefined;
      const fresh = !everConnected;
      everConnected = true;
      if (fresh) this.sessions++;
      this.setState('connected');
      this.emit('connected', client);
      if (fresh) this.emit('session', client);
    });
    client.on('disconnected', () => {
      if (client !== this.client || this.state === 'closed') return;
      this.lastError = 'connection to ZooKeeper lost';
      this.setState('disconnected');
      this.watchReconnection(client);
    });
    client.on('expired', () => {
      if (client !== this.client || this.state === 'closed') return;
      this.options.logger.warn('ZooKeeper session expired; opening a new one');
      this.lastError = 'ZooKeeper session expired';
      this.emit('expired');
      clearTimeout(this.reconnectTimer);
      client.close();
      this.open();
    });
    this.connectTimer = setTimeout(() => {
      if (client !== this.client || everConnected) return;
      this.lastError = `no ZooKeeper session within ${this.options.connectTimeoutMs} ms at ${this.options.connectString}`;
      client.close();
      this.client = undefined;
      const delay = backoffDelay(this.attempt, 500, 10_000);
      this.options.logger.warn({ attempt: this.attempt, delayMs: delay }, 'ZooKeeper unreachable; retrying');
      this.retryTimer = setTimeout(() => this.open(), delay);
    }, this.options.connectTimeoutMs);
    client.connect();
  }

  /**
   * node-zookeeper-client reconnects by itself after a disconnection, but once a TCP connection is up it waits for
   * the answer to its handshake without any timeout. ZooKeeper takes connections while it starts and may never
   * answer them, which left a node disconnected for good. So while disconnected, every `connectTimeoutMs` the
   * connection under way is dropped: the client then tries again, resuming its session if the server still has it.
   */
  private watchReconnection(client: Client): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (client !== this.client || this.state !== 'disconnected') return;
      // The library's own socket: no public way to abandon one attempt without closing the session.
      const socket = (client as unknown as { connectionManager?: { socket?: Socket } }).connectionManager?.socket;
      if (socket && !socket.destroyed) {
        this.options.logger.warn({ timeoutMs: this.options.connectTimeoutMs }, 'no answer from ZooKeeper to a reconnection; trying again');
        socket.destroy();
      }
      this.watchReconnection(client);
    }, this.options.connectTimeoutMs);
  }

  private setState(next: SessionState): void {
    if (next === this.state) return;
    this.options.logger.info({ from: this.state, to: next }, 'ZooKeeper session state');
    this.state = next;
    this.emit('state', next);
  }
}

/** Promise forms of the client operations membership uses. */
export const zk = {
  mkdirp(client: Client, path: string, acls: zookeeper.ACL[] = OPEN_ACL): Promise<void> {
    return new Promise((resolve, reject) => client.mkdirp(path, acls, zookeeper.CreateMode.PERSISTENT, (error) => (error ? reject(error) : resolve())));
  },
  createEphemeral(client: Client, path: string, data: Buffer, acls: zookeeper.ACL[] = OPEN_ACL): Promise<void> {
    return new Promise((resolve, reject) =>
      client.create(path, data, acls, zookeeper.CreateMode.EPHEMERAL, (error) => (error ? reject(error) : resolve())),
    );
  },
  exists(client: Client, path: string, watcher?: () => void): Promise<Stat | undefined> {
    return new Promise((resolve, reject) => {
      const callback = (error: unknown, stat: Stat): void => (error ? reject(error) : resolve(stat ?? undefined));
      if (watcher) client.exists(path, watcher, callback);
      else client.exists(path, callback);
    });
  },
  getChildren(client: Client, path: string, watcher: () => void): Promise<string[]> {
    return new Promise((resolve, reject) => client.getChildren(path, watcher, (error, children) => (error ? reject(error) : resolve(children))));
  },
  getData(client: Client, path: string): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) =>
      client.getData(path, (error, data) => {
        if (error && isNoNode(error)) resolve(undefined);
        else if (error) reject(error);
        else resolve(data ?? undefined);
      }),
    );
  },
  remove(client: Client, path: string): Promise<void> {
    return new Promise((resolve, reject) => client.remove(path, (error) => (error && !isNoNode(error) ? reject(error) : resolve())));
  },
};

export function isNoNode(error: unknown): boolean {
  return error instanceof zookeeper.Exception && error.getCode() === zookeeper.Exception.NO_NODE;
}

export function isNodeExists(error: unknown): boolean {
  return error instanceof zookeeper.Exception && error.getCode() === zookeeper.Exception.NODE_EXISTS;
}
