import type { Client } from 'node-zookeeper-client';
import type { Logger } from '../logging/logger';
import { Status } from '../lifecycle/status';
import { backoffDelay, withTimeout } from '../retry/retry';
import type { Membership } from './membership';
import { isNodeExists, zk } from './zookeeper-session';

/** How often the role re-checks its designation, its fences and the work waiting (a round runs at once after one that copied something). */
export const MIRROR_INTERVAL_MS = 500;
/** The longest wait after failed rounds in a row (a jittered backoff from MIRROR_INTERVAL_MS). */
const MIRROR_RETRY_MAX_MS = 30_000;
/** Bounds each ZooKeeper operation of the role; a slow one is retried on the next tick. */
const FENCE_OPERATION_TIMEOUT_MS = 5_000;

export type MirrorRoleStatus = 'created' | 'running' | 'stopping' | 'stopped';

/** Per source partition this node holds the fence of: catching up first, then mirroring. */
type HeldState = 'catching-up' | 'mirroring';

/** The mirroring role's state, for readiness detail, /stats and metrics. */
export interface MirrorReport {
  readonly status: MirrorRoleStatus;
  /** Source partitions whose fence this node holds, and what it does with each. */
  readonly partitions: Readonly<Record<string, HeldState>>;
  /** Per mirrored source partition, the keys whose last record there is not copied yet (as this node applied it). */
  readonly lagRecords: Readonly<Record<string, number>>;
  readonly recordsMirrored: number;
  readonly error: string | undefined;
}

export interface MirrorRoleOptions {
  readonly membership: Membership;
  /** ZK_ROOT: fences live at `<root>/mirrors/<topic>/<partition>`. */
  readonly root: string;
  readonly topic: string;
  readonly self: string;
  /** Every partition of the topic (added ones included: all their records are misrouted). */
  readonly partitions: () => readonly number[];
  /** The node has applied the topic up to the ends it found at start. */
  readonly ready: () => boolean;
  /** Waits until the node has applied every partition up to its end now: the idempotence check then sees every side record written before. */
  readonly catchUp: (timeoutMs: number) => Promise<void>;
  /** One mirroring round for a source partition; resolves with the side records written. */
  readonly mirror: (source: number) => Promise<number>;
  /** Whether keys of the source partition wait to be mirrored (no ZooKeeper round trip is spent on a partition without). */
  readonly hasWork: (source: number) => boolean;
  readonly lag: (source: number) => number;
  readonly catchUpTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * The designated mirroring node of a source partition, computed by every node the same way from the members
 * ZooKeeper lists: the members' names sorted, the partition's number modulo their count.
 */
export function designatedMirror(partition: number, members: readonly string[]): string | undefined {
  const names = [...members].sort();
  return names.length === 0 ? undefined : names[partition % names.length];
}

/**
 * #13's mirroring role. For each source partition this node is designated for, it takes the partition's fence, an
 * ephemeral znode `<ZK_ROOT>/mirrors/<topic>/<p>` (so two nodes never mirror one partition at once during a hand-over: the
 * next designated node waits until the previous one released it, or its session ended), catches up with the whole
 * topic, then mirrors, checking before every round that the fence is still its own (a new session loses it). A
 * partition it is no longer designated for is released. Rounds never overlap; stop() releases every fence.
 */
export class MirrorRole {
  private readonly lifecycle: Status<MirrorRoleStatus>;
  private readonly held = new Map<number, HeldState>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private recordsMirrored = 0;
  private lastError: string | undefined;
  /** Failed passes in a row: the next one waits longer (jittered), so a lasting failure is neither hot nor noisy. */
  private failures = 0;
  /** The ZooKeeper session the held fences were taken in: a new session holds none of them. */
  private fenceSession: Buffer | undefined;
  private folderMade = false;

  constructor(private readonly options: MirrorRoleOptions) {
    this.lifecycle = new Status<MirrorRoleStatus>('created', options.logger, 'mirror role');
  }

  start(): void {
    if (this.lifecycle.value !== 'created') return;
    this.lifecycle.set('running');
    this.schedule(0);
  }

  report(): MirrorReport {
    const partitions: Record<string, HeldState> = {};
    const lagRecords: Record<string, number> = {};
    for (const [partition, state] of this.held) {
      partitions[partition] = state;
      lagRecords[partition] = this.options.lag(partition);
    }
    return { status: this.lifecycle.value, partitions, lagRecords, recordsMirrored: this.recordsMirrored, error: this.lastError };
  }

  /** Ends the rounds and releases every fence (bounded); idempotent: a second call returns the first call's promise. */
  stop(timeoutMs = 5_000): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    if (this.lifecycle.value === 'created') {
      this.lifecycle.set('stopped');
      return;
    }
    this.lifecycle.set('stopping');
    clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    // A round under way ends at its next check of the status; one stuck in a write is left to its own deadline.
    await withTimeout(this.ticking ?? Promise.resolve(), timeoutMs / 2, 'the last mirroring round').catch(() => undefined);
    await withTimeout(this.releaseAll(), Math.max(1, deadline - Date.now()), 'releasing the mirror fences').catch(() => undefined);
    this.lifecycle.set('stopped');
  }

