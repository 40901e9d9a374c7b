import assert from 'node:assert/strict';
import { EntryStore } from '../../src/store/entry-store';

describe('entry store', () => {
  it('round-trips every byte value, the position and the timestamp', () => {
    const store = new EntryStore();
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    store.put('all-bytes', value, 65_535, 2 ** 47 + 12_345, 1_795_321_864_562);
    const entry = store.get('all-bytes')!;
    assert.deepEqual(entry.value, value);
    assert.equal(entry.partition, 65_535);
    assert.equal(entry.offset, 2 ** 47 + 12_345);
    assert.equal(entry.timestamp, 1_795_321_864_562);
  });

  it('holds empty values and non-Latin-1 keys, and copies the value it is given', () => {
    const store = new EntryStore();
    const source = Buffer.from('abc');
    store.put('ключ-☕', source, 0, 0, 0);
    store.put('empty', Buffer.alloc(0), 1, 1, 1);
    source.write('zzz');
    assert.equal(store.get('ключ-☕')!.value.toString(), 'abc');
    assert.equal(store.get('empty')!.value.length, 0);
  });

  it('keeps its size and byte estimate through overwrites and deletes', () => {
    const store = new EntryStore();
    store.put('a', Buffer.alloc(100), 0, 0, 0);
    const one = store.approximateBytes;
    store.put('a', Buffer.alloc(10), 0, 1, 0);
    assert.equal(store.approximateBytes, one - 90);
    store.put('b', Buffer.alloc(100), 0, 2, 0);
    assert.equal(store.size, 2);
    assert.equal(store.delete('a'), true);
    assert.equal(store.delete('a'), false);
    assert.equal(store.approximateBytes, one);
    store.delete('b');
    assert.equal(store.approximateBytes, 0);
  });
});
