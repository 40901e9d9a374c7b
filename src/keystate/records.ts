/**
 * The records of the topic as the key-state model sees them (docs/design/conditional-writes.md). A node decodes a
 * Kafka record (key bytes, value, headers) into one of these; the wire codec is step 1 of the plan. Every number
 * here is what the log says, never what a node's clock says.
 */

/** The Kafka key of a record: a user key's main slot, or a side slot holding a mirrored record (#13). */
export type SlotKey =
  | { readonly kind: 'main'; readonly key: string }
  /** Mirror of records of `key` that a foreign producer put in partition `source`, not in the canonical one. */
  | { readonly kind: 'side'; readonly key: string; readonly source: number };

/** One reply kept for an idempotency id, so a retried command answers what the first attempt answered. */
export interface KeptReply {
  readonly id: string;
  readonly reply: Reply;
}

/** What a command answers, as a RESP or HTTP front-end will encode it. */
export type Reply =
  | { readonly kind: 'ok' }
  | { readonly kind: 'nil' }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'bulk'; readonly value: string }
  | { readonly kind: 'error'; readonly code: 'NOT_AN_INTEGER' | 'OVERFLOW' | 'VERSION_MISMATCH' };

/** What a slot holds once a record took effect. */
export interface Content {
  /** null: the slot holds a deletion (a Kafka tombstone, until the cleaner drops it). */
  readonly value: string | null;
  /** The ordering timestamp of #13's merge: the record's timestamp (a mirror keeps the source record's). */
  readonly timestamp: number;
  /** Offset, in the canonical partition, of the record that decided this content: the ETag and the fencing token. */
  readonly version: number;
  /** Absolute expiry time in ms since the epoch (data, compared with record timestamps), or null. */
  readonly deadline: number | null;
  /** The idempotency window: the last replies of commands that produced this content or its predecessors. */
  readonly replies: readonly KeptReply[];
  /** For a side slot: the offset of the mirrored record in its source partition. */
  readonly sourceOffset: number | null;
}

/** The part of a content a decider chooses; timestamp and version come from the record that carries it. */
export interface DecidedContent {
  readonly value: string | null;
  readonly deadline: number | null;
  readonly replies: readonly KeptReply[];
}

/** What a record says, by kind; the wire codec (plan step 1) carries everything but plain values in headers. */
export type RecordBody =
  /** A plain write from any producer: a value (a node may add an absolute deadline as a header) or a tombstone. */
  | { readonly kind: 'plain'; readonly value: string | null; readonly deadline: number | null }
  /**
   * A decided write: takes effect only if no record touched its scope (the whole key for 'key', the slot alone for
   * 'slot') at or after `basis`, the position in the partition the decider had applied when it decided.
   */
  | { readonly kind: 'decided'; readonly scope: 'key' | 'slot'; readonly basis: number; readonly content: DecidedContent }
  /**
   * Puts a slot's content back as it stands (version and timestamp kept), so that the slot's last record holds its
   * whole state; takes effect only if nothing touched the slot at or after `basis`. null restates an empty slot.
   */
  | { readonly kind: 'restate'; readonly basis: number; readonly content: Content | null }
  /** A copy, in the canonical partition, of a record found in another partition (#13). */
  | { readonly kind: 'mirror'; readonly sourceOffset: number; readonly sourceTimestamp: number; readonly value: string | null };

/** A record as a producer hands it to Kafka: the partition and the offset are Kafka's to give. */
export interface RecordDraft {
  readonly partition: number;
  readonly key: SlotKey;
  /** The producer's timestamp (CreateTime): a hybrid logical clock for node writes, anything for foreign ones. */
  readonly timestamp: number;
  readonly body: RecordBody;
}

/** A record in a partition. */
export interface LogRecord extends RecordDraft {
  readonly offset: number;
  /** When the broker appended it, in log time: what min.compaction.lag.ms and delete.retention.ms measure. */
  readonly appendedAt: number;
}

/** Whether Kafka sees the record as a tombstone (a null value), which the cleaner drops after delete.retention.ms. */
export function isTombstone(body: RecordBody): boolean {
  switch (body.kind) {
    case 'plain':
    case 'mirror':
      return body.value === null;
    case 'decided':
      return body.content.value === null;
    case 'restate':
      return body.content === null || body.content.value === null;
  }
}

/** One string per Kafka key, for maps and for the cleaner's "last record of each key". */
export function slotKeyId(key: SlotKey): string {
  return key.kind === 'main' ? `m:${key.key}` : `s:${key.source}:${key.key}`;
}
