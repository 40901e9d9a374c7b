/** The avsc version this patch was written for and checked against (test/unit/patches.test.ts). */
export const AVSC_CALL_IDS_PATCHED_VERSION = '5.7.9';

/**
 * avsc answers only ids whose top 16 bits match the channel's scope (0) and drops the rest unanswered, while
 * Java's NettyTransceiver numbers calls 1, 2, 3…: its 65,536th call on a connection would hang. A server channel
 * that is one connection has every id as its own: this makes `channel` accept them all.
 */
export function acceptEveryCallId(channel: object): void {
  const internal = channel as { _matchesPrefix?: (id: number) => boolean };
  if (typeof internal._matchesPrefix !== 'function') {
    throw new Error('avsc changed: a server channel has no _matchesPrefix; review src/patches/avsc-call-ids.ts');
  }
  internal._matchesPrefix = () => true;
}
