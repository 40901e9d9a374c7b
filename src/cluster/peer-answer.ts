import type { Entry } from '../store/entry';

/** What one node said about a key, from its own map only. */
export type LookupAnswer =
  /** It holds the key: the value and the record that wrote it. */
  | { readonly kind: 'value'; readonly from: string; readonly entry: Entry }
  /** It does not hold the key, having applied every record of the key's partition below `position`. */
  | { readonly kind: 'absent'; readonly from: string; readonly partition: number; readonly position: number };

/** A peer that did not answer in time or answered something unusable; counted, never an error to the client. */
export type PeerFailure = { readonly kind: 'failed'; readonly from: string; readonly reason: 'timeout' | 'error' };

export type PeerAnswer = LookupAnswer | PeerFailure;
