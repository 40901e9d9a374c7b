import { sleep } from '../../src/retry/retry';
import { httpRequest, rpcQuery } from './http-client';

/** One write as the ledger keeps it: the value it set, or null for a delete. */
export interface LedgerWrite {
  readonly value: string | null;
  /** Which node took it, for failure reports. */
  readonly node: string;
  /** Where the node said Kafka stored it (acknowledged writes only), for failure reports. */
  readonly at?: string;
}

/**
 * What a client can know about one key after writing it. `acknowledged` is the last write that got a 2xx (or a
 * 504 APPLY_TIMEOUT, which says Kafka has it); `ambiguous` are writes sent after it whose answer never said either
 * way (a 503, a timeout, a cut connection): each may or may not be in the log.
 */
export interface KeyLedger {
  readonly key: string;
  acknowledged: LedgerWrite | undefined;
  ambiguous: LedgerWrite[];
}

/** How one write ended, from the client's side. */
export type WriteOutcome =
  /** 2xx: Kafka has it and the node applied it. */
  | { readonly kind: 'acknowledged'; readonly status: number; readonly ms: number; readonly at: string }
  /** 504 APPLY_TIMEOUT: Kafka acknowledged it (durable), the node had not applied it in time. */
  | { readonly kind: 'durable'; readonly status: number; readonly ms: number; readonly at: string }
  /** 503, 500, a timeout or a cut connection: it may or may not be in the log. */
  | { readonly kind: 'ambiguous'; readonly status: number | undefined; readonly code: string | undefined; readonly ms: number; readonly reason: string }
  /** The connection was refused: the node never saw the request. */
  | { readonly kind: 'refused'; readonly ms: number }
  /** A 4xx: the test sent something wrong; never expected. */
  | { readonly kind: 'rejected'; readonly status: number; readonly code: string | undefined; readonly ms: number };

/** Counts of write outcomes since the load started. */
export interface LoadCounts {
  /** Writes answered 2xx. */
  acknowledged: number;
  /** Writes answered 504 APPLY_TIMEOUT (durable, not applied in time by the node that took them). */
  durable: number;
  ambiguous: number;
  /** Connection refused: never reached a node, so not in the log. */
  refused: number;
  /** 4xx answers: a bug in the test or the node. */
  rejected: number;
  /** Answers by HTTP status ("refused", or "no-answer" for a timeout or a cut connection), for the report. */
  byStatus: Record<string, number>;
  /** The longest a 503 KAFKA_UNAVAILABLE took to come, in ms. */
  slowestUnavailableMs: number;
}

export interface WriteLoadOptions {
  /** The nodes' base URLs; writes go to them round-robin. */
  readonly nodes: readonly string[];
  /** Names keys and values, so two loads never share keys. */
  readonly prefix: string;
  /** Concurrent loops; each owns its keys and sends one write at a time. */
  readonly loops?: number;
  /** Target writes per second over all loops (each loop paces itself; a slow answer delays only its loop). */
  readonly writesPerSecond?: number;
  /** Keys each loop cycles through before it adds fresh ones. */
  readonly keysPerLoop?: number;
  /** Client deadline of one write; past it the write is ambiguous. */
  readonly requestTimeoutMs?: number;
  /** A node that refused or timed out is skipped this long by every loop. */
  readonly nodeBackoffMs?: number;
}

/** Every `DELETE_EVERY`-th write of a key is a delete, so tombstones go through every fault too. */
const DELETE_EVERY = 7;

/**
 * A steady write load through several nodes, with a ledger exact enough to tell a lost write from an ambiguous
 * one. Each loop owns its keys and writes a key only after the previous write of it was answered, so the order of a
 * key's acknowledged writes is the order they were sent. A write whose answer was lost may still land later (a
 * producer's retry), after any later write of the key: so after its first ambiguous write a key is written no more,
 * which keeps "its value must be the last acknowledged one, or that ambiguous one" exact.
 */
