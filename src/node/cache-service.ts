import type { FanOut } from '../cluster/fan-out';
import { BitacoraError } from '../errors/bitacora-error';
import type { PartitionPositions } from '../log/partition-positions';
import type { WriteProducer } from '../log/write-producer';
import type { Entry } from '../store/entry';
import type { EntryStore } from '../store/entry-store';
import { type Limits, validateKey, validateValue } from './request-validation';

/** A value as a read answers it, with where it came from. */
export interface ReadResult {
  readonly key: string;
  readonly entry: Entry;
  /** `local`, or `peer:<name>` when a peer answered a miss. */
  readonly source: string;
}

/** Where a write landed; the node has applied it when this is returned (read-your-writes). */
export interface WriteResult {
  readonly key: string;
  readonly partition: number;
  readonly offset: number;
}

/** A local-only lookup, as peers ask for it: the entry if held, and the node's position on the key's partition. */
export interface LocalLookup {
  readonly key: string;
  readonly entry: Entry | undefined;
  readonly partition: number;
  readonly position: number;
}

/**
 * The cache's operations, independent of any transport: HTTP and Avro both call these, so validation, limits,
 * readiness and read-your-writes behave the same on every interface.
 */
export class CacheService {
  private closing = false;
  /** Reads answered from the map, and reads it could not answer (for metrics and /stats). */
  readonly readStats = { hits: 0, misses: 0 };

  constructor(
    private readonly deps: {
      readonly store: EntryStore;
      readonly positions: PartitionPositions;
      readonly producer: WriteProducer;
      readonly partitionOf: (key: Buffer) => number;
      readonly limits: Limits;
      readonly applyTimeoutMs: number;
      readonly fanOut?: FanOut;
    },
  ) {}

  /** From now on every operation answers SHUTTING_DOWN. */
  close(): void {
    this.closing = true;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get limits(): Limits {
    return this.deps.limits;
  }

  /**
   * Reads a key. A hit in the map answers at once (synchronously). A miss asks the peers when this node may be
   * missing the key (see FanOut); an absence is NOT_FOUND when known, NOT_READY when this node cannot tell yet.
   */
  get(rawKey: Buffer | undefined): ReadResult | Promise<ReadResult> {
    this.checkOpen();
    const { key, bytes } = validateKey(rawKey, this.deps.limits);
    const entry = this.deps.store.get(key);
    if (entry) {
      this.readStats.hits++;
      return { key, entry, source: 'local' };
    }
    this.readStats.misses++;
    const partition = this.deps.partitionOf(bytes);
    const fanOut = this.deps.fanOut;
    if (fanOut?.shouldAsk(partition)) return this.askPeers(fanOut, key, partition);
    throw this.absent(key, partition, false);
  }

  private async askPeers(fanOut: FanOut, key: string, partition: number): Promise<ReadResult> {
    const result = await fanOut.lookup(key, partition);
    if (result.kind === 'value') return { key, entry: result.entry, source: result.source };
    throw this.absent(key, partition, result.authoritative);
  }

  /** NOT_FOUND when the absence is known; NOT_READY while this node is loading the key's partition or its apply path is failed. */
  private absent(key: string, partition: number, known: boolean): BitacoraError {
    const { positions } = this.deps;
    if (known || positions.isReady() || positions.isCaughtUp(partition)) {
      return new BitacoraError('NOT_FOUND', 'no value for this key', { key });
    }
    const why = positions.failure ? 'cannot apply the topic right now (see /health/ready)' : 'is still loading the topic';
    return new BitacoraError('NOT_READY', `this node ${why}, so it cannot tell that the key is absent: retry shortly, or ask a ready node`, { key });
  }

  /** Looks a key up in this node's map only, never forwarding: what /rpc/cluster answers to peers. */
  lookupLocal(rawKey: Buffer | undefined): LocalLookup {
    this.checkOpen();
    const { key, bytes } = validateKey(rawKey, this.deps.limits);
    const partition = this.deps.partitionOf(bytes);
    return { key, entry: this.deps.store.get(key), partition, position: this.deps.positions.position(partition) };
  }

  /** Writes a value; resolves once Kafka has it (acks=all) and this node has applied it. */
  async set(rawKey: Buffer | undefined, value: Buffer): Promise<WriteResult> {
    this.checkOpen();
    const { key, bytes } = validateKey(rawKey, this.deps.limits);
    validateValue(value, this.deps.limits);
    return this.write(key, bytes, value);
  }

  /** Writes a tombstone; same acknowledgement rule as set. */
  async delete(rawKey: Buffer | undefined): Promise<WriteResult> {
    this.checkOpen();
    const { key, bytes } = validateKey(rawKey, this.deps.limits);
    return this.write(key, bytes, null);
  }

  private async write(key: string, bytes: Buffer, value: Buffer | null): Promise<WriteResult> {
    const ack = await this.deps.producer.write(bytes, value);
    await this.deps.positions.waitForApplied(ack.partition, ack.offset, this.deps.applyTimeoutMs);
    return { key, partition: ack.partition, offset: ack.offset };
  }

  private checkOpen(): void {
    if (this.closing) throw new BitacoraError('SHUTTING_DOWN', 'this node is stopping and takes no new requests: send it to another node');
  }
}
