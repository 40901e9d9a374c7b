import assert from 'node:assert/strict';
import { clean, cleanableEnd } from '../../../src/keystate/cleaner';
import { evaluate, type Command } from '../../../src/keystate/commands';
import { decide, decideAll, KEPT_REPLIES } from '../../../src/keystate/decider';
import { applyRecord, PartitionState, readKey, visibleContent, type Layout } from '../../../src/keystate/key-state';
import type { Content, LogRecord, RecordBody, SlotKey } from '../../../src/keystate/records';
import { settlements } from '../../../src/keystate/restater';

const LAYOUT: Layout = { partitionCount: 2, partitionOf: () => 0 };
const SETTINGS = { minCompactionLagMs: 10, deleteRetentionMs: 20 };
const main = (key: string): SlotKey => ({ kind: 'main', key });

function record(offset: number, key: SlotKey, body: RecordBody, timestamp = 1_000 + offset, appendedAt = timestamp): LogRecord {
  return { partition: 0, offset, key, body, timestamp, appendedAt };
}
const plain = (value: string | null, deadline: number | null = null): RecordBody => ({ kind: 'plain', value, deadline });
const decided = (basis: number, value: string | null): RecordBody => ({ kind: 'decided', scope: 'key', basis, content: { value, deadline: null, replies: [] } });

function content(value: string | null, deadline: number | null = null, version = 0): Content {
  return { value, timestamp: 1_000, version, deadline, replies: [], sourceOffset: null };
}