export class WriteLoad {
  private readonly ledger = new Map<string, KeyLedger>();
  private readonly backoffUntil = new Map<string, number>();
  private readonly acknowledgedByNode = new Map<string, number>();
  private readonly loops: Promise<void>[] = [];
  private readonly failures: string[] = [];
  private running = false;
  private nextNode = 0;
  private probes = 0;
  readonly counts: LoadCounts = { acknowledged: 0, durable: 0, ambiguous: 0, refused: 0, rejected: 0, byStatus: {}, slowestUnavailableMs: 0 };
  /** The latest few ambiguous outcomes with their reasons, for failure messages. */
  readonly ambiguousSamples: string[] = [];
  private readonly options: Required<WriteLoadOptions>;

  constructor(options: WriteLoadOptions) {
    this.options = { loops: 6, writesPerSecond: 120, keysPerLoop: 40, requestTimeoutMs: 10_000, nodeBackoffMs: 1_000, ...options };
  }

  /** Starts the loops; they run until stop(). */
  start(): void {
    if (this.running) throw new Error('the write load is already running');
    this.running = true;
    for (let loop = 0; loop < this.options.loops; loop++) this.loops.push(this.runLoop(loop));
  }

  /** Stops the loops and waits for the writes in flight to be answered (each within requestTimeoutMs). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Writes acknowledged (2xx) so far, through one node or all. */
  acknowledged(node?: string): number {
    return node === undefined ? this.counts.acknowledged : (this.acknowledgedByNode.get(node) ?? 0);
  }

  /** The keys written so far with what a client knows of each. */
  keys(): readonly KeyLedger[] {
    return [...this.ledger.values()];
  }

  /** 4xx answers and other things that should never happen, described; empty when all went as expected. */
  unexpected(): readonly string[] {
    return this.failures;
  }

  /**
   * One write outside the loops (a probe of a node), on a key of its own, recorded in the ledger like the load's.
   * `value` null deletes.
   */
  async probe(node: string, value: string | null = `probe-${this.probes}`): Promise<{ key: string; outcome: WriteOutcome }> {
    const key = `${this.options.prefix}-probe-${this.probes++}`;
    return { key, outcome: await this.write(node, key, value) };
  }

  /** Sends one write and records its outcome in the ledger. */
  private async write(node: string, key: string, value: string | null): Promise<WriteOutcome> {
    const entry = this.ledger.get(key) ?? { key, acknowledged: undefined, ambiguous: [] };
    this.ledger.set(key, entry);
    const outcome = await sendWrite(node, key, value, this.options.requestTimeoutMs);
    const statusLabel = outcome.kind === 'refused' ? 'refused' : 'status' in outcome && outcome.status !== undefined ? String(outcome.status) : 'no-answer';
    this.counts.byStatus[statusLabel] = (this.counts.byStatus[statusLabel] ?? 0) + 1;
    const write: LedgerWrite = { value, node, ...('at' in outcome ? { at: outcome.at } : {}) };
    switch (outcome.kind) {
      case 'acknowledged':
      case 'durable':
        // A write is only sent once the previous one of its key was answered, and an ambiguous one ends the key:
        // so an acknowledgement always follows every earlier write of the key in the log.
        entry.acknowledged = write;
        entry.ambiguous = [];
        this.counts[outcome.kind]++;
        if (outcome.kind === 'acknowledged') this.acknowledgedByNode.set(node, (this.acknowledgedByNode.get(node) ?? 0) + 1);
        break;
      case 'ambiguous':
        entry.ambiguous.push(write);
        this.counts.ambiguous++;
        this.ambiguousSamples.push(`${key} via ${node}: ${outcome.reason}`);
        if (this.ambiguousSamples.length > 5) this.ambiguousSamples.shift();
        if (outcome.code === 'KAFKA_UNAVAILABLE') this.counts.slowestUnavailableMs = Math.max(this.counts.slowestUnavailableMs, outcome.ms);
        // 503 and no answer are what faults cause; a 500 is a bug whatever the fault.
        if (outcome.status === 500) this.failures.push(`${key} via ${node}: 500 ${outcome.code ?? ''}`);
        break;
      case 'refused':
        this.counts.refused++;
        break;
      case 'rejected':
        this.counts.rejected++;
        this.failures.push(`${key} via ${node}: ${outcome.status} ${outcome.code ?? ''}`);
        break;
    }
    return outcome;
  }

