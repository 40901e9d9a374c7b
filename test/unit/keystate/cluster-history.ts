import { clean, cleanableEnd, type CleanerSettings } from '../../../src/keystate/cleaner';
import type { Command } from '../../../src/keystate/commands';
import { collectExpired, decideAll, type Request } from '../../../src/keystate/decider';
import { applyRecord, PartitionState, type ApplyOutcome, type Layout } from '../../../src/keystate/key-state';
import { mirrorRecords } from '../../../src/keystate/mirror';
import { plainDelete, plainSet } from '../../../src/keystate/plain-writes';
import type { LogRecord, RecordDraft, Reply } from '../../../src/keystate/records';
import { settlements } from '../../../src/keystate/restater';

/**
 * A small simulated cluster, driven by a list of steps (so fast-check can generate and shrink histories): nodes
 * writing plainly, foreign producers writing to any partition with skewed clocks, a decider that is replaced while
 * the old one goes on deciding from its stale view (a zombie), clients retrying with the same idempotency id, the
 * mirroring node, the restater (also replaced), cleaner passes at arbitrary legal points, and a node restarted
 * from the compacted topic. Everything is decided by the steps: no Math.random, no clock.
 */

/** One step: [action 0..99, two free choices]. */
export type Step = readonly [number, number, number];

/** Applies a record; a known-bad variant replaces it. `clock` is the applying node's clock at that moment. */
export type Applier = (state: PartitionState, record: LogRecord, clock: number) => ApplyOutcome;

export interface HistoryOptions {
  readonly apply?: Applier;
  /** false: nobody restates (a known-bad variant). */
  readonly restater?: boolean;
  /** How often the restater runs, in log time; above min.compaction.lag.ms breaks the design's bound (a known-bad variant). */
  readonly restateEvery?: number;
  /** Every restater round is run by a new node that replays the compacted topic first (no memory of the races). */
  readonly restaterForgets?: boolean;
}

export const PARTITIONS = 2;
/** Keys a..c are written by everyone; n is a counter only deciders touch (INCR by 1 with idempotency ids). */
export const KEYS = ['a', 'b', 'c', 'n'] as const;
const COUNTER = 'n';
export const SETTINGS: CleanerSettings = { minCompactionLagMs: 60, deleteRetentionMs: 90 };
/** The restater runs at least this often (log time): well inside min.compaction.lag.ms, as the design requires. */
export const RESTATE_EVERY = 12;
const MIRROR_EVERY = 15;
const EXPIRY_GRACE = 5;
const DECIDER_RETRIES = 3;
/**
 * The idempotency window here: larger than any history's commands, since these clients retry arbitrarily late.
 * The window's bound is the stated scope of exactness (docs/design/conditional-writes.md), not something to test.
 */
export const KEPT_REPLIES_HERE = 1_000;

export const LAYOUT: Layout = {
  partitionCount: PARTITIONS,
  // Any fixed map will do for the model; nodes use murmur2 over the pinned partition count.
  partitionOf: (key) => (key === 'n' ? 1 : key.charCodeAt(0) % PARTITIONS),
};

const defaultApply: Applier = (state, record) => applyRecord(state, record);

/** One node's applied view of every partition, fed from what the broker stores (compacted) from its positions on. */
class NodeView {
  readonly states: PartitionState[] = Array.from({ length: PARTITIONS }, (_, p) => new PartitionState(p, LAYOUT));
  /** Outcomes of the records this node waits for (its own decisions), by "partition:offset". */
  readonly outcomes = new Map<string, ApplyOutcome | 'gone'>();
  readonly watched = new Set<string>();

  constructor(private readonly history: ClusterHistory) {}

  /** Applies up to `limit` more records of each partition (all of them by default). */
  catchUp(limit = Number.POSITIVE_INFINITY): void {
    for (let p = 0; p < PARTITIONS; p++) {
      const state = this.states[p]!;
      let taken = 0;
      for (const record of this.history.stored[p]!) {
        if (record.offset < state.position) continue;
        if (taken++ >= limit) break;
        // Records this node waited for that the cleaner removed before it read them: it cannot know their outcome.
        for (let skipped = state.position; skipped < record.offset; skipped++) this.settle(`${p}:${skipped}`, 'gone');
        this.settle(`${p}:${record.offset}`, this.history.apply(state, record, this.history.now));
      }
      if (limit === Number.POSITIVE_INFINITY) {
        const end = this.history.full[p]!.length;
        for (let skipped = state.position; skipped < end; skipped++) this.settle(`${p}:${skipped}`, 'gone');
        state.position = Math.max(state.position, end);
      }
    }
  }

