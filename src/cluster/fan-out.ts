import type { FanOutMode } from '../config/node-config';
import type { Logger } from '../logging/logger';
import type { Member } from '../membership/member';
import type { PartitionPositions } from '../log/partition-positions';
import type { Entry } from '../store/entry';
import type { EntryStore } from '../store/entry-store';
import { freshestAnswer } from './freshest-answer';
import type { LookupAnswer, PeerAnswer } from './peer-answer';
import type { PeerClient } from './peer-client';


/** The outcome of a miss after asking the peers. */
export type FanOutResult =
  | { readonly kind: 'value'; readonly entry: Entry; readonly source: string }
  /** `authoritative`: a node that answered had applied the key's partition up to its known end; otherwise unknown. */
  | { readonly kind: 'absent'; readonly authoritative: boolean };

interface InFlight {
  readonly promise: Promise<FanOutResult>;
  /** Called when this node's consumer applies a record for the key while the peers are asked. */
  readonly onLocalApply: () => void;
}

/** Counts of fan-outs and of peer answers by kind, for metrics. */
export interface FanOutCounters {
  fanOuts: number;
  coalesced: number;
  kafkaWon: number;
  peerValue: number;
  peerAbsent: number;
  peerTimeout: number;
  peerError: number;
}

/**
 * Asks every peer about a key this node misses, in parallel, and answers with the freshest answer by Kafka offset
 * (see freshestAnswer). This node's own absence counts as an answer at its own position. If this node's consumer
 * applies a record for the key meanwhile, that Kafka value wins at once. Concurrent misses for one key share one
 * fan-out. Peer answers are never written into the map.
 */
export class FanOut {
  readonly counters: FanOutCounters = { fanOuts: 0, coalesced: 0, kafkaWon: 0, peerValue: 0, peerAbsent: 0, peerTimeout: 0, peerError: 0 };
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly deps: {
      readonly mode: FanOutMode;
      readonly peers: () => Member[];
      readonly client: PeerClient;
      readonly store: EntryStore;
      readonly positions: PartitionPositions;
      readonly selfName: string;
      readonly logger: Logger;
      /** Told of every fan-out's outcome and duration. */
      readonly onFanOut?: (outcome: 'value' | 'absent', seconds: number) => void;
    },
  ) {}

  /** Whether a miss on `partition` should ask the peers. */
  shouldAsk(partition: number): boolean {
    if (this.deps.mode === 'never') return false;
    if (this.deps.mode === 'always') return true;
    return !this.deps.positions.isCaughtUp(partition);
  }

  /** The log consumer calls this for every key it applies; cheap when no fan-out waits. */
  keyApplied(key: string): void {
    if (this.inFlight.size > 0) this.inFlight.get(key)?.onLocalApply();
  }

  lookup(key: string, partition: number): Promise<FanOutResult> {
    const existing = this.inFlight.get(key);
    if (existing) {
      this.counters.coalesced++;
      return existing.promise;
    }
    this.counters.fanOuts++;
    const started = process.hrtime.bigint();
    let onLocalApply: () => void = () => undefined;
    const kafkaApplied = new Promise<FanOutResult>((resolve) => {
      onLocalApply = () => {
        this.counters.kafkaWon++;
        resolve(this.localResult(key));
      };
    });
    const promise = Promise.race([kafkaApplied, this.askPeers(key, partition)])
      .then((result) => {
        this.deps.onFanOut?.(result.kind, Number(process.hrtime.bigint() - started) / 1e9);
        return result;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, { promise, onLocalApply: () => onLocalApply() });
    return promise;
  }

  private async askPeers(key: string, partition: number): Promise<FanOutResult> {
    const peers = this.deps.peers();
    const answers = await Promise.all(peers.map((peer) => this.deps.client.lookup(peer, key)));
    // The map may have gained the key while the peers answered: Kafka's value is the one to give.
    const local = this.deps.store.get(key);
    if (local) return { kind: 'value', entry: local, source: 'local' };
    const usable: LookupAnswer[] = [
      { kind: 'absent', from: this.deps.selfName, partition, position: this.deps.positions.position(partition) },
    ];
    for (const answer of answers) {
      this.count(answer);
      if (answer.kind !== 'failed') usable.push(answer);
    }
    const best = freshestAnswer(usable, partition);
    if (best?.kind === 'value') return { kind: 'value', entry: best.entry, source: `peer:${best.from}` };
    // "Absent" is only known when some node has applied the partition up to the end this node knows of.
    const authoritative = best !== undefined && best.kind === 'absent' && best.position >= this.deps.positions.knownEnd(partition);
    return { kind: 'absent', authoritative };
  }

  private localResult(key: string): FanOutResult {
    const entry = this.deps.store.get(key);
    return entry ? { kind: 'value', entry, source: 'local' } : { kind: 'absent', authoritative: true };
  }

  private count(answer: PeerAnswer): void {
    if (answer.kind === 'value') this.counters.peerValue++;
    else if (answer.kind === 'absent') this.counters.peerAbsent++;
    else if (answer.reason === 'timeout') this.counters.peerTimeout++;
    else this.counters.peerError++;
  }
}