  private async runLoop(loop: number): Promise<void> {
    const intervalMs = (1_000 * this.options.loops) / this.options.writesPerSecond;
    const keys: string[] = [];
    const writesOf = new Map<string, number>();
    let fresh = 0;
    const addKey = (): void => {
      keys.push(`${this.options.prefix}-l${loop}-k${fresh++}`);
    };
    for (let i = 0; i < this.options.keysPerLoop; i++) addKey();
    let cursor = 0;
    while (this.running) {
      const started = Date.now();
      const node = await this.pickNode();
      if (node === undefined) break;
      const key = keys[cursor % keys.length]!;
      const n = (writesOf.get(key) ?? 0) + 1;
      const value = n % DELETE_EVERY === 0 ? null : `${key}-v${n}`;
      const outcome = await this.write(node, key, value);
      if (outcome.kind === 'refused') {
        this.backOff(node);
        continue; // the same write goes to another node: this one never reached the log
      }
      writesOf.set(key, n);
      if (outcome.kind === 'ambiguous') {
        if (outcome.status === undefined) this.backOff(node);
        // Retired: see the class comment. A fresh key takes its place so the load keeps its size.
        keys.splice(cursor % keys.length, 1);
        addKey();
      } else {
        cursor++;
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  }

  /** The next node round-robin that is not backed off; waits for one when all are. Undefined once stopped. */
  private async pickNode(): Promise<string | undefined> {
    const { nodes } = this.options;
    while (this.running) {
      const now = Date.now();
      for (let tried = 0; tried < nodes.length; tried++) {
        const node = nodes[this.nextNode++ % nodes.length]!;
        if ((this.backoffUntil.get(node) ?? 0) <= now) return node;
      }
      const soonest = Math.min(...nodes.map((node) => this.backoffUntil.get(node) ?? 0));
      await sleep(Math.max(10, soonest - now));
    }
    return undefined;
  }

  private backOff(node: string): void {
    this.backoffUntil.set(node, Date.now() + this.options.nodeBackoffMs);
  }
}

/** One POST (or DELETE) /rpc, classified from the client's side. */
export async function sendWrite(node: string, key: string, value: string | null, timeoutMs: number): Promise<WriteOutcome> {
  const started = Date.now();
  const ms = (): number => Date.now() - started;
  try {
    const answer =
      value === null
        ? await httpRequest(`${node}/rpc${rpcQuery(key)}`, { method: 'DELETE', timeoutMs })
        : await httpRequest(`${node}/rpc${rpcQuery(key, value)}`, { method: 'POST', timeoutMs });
    const code: string | undefined = answer.json?.error?.code;
    if (answer.status >= 200 && answer.status < 300) return { kind: 'acknowledged', status: answer.status, ms: ms(), at: `${answer.json.partition}@${answer.json.offset}` };
    if (answer.status === 504 && code === 'APPLY_TIMEOUT') {
      return { kind: 'durable', status: answer.status, ms: ms(), at: `${answer.json.error.partition}@${answer.json.error.offset}` };
    }
    if (answer.status >= 500) return { kind: 'ambiguous', status: answer.status, code, ms: ms(), reason: `${answer.status} ${code ?? ''}` };
    return { kind: 'rejected', status: answer.status, code, ms: ms() };
  } catch (error) {
    if (errorCode(error) === 'ECONNREFUSED') return { kind: 'refused', ms: ms() };
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeError(error);
    return { kind: 'ambiguous', status: undefined, code: undefined, ms: ms(), reason };
  }
}

/** The system error code (ECONNREFUSED, ECONNRESET, ...) under a fetch failure, if any. */
function errorCode(error: unknown): string | undefined {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}