  /** Catches up fully if the oldest record not yet applied is older than half of delete.retention.ms. */
  keepWithinRetention(): void {
    const horizon = this.history.now - SETTINGS.deleteRetentionMs / 2;
    const behind = this.states.some((state) => this.history.stored[state.partition]!.some((record) => record.offset >= state.position && record.appendedAt < horizon));
    if (behind) this.catchUp();
  }

  private settle(id: string, outcome: ApplyOutcome | 'gone'): void {
    if (this.watched.delete(id)) this.outcomes.set(id, outcome);
  }
}

/** A client's command in flight, with its idempotency id. */
interface Pending {
  readonly id: string;
  readonly key: string;
  readonly command: Command;
  /** "partition:offset" of the main record of the latest attempt, if it wrote one. */
  awaiting: string | undefined;
  /** The reply that record carries for this command: the answer once it takes effect. */
  provisional: Reply | undefined;
  attempts: number;
}

export class ClusterHistory {
  now = 1_000;
  readonly full: LogRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  stored: LogRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  private readonly activeStart: number[] = Array.from({ length: PARTITIONS }, () => 0);
  /** A node that applied every record the moment it was appended, from the uncompacted log. */
  readonly live: PartitionState[] = Array.from({ length: PARTITIONS }, (_, p) => new PartitionState(p, LAYOUT));
  decider = new NodeView(this);
  zombie: NodeView | undefined;
  restater = new NodeView(this);
  mirror = new NodeView(this);
  restarted = new NodeView(this);
  private readonly pending: Pending[] = [];
  /** Replies clients received, by idempotency id (a retry must get the same one). */
  readonly acknowledged = new Map<string, Reply>();
  /** The key of every command, by idempotency id. */
  readonly keyOf = new Map<string, string>();
  private nextId = 0;
  private lastRestate = 0;
  private readonly restaterInFlight: RecordDraft[] = [];
  /** The commands behind each decision clients' attempts appended, by "partition:offset" of its main record. */
  readonly commands = new Map<string, readonly Request[]>();
  private lastMirror = 0;
  readonly apply: Applier;
  private readonly restates: boolean;
  private readonly restateEvery: number;
  private readonly restaterForgets: boolean;
  readonly log: string[] = [];

  constructor(options: HistoryOptions = {}) {
    this.apply = options.apply ?? defaultApply;
    this.restates = options.restater ?? true;
    this.restateEvery = options.restateEvery ?? RESTATE_EVERY;
    this.restaterForgets = options.restaterForgets ?? false;
  }

  /** Appends drafts as one produce request per partition (consecutive offsets); returns "partition:offset" of each. */
  append(drafts: readonly RecordDraft[]): string[] {
    return drafts.map((draft) => {
      const p = draft.partition;
      const record: LogRecord = { ...draft, offset: this.full[p]!.length, appendedAt: this.now };
      this.full[p]!.push(record);
      this.stored[p]!.push(record);
      this.apply(this.live[p]!, record, this.now);
      return `${p}:${record.offset}`;
    });
  }

  run(steps: readonly Step[]): void {
    for (const step of steps) {
      this.now += 1 + (step[2] % 3);
      this.step(step);
      // The restater's records of the last round were in flight while this step's writers wrote: they may lose.
      if (this.restaterInFlight.length > 0) this.note('restate lands', this.append(this.restaterInFlight.splice(0)));
      if (this.now - this.lastRestate >= this.restateEvery) this.restate(step[1] % 2 === 0);
      if (this.now - this.lastMirror >= MIRROR_EVERY) this.mirrorAll();
      // A consumer that fell behind by delete.retention.ms could miss a tombstone for good: a node that lags that far
      // reloads (the design note), so no view here ever lags that far.
      for (const view of [this.decider, this.zombie, this.restater, this.mirror, this.restarted]) view?.keepWithinRetention();
    }
    this.quiesce();
  }

