import { EventEmitter } from 'node:events';
import type zookeeper from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import type { Logger } from '../logging/logger';
import { encodeMember, type Member, parseMember } from './member';
import { Status } from '../lifecycle/status';
import { isNodeExists, type SessionState, zk, ZooKeeperSession } from './zookeeper-session';

/** Another live node uses this NODENAME; the message says what to change. */
export class DuplicateNodeNameError extends Error {
  override name = 'DuplicateNodeNameError';
}

/** Membership's life: `running` once start() returned (registered, or serving without ZooKeeper and retrying). */
export type MembershipStatus = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface MembershipOptions {
  readonly connectString: string;
  /** ZK_ROOT; members live under `<root>/nodes`. */
  readonly root: string;
  /** This node, to register; absent for an observer (a client) that only watches the member list. */
  readonly self?: Member;
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** ZK_AUTH "user:password" (ZooKeeper digest authentication); undefined for none. */
  readonly digestAuth?: string;
}

/** What /cluster and /health/ready show of membership. */
export interface MembershipReport {
  readonly zookeeper: SessionState;
  readonly registered: boolean;
  readonly sessions: number;
  readonly peers: number;
  readonly error: string | undefined;
}

/**
 * The node's place in the cluster: an ephemeral znode `<root>/nodes/<name>` holding its Member JSON, and the list
 * of the others, kept by a children watch that is re-armed every time it fires (ZooKeeper watches are one-shot).
 * On connection loss the last known peers are kept; on session expiry a new session registers again.
 */
export class Membership extends EventEmitter {
  private readonly session: ZooKeeperSession;
  private readonly nodesPath: string;
  private readonly selfPath: string;
  private members = new Map<string, Member>();
  private registered = false;
  private registering = false;
  private registrationError: string | undefined;
  private conflict: string | undefined;
  private readonly lifecycle: Status<MembershipStatus>;
  private stopping: Promise<void> | undefined;
  private refreshing = false;
  private refreshAgain = false;

  constructor(private readonly options: MembershipOptions) {
    super();
    this.lifecycle = new Status<MembershipStatus>('created', options.logger, 'membership');
    this.nodesPath = `${options.root}/nodes`;
    this.selfPath = `${this.nodesPath}/${options.self?.name ?? ''}`;
    this.session = new ZooKeeperSession({
      connectString: options.connectString,
      sessionTimeoutMs: options.sessionTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      logger: options.logger,
      digestAuth: options.digestAuth,
    });
    this.session.on('connected', (client: Client) => void this.onConnected(client));
    this.session.on('expired', () => {
      this.registered = false;
    });
  }

  /**
   * Connects and registers. A live node with the same name is refused (DuplicateNodeNameError); ZooKeeper being
   * unreachable is not: the node starts anyway and registers once a session comes up.
   */
  async start(): Promise<void> {
    this.lifecycle.set('starting');
    await this.join();
    if (this.lifecycle.value === 'starting') this.lifecycle.set('running');
  }

