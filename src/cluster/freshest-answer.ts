import type { LookupAnswer } from './peer-answer';

/**
 * Picks the freshest of several answers about one key, by Kafka offsets rather than clocks or votes:
 * - among values, the one written by the highest offset wins (a later record for a key supersedes earlier ones);
 * - an absence reported at position P beats a value written at an offset below P: that node applied the value's
 *   record and everything after it up to P, and no longer holds the key, so a later tombstone deleted it.
 * Answers about another partition (a node with a different view of the topic) are ignored.
 * Undefined when there is no usable answer.
 */
export function freshestAnswer(answers: readonly LookupAnswer[], partition: number): LookupAnswer | undefined {
  let bestValue: Extract<LookupAnswer, { kind: 'value' }> | undefined;
  let bestAbsence: Extract<LookupAnswer, { kind: 'absent' }> | undefined;
  for (const answer of answers) {
    if (answer.kind === 'value') {
      if (answer.entry.partition !== partition) continue;
      if (!bestValue || answer.entry.offset > bestValue.entry.offset) bestValue = answer;
    } else {
      if (answer.partition !== partition) continue;
      if (!bestAbsence || answer.position > bestAbsence.position) bestAbsence = answer;
    }
  }
  if (bestValue && bestAbsence && bestAbsence.position > bestValue.entry.offset) return bestAbsence;
  return bestValue ?? bestAbsence;
}