  private step([action, b, c]: Step): void {
    const key = KEYS[c % 3]!;
    if (action < 12) {
      const view = b % 2 === 0 || !this.zombie ? this.decider : this.zombie;
      const state = view.states[LAYOUT.partitionOf(key)]!;
      const drafts = b % 4 === 1 ? plainDelete(state, key, this.now) : plainSet(state, key, `p${b}`, b % 3 === 0 ? this.now + 5 + (c % 40) : null, this.now);
      this.note(`node ${drafts[0]!.body.kind === 'plain' && drafts[0]!.body.value === null ? 'del' : 'set'} ${key}`, this.append(drafts));
    } else if (action < 24) {
      const partition = b % PARTITIONS;
      const value = c % 5 === 0 ? null : `f${b}`;
      const skew = (b % 41) - 20;
      this.note(`foreign ${value === null ? 'del' : 'set'} ${key} into ${partition} skew ${skew}`, this.append([{ partition, key: { kind: 'main', key }, timestamp: this.now + skew, body: { kind: 'plain', value, deadline: null } }]));
    } else if (action < 46) {
      // One to three commands on one key arrive together; the decider commits them in one record.
      const isCounter = b % 3 === 0;
      const batch = Array.from({ length: 1 + (c % 3) }, (_, i): Pending => ({
        id: `c${this.nextId++}`,
        key: isCounter ? COUNTER : key,
        command: isCounter ? { op: 'incrby', by: 1 } : commandFor(b + i, c, this.now),
        awaiting: undefined,
        provisional: undefined,
        attempts: 0,
      }));
      this.pending.push(...batch);
      for (const pending of batch) this.keyOf.set(pending.id, pending.key);
      this.decider.catchUp(b % 4);
      this.attempt(this.decider, batch);
    } else if (action < 52) {
      // A client retries (its answer was a 503/504, or it timed out), perhaps at another node's decider.
      const pending = this.pending[b % Math.max(1, this.pending.length)];
      if (pending) this.attempt(c % 4 === 0 && this.zombie ? this.zombie : this.decider, [pending]);
    } else if (action < 57) {
      // The replaced decider, paused meanwhile, decides from its stale view.
      const pending = this.pending[b % Math.max(1, this.pending.length)];
      if (this.zombie && pending) this.attempt(this.zombie, [pending]);
    } else if (action < 60) {
      this.zombie = this.decider;
      this.decider = new NodeView(this);
      this.decider.catchUp(b % 6);
      this.note('decider failover');
    } else if (action < 70) {
      this.decider.catchUp(action < 66 ? b % 5 : undefined);
      this.answer();
    } else if (action < 74) {
      this.decider.catchUp();
      const drafts = this.decider.states.flatMap((state) => collectExpired(state, this.now, EXPIRY_GRACE));
      this.note('expiry collector', this.append(drafts));
    } else if (action < 78) {
      this.mirrorAll();
    } else if (action < 88) {
      const p = b % PARTITIONS;
      const limit = cleanableEnd(this.stored[p]!, this.activeStart[p]!, this.now, SETTINGS);
      const upTo = limit === 0 ? 0 : c % (limit + 1);
      this.stored[p] = clean(this.stored[p]!, upTo, this.now, this.activeStart[p]!, SETTINGS);
      this.note(`clean ${p} up to ${upTo}`);
    } else if (action < 92) {
      this.activeStart[b % PARTITIONS] = this.full[b % PARTITIONS]!.length;
    } else if (action < 96) {
      this.restarted = new NodeView(this);
      this.restarted.catchUp();
      this.note('node restarted from the compacted topic');
    } else {
      this.restater = new NodeView(this);
      this.note('restater failover');
    }
  }

  /** One attempt of commands on one key at a decider, committed together. */
  private attempt(view: NodeView, batch: readonly Pending[]): void {
    const key = batch[0]!.key;
    const decision = decideAll(view.states[LAYOUT.partitionOf(key)]!, key, batch.map(({ command, id }) => ({ command, id })), { now: this.now, keepReplies: KEPT_REPLIES_HERE });
    batch.forEach((pending, i) => {
      pending.attempts++;
      pending.provisional = decision.replies[i];
      pending.awaiting = undefined;
      // Answered at once: nothing to write, or an earlier attempt took effect (the idempotency window).
      if (decision.records.length === 0 || decision.replayed[i]) this.acknowledge(pending, decision.replies[i]!);
    });
    if (decision.records.length === 0) return;
    const [main] = this.append(decision.records);
    this.commands.set(main!, batch.map(({ command, id }) => ({ command, id })));
    for (const pending of batch) if (!decision.replayed[batch.indexOf(pending)]) pending.awaiting = main;
    view.watched.add(main!);
    this.note(`decide ${batch.map((pending) => `${pending.id} ${pending.command.op}`).join(', ')} on ${key}`, [main!]);
  }

