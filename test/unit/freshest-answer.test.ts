import assert from 'node:assert/strict';
import { freshestAnswer } from '../../src/cluster/freshest-answer';
import type { LookupAnswer } from '../../src/cluster/peer-answer';

const value = (from: string, offset: number, partition = 0): LookupAnswer => ({
  kind: 'value',
  from,
  entry: { value: Buffer.from(`${from}@${offset}`), partition, offset, timestamp: 0 },
});
const absent = (from: string, position: number, partition = 0): LookupAnswer => ({ kind: 'absent', from, partition, position });

describe('freshest answer by Kafka offset', () => {
  it('picks the value written at the highest offset, whatever the order of answers', () => {
    assert.equal(freshestAnswer([value('a', 3), value('b', 9), value('c', 5)], 0)?.from, 'b');
    assert.equal(freshestAnswer([value('b', 9), value('a', 3)], 0)?.from, 'b');
  });

  it('lets an absence at a position above the value offset win: a later tombstone deleted it', () => {
    const best = freshestAnswer([value('lagging', 4), absent('current', 5)], 0);
    assert.equal(best?.kind, 'absent');
    assert.equal(best?.from, 'current');
  });

  it('keeps the value when the absence is reported at or below its offset: that node had not read it yet', () => {
    assert.equal(freshestAnswer([value('ahead', 7), absent('behind', 7)], 0)?.kind, 'value');
    assert.equal(freshestAnswer([absent('behind', 2), value('ahead', 7)], 0)?.kind, 'value');
  });

  it('compares the newest value with the furthest absence', () => {
    assert.equal(freshestAnswer([value('a', 10), absent('b', 8), absent('c', 11), value('d', 6)], 0)?.from, 'c');
    assert.equal(freshestAnswer([value('a', 12), absent('b', 8), absent('c', 11)], 0)?.from, 'a');
  });

  it('ignores answers about another partition', () => {
    assert.equal(freshestAnswer([value('a', 3), value('other', 99, 1)], 0)?.from, 'a');
    assert.equal(freshestAnswer([value('a', 3), absent('other', 99, 1)], 0)?.kind, 'value');
  });

  it('has no answer without answers', () => {
    assert.equal(freshestAnswer([], 0), undefined);
  });
});
