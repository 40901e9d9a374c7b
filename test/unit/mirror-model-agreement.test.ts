import assert from 'node:assert/strict';
import { applyRecord, PartitionState, visibleContent, type Layout } from '../../src/keystate/key-state';
import { mirrorRecords } from '../../src/keystate/mirror';
import type { LogRecord as ModelRecord, RecordDraft } from '../../src/keystate/records';
import { KeyMerge } from '../../src/log/key-merge';
import { EntryStore } from '../../src/store/entry-store';
import { SeededRandom, fuzzSeed } from '../helpers/seeded-random';

/**
 * The production merge and mirroring (src/log/) against the model of src/keystate/ (docs/design/conditional-writes.md):
 * on histories of foreign writes outside the canonical partition, node writes in it, and mirroring rounds, the
 * records mirrored are the model's (the last per key), and once everything is mirrored both decide every key alike.
 */
describe('mirroring agrees with the key-state model (seeded)', () => {
  const PARTITIONS = 3;
  const KEYS = ['a', 'b', 'c', 'd'];
  const layout: Layout = { partitionCount: PARTITIONS, partitionOf: (key) => KEYS.indexOf(key) % PARTITIONS };

  it('copies what mirrorRecords copies, and decides what visibleContent decides', () => {
    const seed = fuzzSeed();
    const rnd = new SeededRandom(seed);
    for (let round = 0; round < 200; round++) {
      const logs: ModelRecord[][] = Array.from({ length: PARTITIONS }, () => []);
      const states = Array.from({ length: PARTITIONS }, (_, p) => new PartitionState(p, layout));
      const store = new EntryStore();
      const merge = new KeyMerge();
      const append = (draft: RecordDraft): void => {
        const log = logs[draft.partition]!;
        const record: ModelRecord = { ...draft, offset: log.length, appendedAt: 0 };
        log.push(record);
        applyRecord(states[draft.partition]!, record);
        const canonical = layout.partitionOf(draft.key.key);
        const { body } = draft;
        if (draft.key.kind === 'side' && body.kind === 'mirror') {
          const value = body.value === null ? null : Buffer.from(body.value);
          merge.applySide(store, draft.key.key, canonical, { source: draft.key.source, sourceOffset: body.sourceOffset, timestamp: body.sourceTimestamp, value });
        } else if (body.kind === 'plain') {
          merge.apply(store, draft.key.key, canonical, { partition: draft.partition, offset: record.offset, timestamp: draft.timestamp, value: body.value === null ? null : Buffer.from(body.value) });
        }
      };
      /** One mirroring round of `source` on both sides: the model's drafts, and what the merge says is left to copy. */
      const mirror = (source: number): void => {
        const drafts = mirrorRecords(source, logs[source]!, layout, (p) => states[p]!);
        const lastPerKey = new Map(drafts.map((d) => [d.key.key, d]));
        for (const key of KEYS) {
          const todo = merge.unmirroredRecord(store, key, source);
          const model = lastPerKey.get(key);
          assert.equal(todo === undefined, model === undefined, `seed ${seed} round ${round}: ${key} from ${source} left to mirror`);
          if (!todo || !model || model.body.kind !== 'mirror') continue;
          assert.deepEqual([todo.offset, todo.timestamp, todo.value?.toString() ?? null], [model.body.sourceOffset, model.body.sourceTimestamp, model.body.value]);
        }
        // The production copies only each key's last record; the model every one: both end in the same side slot.
        for (const draft of lastPerKey.values()) append(draft);
      };
      for (let step = 0, steps = rnd.between(1, 14); step < steps; step++) {
        const key = rnd.pick(KEYS);
        const canonical = layout.partitionOf(key);
        const what = rnd.between(0, 3);
        if (what <= 1) {
          const partition = (canonical + rnd.between(1, PARTITIONS - 1)) % PARTITIONS;
          append({ partition, key: { kind: 'main', key }, timestamp: rnd.between(0, 30), body: { kind: 'plain', value: rnd.chance(0.3) ? null : `f${round}.${step}`, deadline: null } });
        } else if (what === 2) {
          append({ partition: canonical, key: { kind: 'main', key }, timestamp: rnd.between(0, 30), body: { kind: 'plain', value: `n${round}.${step}`, deadline: null } });
        } else mirror(rnd.between(0, PARTITIONS - 1));
      }
      for (let source = 0; source < PARTITIONS; source++) mirror(source);
      for (const key of KEYS) {
        const model = visibleContent(states[layout.partitionOf(key)]!.slots(key));
        const expected = model && model.value !== null ? [model.value, model.timestamp] : null;
        const entry = store.get(key);
        assert.deepEqual(entry ? [entry.value.toString(), entry.timestamp] : null, expected, `seed ${seed} round ${round}: ${key}`);
      }
    }
  });
});