  /** The decider answers the commands whose records it has applied, and decides again those that lost their race. */
  private answer(): void {
    const outcomes = new Map<string, ApplyOutcome | 'gone'>();
    for (const pending of this.pending) {
      if (pending.awaiting === undefined) continue;
      const outcome = outcomes.get(pending.awaiting) ?? this.decider.outcomes.get(pending.awaiting);
      if (outcome !== undefined) outcomes.set(pending.awaiting, outcome);
    }
    const retry = new Map<string, Pending[]>();
    for (const pending of [...this.pending]) {
      const outcome = pending.awaiting === undefined ? undefined : outcomes.get(pending.awaiting);
      if (outcome === undefined) continue;
      this.decider.outcomes.delete(pending.awaiting!);
      pending.awaiting = undefined;
      if (outcome === 'effective') this.acknowledge(pending, pending.provisional!);
      else if (outcome === 'void' && pending.attempts < DECIDER_RETRIES) retry.set(pending.key, [...(retry.get(pending.key) ?? []), pending]);
      // Otherwise the client got a 503 (or its reply is unknown) and may retry with the same id later.
    }
    for (const batch of retry.values()) this.attempt(this.decider, batch);
  }

  private acknowledge(pending: Pending, reply: Reply): void {
    const earlier = this.acknowledged.get(pending.id);
    if (earlier !== undefined && JSON.stringify(earlier) !== JSON.stringify(reply)) {
      throw new Error(`command ${pending.id} was answered ${JSON.stringify(earlier)}, then ${JSON.stringify(reply)} on a retry`);
    }
    this.acknowledged.set(pending.id, reply);
    const index = this.pending.indexOf(pending);
    if (index >= 0) this.pending.splice(index, 1);
  }

  /** A restater round: appended at once, or (`inFlight`) after the next step's writes. */
  private restate(inFlight = false): void {
    this.lastRestate = this.now;
    if (!this.restates) return;
    if (this.restaterForgets) this.restater = new NodeView(this);
    this.restater.catchUp();
    const drafts = this.restater.states.flatMap((state) => settlements(state, this.now));
    if (inFlight) this.restaterInFlight.push(...drafts);
    else this.note('restate', this.append(drafts));
  }

  private mirrorAll(): void {
    this.lastMirror = this.now;
    this.mirror.catchUp();
    const drafts: RecordDraft[] = [];
    for (let p = 0; p < PARTITIONS; p++) drafts.push(...mirrorRecords(p, this.stored[p]!, LAYOUT, (q) => this.mirror.states[q]!));
    this.note('mirror', this.append(drafts));
  }

  /** Clients stop; the mirroring node and the restater finish; time passes; the cleaner cleans all it may. */
  private quiesce(): void {
    this.append(this.restaterInFlight.splice(0));
    for (let round = 0; round < 8; round++) {
      const before = this.full.reduce((n, log) => n + log.length, 0);
      this.now += 1;
      this.mirrorAll();
      this.restate();
      if (this.full.reduce((n, log) => n + log.length, 0) === before) break;
    }
    // Nodes keep consuming while time passes (none may lag by delete.retention.ms).
    for (const view of [this.decider, this.zombie, this.restarted]) view?.catchUp();
    this.now += SETTINGS.minCompactionLagMs + SETTINGS.deleteRetentionMs + 1;
    for (let p = 0; p < PARTITIONS; p++) {
      this.activeStart[p] = this.full[p]!.length;
      this.stored[p] = clean(this.stored[p]!, cleanableEnd(this.stored[p]!, this.activeStart[p]!, this.now, SETTINGS), this.now, this.activeStart[p]!, SETTINGS);
    }
    this.restarted.catchUp();
    this.decider.catchUp();
  }

  /** A fresh replay of `logs` (the uncompacted log, or what the broker stores), as `bitacora digest` does. */
  replay(logs: readonly (readonly LogRecord[])[]): PartitionState[] {
    return logs.map((records, p) => {
      const state = new PartitionState(p, LAYOUT);
      for (const record of records) this.apply(state, record, this.now);
      return state;
    });
  }

  private note(what: string, offsets: readonly string[] = []): void {
    this.log.push(`t=${this.now} ${what}${offsets.length > 0 ? ` @${offsets.join(',')}` : ''}`);
  }
}

function commandFor(b: number, c: number, now: number): Command {
  const deadline = now + 5 + (c % 40);
  switch (b % 8) {
    case 0:
      return { op: 'set', value: `L${c}`, condition: 'nx', expiry: { kind: 'in', ms: 5 + (c % 40) } };
    case 1:
      return { op: 'set', value: `x${c}`, condition: 'xx', expiry: { kind: 'keep' }, get: true };
    case 2:
      return { op: 'incrby', by: 1 + (c % 3) };
    case 3:
      return { op: 'append', value: `+${c % 10}` };
    case 4:
      return { op: 'expire', deadline, condition: c % 2 === 0 ? 'gt' : undefined };
    case 5:
      return { op: 'expire', deadline: null };
    case 6:
      return { op: 'getdel' };
    default:
      return { op: 'set', value: `v${c}`, expiry: c % 2 === 0 ? { kind: 'at', at: deadline } : { kind: 'none' } };
  }
}