describe('key-state model parts', () => {
  describe('applyRecord', () => {
    it('takes a decision only if nothing touched the key at or after its basis, and marks a void one unsettled', () => {
      const state = new PartitionState(0, LAYOUT);
      applyRecord(state, record(0, main('k'), plain('a')));
      assert.equal(applyRecord(state, record(1, main('k'), decided(1, 'b'))), 'effective');
      assert.equal(applyRecord(state, record(2, main('k'), decided(1, 'c'))), 'void');
      assert.equal(visibleContent(state.slots('k'))?.value, 'b');
      assert.equal(visibleContent(state.slots('k'))?.version, 1);
      assert.equal(state.slots('k')?.main?.settled, false);
      // A side slot touched after the basis voids a decision on the key too.
      applyRecord(state, record(3, { kind: 'side', key: 'k', source: 1 }, { kind: 'mirror', sourceOffset: 0, sourceTimestamp: 1, value: 'old' }));
      assert.equal(applyRecord(state, record(4, main('k'), decided(3, 'd'))), 'void');
    });

    it('restates a slot keeping version and timestamp, and a stale restatement changes nothing', () => {
      const state = new PartitionState(0, LAYOUT);
      applyRecord(state, record(0, main('k'), plain('a')));
      applyRecord(state, record(1, main('k'), decided(0, 'lost')));
      const [restatement] = settlements(state, 2_000);
      assert.ok(restatement);
      applyRecord(state, record(2, main('k'), plain('newer')));
      assert.equal(applyRecord(state, { ...restatement, offset: 3, appendedAt: 2_000 }), 'void');
      assert.equal(visibleContent(state.slots('k'))?.value, 'newer');
      // Alone (the cleaner kept only it), the restatement gives the content it restates, version 0 and all.
      const replay = new PartitionState(0, LAYOUT);
      applyRecord(replay, { ...restatement, offset: 2, appendedAt: 2_000 });
      assert.deepEqual(visibleContent(replay.slots('k')), { value: 'a', timestamp: 1_000, version: 0, deadline: null, replies: [], sourceOffset: null });
    });

    it("merges slots by timestamp then slot (main first), and hides expired keys on reads only, by the reader's clock", () => {
      const state = new PartitionState(0, LAYOUT);
      applyRecord(state, record(0, main('k'), plain('main', 1_500), 1_000));
      applyRecord(state, record(1, { kind: 'side', key: 'k', source: 1 }, { kind: 'mirror', sourceOffset: 7, sourceTimestamp: 1_000, value: 'side' }));
      assert.equal(visibleContent(state.slots('k'))?.value, 'main');
      assert.equal(readKey(state, 'k', 1_499)?.value, 'main');
      assert.equal(readKey(state, 'k', 1_500), undefined);
      assert.equal(visibleContent(state.slots('k'))?.value, 'main', 'a read changes nothing');
      applyRecord(state, record(2, { kind: 'side', key: 'k', source: 1 }, { kind: 'mirror', sourceOffset: 8, sourceTimestamp: 1_001, value: 'later' }));
      assert.equal(visibleContent(state.slots('k'))?.value, 'later');
    });

    it('leaves a record of a key outside its canonical partition to its mirror', () => {
      const state = new PartitionState(1, LAYOUT);
      assert.equal(applyRecord(state, { ...record(0, main('k'), plain('x')), partition: 1 }), 'elsewhere');
      assert.equal(state.misrouted, 1);
      assert.equal(state.slots('k'), undefined);
    });
  });

  describe('evaluate (Redis semantics, expiry by the decision time)', () => {
    const at = 10_000;
    const run = (command: Command, current?: Content) => evaluate(command, current, at);

    it('SET NX/XX/GET/KEEPTTL and If-Match', () => {
      assert.deepEqual(run({ op: 'set', value: 'v', condition: 'nx', expiry: { kind: 'in', ms: 30 } }), { next: { value: 'v', deadline: at + 30 }, reply: { kind: 'ok' } });
      assert.deepEqual(run({ op: 'set', value: 'v', condition: 'nx', expiry: { kind: 'none' }, get: true }, content('old')), { next: 'unchanged', reply: { kind: 'bulk', value: 'old' } });
      assert.deepEqual(run({ op: 'set', value: 'v', condition: 'xx', expiry: { kind: 'none' } }), { next: 'unchanged', reply: { kind: 'nil' } });
      assert.deepEqual(run({ op: 'set', value: 'v', expiry: { kind: 'keep' } }, content('old', at + 5)), { next: { value: 'v', deadline: at + 5 }, reply: { kind: 'ok' } });
      assert.deepEqual(run({ op: 'set', value: 'v', ifVersion: 3, expiry: { kind: 'none' } }, content('old', null, 4)).reply, { kind: 'error', code: 'VERSION_MISMATCH' });
      // An expired key is absent at the decision time: NX takes it.
      assert.deepEqual(run({ op: 'set', value: 'v', condition: 'nx', expiry: { kind: 'none' } }, content('old', at)).next, { value: 'v', deadline: null });
      // A deadline already past deletes.
      assert.deepEqual(run({ op: 'set', value: 'v', expiry: { kind: 'at', at: at - 1 } }, content('old')).next, { value: null, deadline: null });
    });

    it('INCRBY keeps the deadline, refuses non-integers and overflow', () => {
      assert.deepEqual(run({ op: 'incrby', by: 5 }, content('-3', at + 9)), { next: { value: '2', deadline: at + 9 }, reply: { kind: 'int', value: 2 } });
      assert.deepEqual(run({ op: 'incrby', by: 1 }, content('1.5')).reply, { kind: 'error', code: 'NOT_AN_INTEGER' });
      assert.deepEqual(run({ op: 'incrby', by: 1 }, content('007')).reply, { kind: 'error', code: 'NOT_AN_INTEGER' });
      assert.deepEqual(run({ op: 'incrby', by: 1 }, content(String(Number.MAX_SAFE_INTEGER))).reply, { kind: 'error', code: 'OVERFLOW' });
      assert.deepEqual(run({ op: 'incrby', by: 1 }, content('41', at)).reply, { kind: 'int', value: 1 }, 'an expired counter starts again');
    });

    it('EXPIRE with NX/XX/GT/LT counts no deadline as infinite; PERSIST; GETDEL; APPEND', () => {
      const persistent = content('v');
      assert.deepEqual(run({ op: 'expire', deadline: at + 1, condition: 'gt' }, persistent), { next: 'unchanged', reply: { kind: 'int', value: 0 } });
      assert.deepEqual(run({ op: 'expire', deadline: at + 1, condition: 'lt' }, persistent).next, { value: 'v', deadline: at + 1 });
      assert.deepEqual(run({ op: 'expire', deadline: at + 1, condition: 'xx' }, persistent).reply, { kind: 'int', value: 0 });
      assert.deepEqual(run({ op: 'expire', deadline: null }, content('v', at + 3)), { next: { value: 'v', deadline: null }, reply: { kind: 'int', value: 1 } });
      assert.deepEqual(run({ op: 'getdel' }, persistent), { next: { value: null, deadline: null }, reply: { kind: 'bulk', value: 'v' } });
      assert.deepEqual(run({ op: 'append', value: 'w' }, persistent), { next: { value: 'vw', deadline: null }, reply: { kind: 'int', value: 2 } });
    });
  });

  describe('decide', () => {
    it('answers a retried command from the idempotency window and writes nothing', () => {
      const state = new PartitionState(0, LAYOUT);
      const first = decide(state, 'n', { op: 'incrby', by: 1 }, { now: 1_000, id: 'x' });
      applyRecord(state, { ...first.records[0]!, offset: 0, appendedAt: 1_000 });
      const retry = decide(state, 'n', { op: 'incrby', by: 1 }, { now: 1_001, id: 'x' });
      assert.deepEqual(retry, { records: [], replies: [{ kind: 'int', value: 1 }], replayed: [true] });
    });

    it('commits several commands in one record, each seeing the ones before it, and keeps every id it commits', () => {
      const state = new PartitionState(0, LAYOUT);
      const requests = Array.from({ length: KEPT_REPLIES + 6 }, (_, i) => ({ command: { op: 'incrby', by: 1 } as const, id: `r${i}` }));
      const decision = decideAll(state, 'n', [{ command: { op: 'set', value: '5', condition: 'nx', expiry: { kind: 'none' } } }, ...requests, { command: { op: 'getdel' } }], { now: 1_000 });
      assert.equal(decision.records.length, 1);
      assert.deepEqual(decision.replies[0], { kind: 'ok' });
      assert.deepEqual(decision.replies[1], { kind: 'int', value: 6 });
      assert.deepEqual(decision.replies.at(-1), { kind: 'bulk', value: String(5 + KEPT_REPLIES + 6) });
      const body = decision.records[0]!.body;
      assert.ok(body.kind === 'decided');
      assert.equal(body.content.value, null);
      assert.equal(body.content.replies.length, KEPT_REPLIES + 6);
    });

    it('stamps above every timestamp the key holds, and bases the decision on its position', () => {
      const state = new PartitionState(0, LAYOUT);
      applyRecord(state, record(0, main('k'), plain('future'), 9_000));
      const decision = decide(state, 'k', { op: 'append', value: '!' }, { now: 1_000 });
      assert.equal(decision.records[0]!.timestamp, 9_001);
      assert.deepEqual(decision.records[0]!.body, { kind: 'decided', scope: 'key', basis: 1, content: { value: 'future!', deadline: null, replies: [] } });
    });
  });

  describe("the cleaner (Kafka's log cleaner, in log time)", () => {
    const log = [
      record(0, main('a'), plain('1'), 0, 0),
      record(1, main('b'), plain(null), 1, 1),
      record(2, main('a'), plain('2'), 2, 2),
      record(3, main('a'), plain('3'), 30, 30),
    ];

    it('stops below the active segment and below the first record younger than min.compaction.lag.ms', () => {
      assert.equal(cleanableEnd(log, 4, 35, SETTINGS), 3);
      assert.equal(cleanableEnd(log, 2, 100, SETTINGS), 2);
      assert.throws(() => clean(log, 4, 35, 4, SETTINGS), RangeError);
    });

    it('keeps the last record of each key below the point, drops a tombstone after delete.retention.ms, and never touches the rest', () => {
      assert.deepEqual(clean(log, 3, 15, 4, SETTINGS).map((r) => r.offset), [1, 2, 3]);
      assert.deepEqual(clean(log, 3, 21, 4, SETTINGS).map((r) => r.offset), [2, 3], 'the tombstone at log time 1 is dropped at 21');
      // Offset 3 supersedes offset 2 only once a pass reaches it.
      assert.deepEqual(clean(log, 4, 100, 4, SETTINGS).map((r) => r.offset), [3]);
    });
  });
});
