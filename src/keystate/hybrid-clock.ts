import type { KeySlots } from './key-state';

/** The highest timestamp of any content the key holds, in any slot. */
export function highestTimestamp(slots: KeySlots | undefined): number {
  if (!slots) return Number.NEGATIVE_INFINITY;
  let highest = slots.main?.content?.timestamp ?? Number.NEGATIVE_INFINITY;
  for (const slot of slots.sides.values()) highest = Math.max(highest, slot.content?.timestamp ?? Number.NEGATIVE_INFINITY);
  return highest;
}

/**
 * The timestamp a node stamps on its write of a key (#13's hybrid logical clock): its clock, or one more than any
 * timestamp the key holds, so a node's write is never ordered before what it was written over.
 */
export function hybridTimestamp(now: number, slots: KeySlots | undefined): number {
  return Math.max(now, highestTimestamp(slots) + 1);
}
