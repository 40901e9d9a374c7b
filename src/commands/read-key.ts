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

/**
 * Reads one key, uncounted: what get, exists and mget share. A hit in the map answers synchronously (no promise
 * on the hot path). A miss asks the peers when this node may be missing the key (see FanOut); an absence is a
 * Miss when known, NOT_READY while this node cannot tell yet.
 */
export function readKey(ctx: CommandContext, raw: Buffer | undefined): ReadOutcome | Promise<ReadOutcome> {
  const key = decodeKey(raw, ctx.limits);
  if (typeof key !== 'string') return failure(key);
  const entry = ctx.store.get(key);
  if (entry !== undefined) {
    ctx.readStats.hits++;
    return { kind: 'hit', key, entry, source: 'local' };
  }
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
