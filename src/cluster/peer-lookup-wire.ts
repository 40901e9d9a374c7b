import type { LocalLookup } from '../commands/lookup';
import { entryToJson, valueFromJson } from '../commands/entry-json';
import type { PeerAnswer } from './peer-answer';

/**
 * The answer of `GET /rpc/cluster?key=K`, written by the peer asked (encodePeerLookup) and read by the node that
 * asked (decodePeerLookup): one definition for both ends.
 * - held: 200 `{key, value, encoding, partition, offset, timestamp, source: "local", position}`;
 * - absent: 404 `{error: {code: "NOT_FOUND", message, key, partition, position}}`, "absent here as of `position`".
 */
export interface PeerLookupWire {
  readonly status: 200 | 404;
  readonly body: Record<string, unknown>;
}

export function encodePeerLookup(lookup: LocalLookup): PeerLookupWire {
  if (lookup.kind === 'hit') return { status: 200, body: entryToJson(lookup.key, lookup.entry, { source: 'local', position: lookup.position }) };
  return {
    status: 404,
    body: {
      error: { code: 'NOT_FOUND', message: 'no value for this key on this node', key: lookup.key, partition: lookup.partition, position: lookup.position },
    },
  };
}

/** A peer's answer read back; anything else than encodePeerLookup's two shapes is a failure. */
export function decodePeerLookup(from: string, status: number, body: Buffer): PeerAnswer {
  try {
    const json = JSON.parse(body.toString('utf8'));
    const value = valueFromJson(json);
    if (status === 200 && value && Number.isSafeInteger(json.offset) && Number.isSafeInteger(json.partition)) {
      return { kind: 'value', from, entry: { value, partition: json.partition, offset: json.offset, timestamp: Number(json.timestamp) || 0 } };
    }
    const error = json?.error;
    if (status === 404 && error?.code === 'NOT_FOUND' && Number.isSafeInteger(error.partition) && Number.isSafeInteger(error.position)) {
      return { kind: 'absent', from, partition: error.partition, position: error.position };
    }
  } catch {
    // Not JSON: a failure.
  }
  return { kind: 'failed', from, reason: 'error' };
}