  private schedule(delayMs: number): void {
    if (this.lifecycle.value !== 'running') return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then((busy) => {
          this.failures = 0;
          this.schedule(busy ? 0 : MIRROR_INTERVAL_MS);
        })
        .catch((error: unknown) => {
          this.failures++;
          this.lastError = error instanceof Error ? error.message : String(error);
          const delayMs = backoffDelay(this.failures, MIRROR_INTERVAL_MS, MIRROR_RETRY_MAX_MS);
          this.options.logger.warn({ err: error, failures: this.failures, delayMs }, 'mirroring round failed; retried');
          this.schedule(delayMs);
        });
    }, delayMs);
  }

  /** One pass over the partitions; true when some round copied records (more may wait). */
  private async tick(): Promise<boolean> {
    const access = this.options.membership.sessionAccess();
    if (!access || !this.options.ready()) {
      // Without a session the fences are gone (or going) with it; a node not caught up cannot check what was mirrored.
      if (this.held.size > 0) await this.releaseAll();
      return false;
    }
    const session = access.client.getSessionId();
    if (this.fenceSession && !this.fenceSession.equals(session) && this.held.size > 0) {
      this.options.logger.warn({ partitions: [...this.held.keys()] }, 'the ZooKeeper session changed: its mirror fences are gone; taking them again');
      this.held.clear();
    }
    const members = this.options.membership.list().map((member) => member.name);
    const mine = new Set(this.options.partitions().filter((p) => designatedMirror(p, members) === this.options.self));
    for (const partition of [...this.held.keys()]) if (!mine.has(partition)) await this.release(access.client, partition);
    let busy = false;
    for (const partition of mine) {
      if (this.lifecycle.value !== 'running') break;
      if (!this.held.has(partition) && (await this.acquire(access.client, access.acls, partition))) {
        this.held.set(partition, 'catching-up');
        this.fenceSession = session;
      }
      if (!this.held.has(partition)) continue;
      if (this.held.get(partition) === 'catching-up') {
        await this.options.catchUp(this.options.catchUpTimeoutMs);
        if (this.lifecycle.value !== 'running' || !this.held.has(partition)) break;
        this.held.set(partition, 'mirroring');
        this.options.logger.info({ partition }, 'mirroring the records of this partition that lie outside their canonical partition');
      }
      if (!this.options.hasWork(partition)) continue;
      // Checked right before each round that may write: a fence lost with its session, or deleted by hand, ends the copying.
      if (!(await this.owns(access.client, partition))) {
        this.options.logger.warn({ partition }, 'lost the mirror fence; taking it again');
        this.held.delete(partition);
        continue;
      }
      if (this.lifecycle.value !== 'running') break;
      const written = await this.options.mirror(partition);
      this.recordsMirrored += written;
      busy ||= written > 0;
    }
    this.lastError = undefined;
    return busy;
  }

  private get folder(): string {
    return `${this.options.root}/mirrors/${this.options.topic}`;
  }

  private path(partition: number): string {
    return `${this.folder}/${partition}`;
  }

  private async acquire(client: Client, acls: Parameters<typeof zk.mkdirp>[2], partition: number): Promise<boolean> {
    if (!this.folderMade) await withTimeout(zk.mkdirp(client, this.folder, acls), FENCE_OPERATION_TIMEOUT_MS, 'creating the mirror fence folder');
    this.folderMade = true;
    try {
      await withTimeout(zk.createEphemeral(client, this.path(partition), Buffer.from(this.options.self, 'utf8'), acls), FENCE_OPERATION_TIMEOUT_MS, 'taking a mirror fence');
      return true;
    } catch (error) {
      // Held by the previous mirroring node until it lets go (or its session ends): the next tick tries again.
      if (isNodeExists(error)) return false;
      this.folderMade = false;
      throw error;
    }
  }

  /** The fence's znode belongs to this session (an ephemeral's owner is its session id). */
  private async owns(client: Client, partition: number): Promise<boolean> {
    const stat = await withTimeout(zk.exists(client, this.path(partition)), FENCE_OPERATION_TIMEOUT_MS, 'checking a mirror fence');
    return stat !== undefined && stat.ephemeralOwner.equals(client.getSessionId());
  }

  private async release(client: Client, partition: number): Promise<void> {
    this.held.delete(partition);
    if (await this.owns(client, partition).catch(() => false)) {
      await withTimeout(zk.remove(client, this.path(partition)), FENCE_OPERATION_TIMEOUT_MS, 'releasing a mirror fence');
    }
    this.options.logger.info({ partition }, 'released the mirror fence');
  }

  private async releaseAll(): Promise<void> {
    const access = this.options.membership.sessionAccess();
    const partitions = [...this.held.keys()];
    this.held.clear();
    if (!access) return;
    await Promise.all(partitions.map((partition) => this.release(access.client, partition).catch(() => undefined)));
  }
}