  private async join(): Promise<void> {
    const outcome = new Promise<void>((resolve, reject) => {
      this.once(this.options.self ? 'registered' : 'listed', resolve);
      this.once('registration-failed', resolve);
      this.once('conflict', reject);
    });
    outcome.catch(() => undefined);
    const connected = await this.session.start(this.options.connectTimeoutMs);
    if (!connected) {
      this.options.logger.warn({ zookeeper: this.options.connectString }, 'ZooKeeper unreachable at start; serving anyway and retrying');
      return;
    }
    // Registration may wait out a previous session of this name (see register); never longer than that.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.sessionTimeoutMs + this.options.connectTimeoutMs + 2_000);
    });
    try {
      await Promise.race([outcome, bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The other members, as last seen. */
  peers(): Member[] {
    return [...this.members.values()].filter((m) => m.name !== this.options.self?.name);
  }

  /** Every member as this node sees it, itself included even when not (yet) registered. */
  list(): Array<Member & { self: boolean }> {
    const all = new Map(this.members);
    if (this.options.self) all.set(this.options.self.name, this.options.self);
    return [...all.values()].sort((a, b) => a.name.localeCompare(b.name)).map((m) => ({ ...m, self: m.name === this.options.self?.name }));
  }

  report(): MembershipReport {
    return {
      zookeeper: this.session.currentState,
      registered: this.registered,
      sessions: this.session.sessions,
      peers: this.peers().length,
      error: this.conflict ?? (this.registered ? undefined : (this.session.protocolError ?? this.registrationError ?? this.session.lastError)),
    };
  }

  /** The live session's client and ACLs while this node is registered (mirror fences live in the same session). */
  sessionAccess(): { readonly client: Client; readonly acls: zookeeper.ACL[] } | undefined {
    const client = this.session.current;
    return client && this.registered ? { client, acls: this.session.acls } : undefined;
  }

  /** The live client (tests use its session to force an expiry). */
  get client(): Client | undefined {
    return this.session.current;
  }

  /** Removes the registration and closes the session; idempotent: a second call returns the first call's promise. */
  stop(timeoutMs = 2_000): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.lifecycle.set('stopping');
    const client = this.session.current;
    if (client && this.registered) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([zk.remove(client, this.selfPath).catch(() => undefined), bound]);
      clearTimeout(timer);
    }
    this.registered = false;
    this.session.close();
    this.lifecycle.set('stopped');
  }

  /** True from the moment stop() is called. */
  private get stopped(): boolean {
    return this.lifecycle.value === 'stopping' || this.lifecycle.value === 'stopped';
  }

  get status(): MembershipStatus {
    return this.lifecycle.value;
  }

  /**
   * On every connection: register if not registered (first session, a new session after expiry, or an attempt
   * that failed), then re-read the members (changes may have been missed while disconnected).
   */
  private async onConnected(client: Client): Promise<void> {
    if (this.stopped || this.conflict) return;
    const self = this.options.self;
    if (self && !this.registered && !this.registering) {
      this.registering = true;
      try {
        await zk.mkdirp(client, this.nodesPath, this.session.acls);
        await this.register(client, self);
        this.registered = true;
        this.registrationError = undefined;
        this.session.protocolError = undefined;
        this.options.logger.info({ path: this.selfPath }, 'registered in ZooKeeper');
        this.emit('registered');
      } catch (error) {
        if (error instanceof DuplicateNodeNameError) {
          this.conflict = error.message;
          this.options.logger.error({ path: this.selfPath }, error.message);
          this.emit('conflict', error);
          return;
        }
        if (!this.stopped) {
          this.registrationError = `could not register in ZooKeeper: ${error instanceof Error ? error.message : String(error)}`;
          this.options.logger.warn({ err: error }, 'registration failed; retried on the next connection');
          this.emit('registration-failed', error);
        }
        return;
      } finally {
        this.registering = false;
      }
    }
    // An observer may come before any node: the folder must exist for the children watch to be set.
    if (!self) await zk.mkdirp(client, this.nodesPath, this.session.acls).catch(() => undefined);
    await this.refresh(client);
  }

  /**
   * Creates the ephemeral znode. If one exists it may be a previous run of this node killed before its session
   * ended: wait up to a session timeout (plus a margin) for ZooKeeper to remove it; if it stays, a live node owns it.
   */
  private async register(client: Client, self: Member): Promise<void> {
    const deadline = Date.now() + this.options.sessionTimeoutMs + 2_000;
    for (;;) {
      try {
        await zk.createEphemeral(client, this.selfPath, encodeMember(self), this.session.acls);
        return;
      } catch (error) {
        if (!isNodeExists(error)) throw error;
      }
      const gone = new Promise<void>((resolve) => {
        zk.exists(client, this.selfPath, () => resolve()).then((stat) => !stat && resolve(), () => resolve());
      });
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DuplicateNodeNameError(
          `another live node is registered as "${self.name}" at ${this.selfPath}: give each node a unique NODENAME`,
        );
      }
      this.options.logger.info({ path: this.selfPath, waitMs: left }, 'our name is registered; waiting for a previous session to expire');
      await Promise.race([gone, new Promise((r) => setTimeout(r, Math.min(left, 1_000)))]);
      if (this.stopped) throw new Error('stopped');
    }
  }

  /** Reads the children and their data, re-arming the children watch; refreshes coalesce. */
  private async refresh(client: Client): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.refreshAgain = false;
        const names = await zk.getChildren(client, this.nodesPath, () => {
          if (!this.stopped && client === this.session.current) void this.refresh(client);
        });
        const next = new Map<string, Member>();
        await Promise.all(
          names.map(async (name) => {
            // Read every time: a node that re-registered between two refreshes may have a new address.
            const member = parseMember(name, await zk.getData(client, `${this.nodesPath}/${name}`));
            if (member) next.set(name, member);
          }),
        );
        const before = [...this.members.keys()].sort().join(',');
        this.members = next;
        this.emit('listed');
        if ([...next.keys()].sort().join(',') !== before) {
          this.options.logger.info({ members: [...next.keys()] }, 'cluster membership changed');
          this.emit('change', this.list());
        }
      } while (this.refreshAgain && !this.stopped);
    } catch (error) {
      // Connection loss: keep the last known peers; the next session (or reconnection watch) refreshes again.
      this.options.logger.warn({ err: error }, 'could not read the member list; keeping the last one');
    } finally {
      this.refreshing = false;
    }
  }
}
