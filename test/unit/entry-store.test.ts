import assert from 'node:assert/strict';
import { EntryStore } from '../../src/store/entry-store';
import type { HeadroomEvent } from '../../src/store/memory-budget';
import { StoreFullError } from '../../src/store/store-full-error';
import { fuzzSeed, SeededRandom } from '../helpers/seeded-random';
import { digestPartitions } from '../../src/store/content-digest';

const MIB = 1024 * 1024;

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
    assert.equal(store.has('all-bytes'), true);
    assert.equal(store.has('all-bytes '), false);
  });

  it('holds empty values and non-Latin-1 keys, and copies the value it is given and the one it returns', () => {
    const store = new EntryStore();
    const source = Buffer.from('abc');
    store.put('ключ-☕', source, 0, 0, 0);
    store.put('empty', Buffer.alloc(0), 1, 1, 1);
    store.put('\u{1F600}\uFEFF', Buffer.from('emoji'), 2, 2, 2);
    source.write('zzz');
    const read = store.get('ключ-☕')!;
    assert.equal(read.value.toString(), 'abc');
    read.value.write('yyy');
    assert.equal(store.get('ключ-☕')!.value.toString(), 'abc');
    assert.equal(store.get('empty')!.value.length, 0);
    assert.equal(store.get('\u{1F600}\uFEFF')!.value.toString(), 'emoji');
    assert.equal(store.get('\u{1F600}'), undefined);
    assert.deepEqual([...store.keys()].sort(), ['empty', 'ключ-☕', '\u{1F600}\uFEFF'].sort());
  });

  it('holds keys and values at the largest limits a node accepts (1 MiB keys, 64 MiB values)', () => {
    const store = new EntryStore();
    const random = new SeededRandom(7);
    const longKey = 'k'.repeat(MIB);
    const hugeValue = Buffer.from(random.bytes(64 * MIB));
    const bigValue = Buffer.from(random.bytes(1_000_000));
    store.put(longKey, bigValue, 1, 10, 100);
    store.put('huge', hugeValue, 2, 20, 200);
    store.put(`${'k'.repeat(1023)}é`, Buffer.from('default limit: 1024 bytes'), 0, 1, 1);
    assert.deepEqual(store.get(longKey)!.value, bigValue);
    assert.deepEqual(store.get('huge')!.value, hugeValue);
    assert.equal(store.get(`${'k'.repeat(1023)}é`)!.value.toString(), 'default limit: 1024 bytes');
    // Overwrites move a value between the shared slabs and a slab of its own, both ways.
    store.put('huge', Buffer.from('small now'), 2, 21, 201);
    store.put(longKey, hugeValue, 1, 11, 101);
    assert.equal(store.get('huge')!.value.toString(), 'small now');
    assert.deepEqual(store.get(longKey)!.value, hugeValue);
    const before = store.approximateBytes;
    assert.equal(store.delete(longKey), true);
    assert.ok(store.approximateBytes <= before - 64 * MIB, 'a large value gives its slab back when deleted');
    assert.equal(store.size, 2);
  });

  it('finds by the UTF-8 bytes of a key what it finds by the key, and nothing for bytes no key has', () => {
    const store = new EntryStore();
    const keys = ['k', 'ké', '\u{1F600}', '\uFEFFk', 'x'.repeat(300)];
    keys.forEach((key, i) => store.put(key, Buffer.from(`v${i}`), i, i, i));
    store.markDeleted('gone', 0, 9, 9);
    for (const key of keys) assert.deepEqual(store.getBytes(Buffer.from(key)), store.get(key), key);
    // A view into a larger buffer, as a RESP argument is.
    assert.equal(store.getBytes(Buffer.from('--ké--').subarray(2, 5))?.value.toString(), 'v1');
    const nothing = [Buffer.from('gone'), Buffer.alloc(0), Buffer.from('K'), Buffer.from('k\0'), Buffer.from([0x6b, 0xc3]), Buffer.from([0xff, 0x6b]), Buffer.from('\uFEFFk').subarray(0, 3)];
    for (const bytes of nothing) assert.equal(store.getBytes(bytes), undefined, bytes.toString('hex'));
    // A lookup by bytes leaves the next lookup by string unaffected.
    assert.equal(store.get('k')?.value.toString(), 'v0');
  });

  it('agrees with a Map through millions of seeded random puts, overwrites, deletes and deletions of binary values', function () {
    this.timeout(600_000);
    const seed = fuzzSeed();
    const random = new SeededRandom(seed);
    const store = new EntryStore();
    const model = new Map<string, { value: Buffer; offset: number }>();
    // Keys held as deletions (markDeleted): absent to every reader, a put replaces them, delete drops them.
    const deletions = new Map<string, { partition: number; offset: number; timestamp: number }>();
    const keySpace = 400_000;
    const operations = 2_000_000;
    const pool = Buffer.from(random.bytes(1 << 16));
    const valueOf = (): Buffer => {
      // Mostly small values of many sizes (each its own free list), some over 1 KiB (the rounded classes).
      const length = random.chance(0.95) ? random.int(64) : random.between(1000, 20_000);
      const start = random.int(pool.length - length);
      return pool.subarray(start, start + length);
    };
    for (let i = 0; i < operations; i++) {
      const key = `key-${random.int(keySpace)}${random.chance(0.01) ? '-ü' : ''}`;
      if (random.chance(0.15)) {
        deletions.delete(key);
        assert.equal(store.delete(key), model.delete(key), `FUZZ_SEED=${seed}: delete ${key} at operation ${i}`);
      } else if (random.chance(0.2)) {
        const deletion = { partition: i % 5, offset: i, timestamp: 1_700_000_000_000 + i };
        assert.equal(store.markDeleted(key, deletion.partition, deletion.offset, deletion.timestamp), model.delete(key), `FUZZ_SEED=${seed}: markDeleted ${key} at operation ${i}`);
        deletions.set(key, deletion);
      } else if (random.chance(0.5)) {
        const value = valueOf();
        store.put(key, value, i % 7, i, 1_700_000_000_000 + i);
        model.set(key, { value: Buffer.from(value), offset: i });
        deletions.delete(key);
      } else {
        const got = store.get(key);
        const want = model.get(key);
        assert.equal(got?.offset, want?.offset, `FUZZ_SEED=${seed}: get ${key} at operation ${i}`);
        if (want) assert.ok(got!.value.equals(want.value), `FUZZ_SEED=${seed}: value of ${key} at operation ${i}`);
        assert.deepEqual(store.getBytes(Buffer.from(key)), got, `FUZZ_SEED=${seed}: getBytes ${key} at operation ${i}`);
        assert.equal(store.has(key), want !== undefined, `FUZZ_SEED=${seed}: has ${key} at operation ${i}`);
        assert.deepEqual(store.deletionOf(key), deletions.get(key), `FUZZ_SEED=${seed}: deletionOf ${key} at operation ${i}`);
      }
      if (i % 100_000 === 0) {
        assert.equal(store.size, model.size, `FUZZ_SEED=${seed}: size at operation ${i}`);
        assert.equal(store.deletions, deletions.size, `FUZZ_SEED=${seed}: deletions at operation ${i}`);
      }
    }
    assert.equal(store.size, model.size);
    assert.equal(store.deletions, deletions.size);
    assert.ok(deletions.size > 10_000, `the store holds deletions (${deletions.size})`);
    // Keys, scan and digest see the values only: the same as a store that never held a deletion.
    assert.deepEqual([...store.keys()].sort(), [...model.keys()].sort());
    const scanned = new Set<string>();
    for (let cursor = 0, first = true; first || cursor !== 0; first = false) {
      const page = store.scan(cursor, 500);
      for (const key of page.keys) scanned.add(key);
      cursor = page.cursor;
    }
    assert.deepEqual([...scanned].sort(), [...model.keys()].sort());
    const valuesOnly = new EntryStore();
    for (const [key, { value, offset }] of model) valuesOnly.put(key, value, offset % 7, offset, 0);
    const positions = Array.from({ length: 7 }, (_, partition) => ({ partition, position: operations }));
    assert.deepEqual(digestPartitions(store, positions), digestPartitions(valuesOnly, positions));
    let visited = 0;
    store.forEach((key, partition, value) => {
      const want = model.get(key);
      assert.ok(want, `FUZZ_SEED=${seed}: forEach gave ${key}, which the model does not hold`);
      assert.ok(value.equals(want.value));
      assert.equal(partition, want.offset % 7);
      visited++;
    });
    assert.equal(visited, model.size);
    const stats = store.stats();
    assert.ok(stats.freeBytes < stats.liveBytes, `holes (${stats.freeBytes} B) are reused: live ${stats.liveBytes} B`);
    for (const key of [...model.keys(), ...deletions.keys()]) store.delete(key);
    assert.equal(store.size, 0);
    assert.equal(store.deletions, 0);
    assert.equal(store.stats().liveBytes, 0);
    assert.ok(store.stats().buckets <= 32, `the index shrinks once emptied (${store.stats().buckets} buckets)`);
  });

  it('refuses an entry over its memory limit with StoreFullError, unchanged, after warning of low headroom', () => {
    const events: HeadroomEvent[] = [];
    const store = new EntryStore({ maxBytes: 200 * MIB, onHeadroom: (event) => events.push(event) });
    const value = Buffer.alloc(1000, 1);
    let stored = 0;
    let refusal: unknown;
    try {
      for (; stored < 1_000_000; stored++) store.put(`key-${stored}`, value, 0, stored, 0);
    } catch (error) {
      refusal = error;
    }
    assert.ok(refusal instanceof StoreFullError, `expected StoreFullError, got ${String(refusal)}`);
    assert.equal(refusal.code, 'STORE_FULL');
    assert.match(refusal.message, /STORE_MAX_BYTES/);
    assert.equal(store.size, stored);
    assert.equal(store.has(`key-${stored}`), false);
    assert.deepEqual(store.get(`key-${stored - 1}`)!.value, value);
    assert.ok(events.length >= 1 && events[0]!.low, 'the low-headroom warning came before the refusal');
    assert.ok(events[0]!.headroomBytes < 64 * MIB && events[0]!.limitBytes === 200 * MIB);
    assert.ok(store.headroomBytes < 32 * MIB, 'refused only when the next slab would not fit');
    // Deleting makes room again; an overwrite of the same size needs none.
    for (let i = 0; i < stored; i += 2) store.delete(`key-${i}`);
    store.put(`key-${stored}`, value, 0, stored, 0);
    store.put(`key-1`, Buffer.alloc(1000, 2), 0, 1, 0);
    assert.equal(store.get('key-1')!.value[0], 2);
  });

  describe('scan', () => {
    const scanAll = (store: EntryStore, count: number, between?: (step: number) => void): string[] => {
      const keys: string[] = [];
      let cursor = 0;
      let step = 0;
      do {
        const page = store.scan(cursor, count);
        assert.ok(page.keys.length <= count + 64, `a step returned ${page.keys.length} keys for count ${count}`);
        keys.push(...page.keys);
        cursor = page.cursor;
        between?.(step++);
      } while (cursor !== 0);
      return keys;
    };

    it('returns every key of a quiet store, each once', () => {
      const store = new EntryStore();
      for (let i = 0; i < 50_000; i++) store.put(`k${i}`, Buffer.from('v'), 0, i, 0);
      const keys = scanAll(store, 100);
      assert.equal(keys.length, 50_000);
      assert.equal(new Set(keys).size, 50_000);
      assert.deepEqual(scanAll(new EntryStore(), 10), []);
    });

    it('returns every key present for the whole scan while others are written and deleted, through growth and shrinking', function () {
      this.timeout(300_000);
      const seed = fuzzSeed();
      for (let round = 0; round < 4; round++) {
        const random = new SeededRandom(seed + round);
        const store = new EntryStore();
        const stable = new Set<string>();
        let churn = 0;
        for (let i = 0; i < 20_000; i++) {
          const key = `stable-${i}`;
          store.put(key, Buffer.from('s'), 0, i, 0);
          stable.add(key);
        }
        const churned: string[] = [];
        const seen = new Set(
          scanAll(store, random.between(5, 50), (step) => {
            // Odd rounds grow the table many times over during the scan, even rounds grow then shrink it. Growth
            // stops at a bound: a table that grows faster than the cursor walks it has no end to reach.
            const growing = churn < 60_000 && (round % 2 === 1 || step < 300);
            const writes = growing ? random.int(400) : 0;
            for (let i = 0; i < writes; i++) {
              const key = `churn-${churn++}`;
              store.put(key, Buffer.from('c'), 0, churn, 0);
              churned.push(key);
            }
            const deletes = random.int(growing ? 100 : 800);
            for (let i = 0; i < deletes && churned.length > 0; i++) {
              const at = random.int(churned.length);
              store.delete(churned[at]!);
              churned[at] = churned[churned.length - 1]!;
              churned.pop();
            }
            // Stable keys may be overwritten (same or another size): they stay present.
            if (random.chance(0.3)) store.put(`stable-${random.int(20_000)}`, Buffer.alloc(random.int(40)), 0, 0, 0);
          }),
        );
        const missing = [...stable].filter((key) => !seen.has(key));
        assert.deepEqual(missing.slice(0, 10), [], `FUZZ_SEED=${seed} round ${round}: ${missing.length} keys present for the whole scan were not returned`);
        assert.ok(churn > 20_000, 'the table grew during the scan');
      }
    });
  });

  describe('past 2^24 entries (BIG=1)', () => {
    before(function () {
      if (process.env.BIG !== '1') this.skip();
    });

    it('holds 2^24 + 2^20 entries of 16-byte keys and 10-byte values, about 60 B each above key and value, then as many deletions', function () {
      this.timeout(1_800_000);
      const total = 2 ** 24 + 2 ** 20;
      const store = new EntryStore();
      const value = Buffer.from('0123456789');
      const keyOf = (i: number): string => `k${i.toString(16).padStart(15, '0')}`;
      const started = Date.now();
      for (let i = 0; i < total; i++) store.put(keyOf(i), value, i % 3, i, started);
      const loadMs = Date.now() - started;
      assert.equal(store.size, total);
      const random = new SeededRandom(1);
      for (let i = 0; i < 100_000; i++) {
        const n = random.int(total);
        const entry = store.get(keyOf(n));
        assert.equal(entry?.offset, n);
      }
      assert.equal(store.get(keyOf(total)), undefined);
      const stats = store.stats();
      const above = stats.bytes / total - 26;
      process.stdout.write(`      ${total} entries in ${loadMs} ms; store holds ${(stats.bytes / 2 ** 20).toFixed(0)} MiB, ${above.toFixed(1)} B per entry above key and value; ${JSON.stringify(stats)}\n`);
      assert.ok(above <= 70, `the store holds ${above.toFixed(1)} B per entry above key and value`);
      // The same keys as deletions (the log's tombstones): past 2^24 too, where a JS Map of them would throw.
      for (let i = 0; i < total; i++) store.markDeleted(keyOf(i), i % 3, i, started + 1);
      assert.equal(store.size, 0);
      assert.equal(store.deletions, total);
      for (let i = 0; i < 100_000; i++) {
        const n = random.int(total);
        assert.equal(store.get(keyOf(n)), undefined);
        assert.equal(store.deletionOf(keyOf(n))?.offset, n);
      }
      assert.deepEqual(store.scan(0, 100).keys, []);
      process.stdout.write(`      then ${total} deletions: store holds ${(store.stats().bytes / 2 ** 20).toFixed(0)} MiB\n`);
    });
  });
});
