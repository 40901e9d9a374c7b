import assert from 'node:assert/strict';
import { digestDifferences, digestPartitions } from '../../src/store/content-digest';
import { EntryStore } from '../../src/store/entry-store';

const positions = [
  { partition: 0, position: 10 },
  { partition: 1, position: 20 },
];

function storeOf(entries: Array<[string, string, number]>): EntryStore {
  const store = new EntryStore();
  entries.forEach(([key, value, partition], i) => store.put(key, Buffer.from(value), partition, i, 0));
  return store;
}

describe('content digest', () => {
  it('depends on contents, not on the order or offsets they were written at', () => {
    const a = storeOf([['a', '1', 0], ['b', '2', 0], ['c', '3', 1]]);
    const b = storeOf([['c', '3', 1], ['b', '2', 0], ['a', '1', 0]]);
    assert.deepEqual(digestPartitions(a, positions), digestPartitions(b, positions));
  });

  it('changes when a value, a key or a partition changes, and returns to the empty digest after deletes', () => {
    const base = digestPartitions(storeOf([['a', '1', 0]]), positions);
    assert.notEqual(digestPartitions(storeOf([['a', '2', 0]]), positions)[0]!.digest, base[0]!.digest);
    assert.notEqual(digestPartitions(storeOf([['b', '1', 0]]), positions)[0]!.digest, base[0]!.digest);
    // Key/value boundaries are length-prefixed: "ab"+"c" is not "a"+"bc".
    assert.notEqual(digestPartitions(storeOf([['ab', 'c', 0]]), positions)[0]!.digest, digestPartitions(storeOf([['a', 'bc', 0]]), positions)[0]!.digest);
    const store = storeOf([['a', '1', 0], ['b', '2', 1]]);
    store.delete('a');
    store.delete('b');
    const empty = digestPartitions(store, positions);
    assert.deepEqual(
      empty.map((p) => [p.partition, p.position, p.keys, p.digest]),
      [
        [0, 10, 0, '0'.repeat(64)],
        [1, 20, 0, '0'.repeat(64)],
      ],
    );
  });

  it('names each partition that differs, by position or by digest', () => {
    const expected = digestPartitions(storeOf([['a', '1', 0], ['b', '2', 1]]), positions);
    const actual = digestPartitions(storeOf([['a', 'other', 0], ['b', '2', 1]]), [positions[0]!, { partition: 1, position: 19 }]);
    const differences = digestDifferences(expected, actual);
    assert.equal(differences.length, 2);
    assert.match(differences[0]!, /partition 0: digest differs/);
    assert.match(differences[1]!, /partition 1: position 19, expected 20/);
    assert.deepEqual(digestDifferences(expected, expected), []);
  });
});
