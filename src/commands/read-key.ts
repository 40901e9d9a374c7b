import { asBitacoraError, BitacoraError } from '../errors/bitacora-error';
import type { Entry } from '../store/entry';
import { type CommandContext, failure, type Failure, type PeerFanOut } from './command-context';
import { decodeKey } from './key-validation';

/** A key this node (or a peer, on a miss) holds: the value and the record that wrote it. */
export interface Hit {
  readonly kind: 'hit';
  readonly key: string;
  readonly entry: Entry;
  /** `local`, or `peer:<name>` when a peer answered a miss. */
  readonly source: string;
}

/** A key known to be absent (NOT_FOUND on HTTP, null over Avro, a nil reply over RESP). */
export interface Miss {
  readonly kind: 'miss';
  readonly key: string;
}

export type ReadOutcome = Hit | Miss | Failure;

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A hit found by the key's bytes (ReadableStore.getBytes). Its key string is decoded only when asked for: a RESP GET
 * never asks, and decoding was 4 % of a node's time on pipelined GETs (issue #17). The bytes are a key the map
 * holds, so they are valid UTF-8 and the decode cannot fail.
 */
class LocalHit implements Hit {
  readonly kind = 'hit' as const;
  readonly source = 'local';
  private decoded: string | undefined;

  constructor(
    private readonly raw: Buffer,
    readonly entry: Entry,
  ) {}

  get key(): string {
    return (this.decoded ??= utf8.decode(this.raw));
  }
}

/**
 * Reads one key, uncounted: what get, exists and mget share. A hit in the map answers synchronously (no promise
 * on the hot path). A miss asks the peers when this node may be missing the key (see FanOut); an absence is a
 * Miss when known, NOT_READY while this node cannot tell yet.
 */
export function readKey(ctx: CommandContext, raw: Buffer | undefined): ReadOutcome | Promise<ReadOutcome> {
  // A key the map holds came from a record that passed decodeKey's checks (present, within MAX_KEY_BYTES, UTF-8), so
  // a hit on the bytes as sent needs neither the checks nor a decoded string; a miss is checked, then answered.
  const entry = raw === undefined ? undefined : ctx.store.getBytes(raw);
  if (entry !== undefined) {
    ctx.readStats.hits++;
    return new LocalHit(raw!, entry);
  }
  const key = decodeKey(raw, ctx.limits);
  if (typeof key !== 'string') return failure(key);
  ctx.readStats.misses++;
  const partition = ctx.partitionOf(raw!);
  const fanOut = ctx.fanOut;
  if (fanOut?.shouldAsk(partition)) return askPeers(ctx, fanOut, key, partition);
  return absent(ctx, key, partition, false);
}

async function askPeers(ctx: CommandContext, fanOut: PeerFanOut, key: string, partition: number): Promise<ReadOutcome> {
  try {
    const result = await fanOut.lookup(key, partition);
    if (result.kind === 'value') return { kind: 'hit', key, entry: result.entry, source: result.source };
    return absent(ctx, key, partition, result.authoritative);
  } catch (error) {
    return failure(asBitacoraError(error));
  }
}

/** A Miss when the absence is known; NOT_READY while this node is loading the key's partition or its apply path is failed. */
function absent(ctx: CommandContext, key: string, partition: number, known: boolean): Miss | Failure {
  const { positions } = ctx;
  if (known || positions.isReady() || positions.isCaughtUp(partition)) return { kind: 'miss', key };
  const why = positions.failure ? 'cannot apply the topic right now (see /health/ready)' : 'is still loading the topic';
  return failure(new BitacoraError('NOT_READY', `this node ${why}, so it cannot tell that the key is absent: retry shortly, or ask a ready node`, { key }));
}
