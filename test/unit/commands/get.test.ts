import assert from 'node:assert/strict';
import { BitacoraError } from '../../../src/errors/bitacora-error';
import { Commands } from '../../../src/commands/commands';
import type { PeerFanOut, ReadableStore } from '../../../src/commands/command-context';
import { decodeKey } from '../../../src/commands/key-validation';
import { EntryStore } from '../../../src/store/entry-store';
import { bytes, codeOf, fakeCommands, mapStore } from '../../helpers/fake-command-deps';

/** An outcome as plain data: a hit's fields (its key read through its getter), an error's code, anything else as it is. */
const plain = (outcome: unknown) => {
  const o = outcome as { kind: string; key?: string; entry?: unknown; source?: string; error?: BitacoraError };
  return o.kind === 'hit' ? { kind: o.kind, key: o.key, entry: o.entry, source: o.source } : o.kind === 'error' ? o.error!.code : o;
};

describe('command: get', () => {
  it('answers a hit synchronously, with the entry and its source, counted ok', () => {
    const { commands, map, recorded } = fakeCommands();
    map.set('k', { value: bytes('v'), partition: 1, offset: 7, timestamp: 5 });
    const outcome = commands.get('resp', bytes('k'));
    assert.ok(!(outcome instanceof Promise), 'a local hit must not wait on a promise');
    assert.deepEqual(plain(outcome), { kind: 'hit', key: 'k', entry: { value: bytes('v'), partition: 1, offset: 7, timestamp: 5 }, source: 'local' });
    assert.deepEqual(recorded, [{ iface: 'resp', operation: 'get', outcome: 'ok' }]);
    assert.deepEqual(commands.readStats, { hits: 1, misses: 0 });
  });

  it('answers a miss on a ready node as a miss (not an error), counted not_found on every interface', () => {
    const { commands, recorded } = fakeCommands();
    for (const iface of ['http', 'avro', 'resp'] as const) assert.deepEqual(commands.get(iface, bytes('absent')), { kind: 'miss', key: 'absent' });
    assert.deepEqual(recorded.map((r) => r.outcome), ['not_found', 'not_found', 'not_found']);
  });

  it('answers NOT_READY for a miss while the node is loading', () => {
    const { commands, recorded } = fakeCommands({ ready: false });
    assert.equal(codeOf(commands.get('http', bytes('absent')) as { kind: string }), 'NOT_READY');
    assert.deepEqual(recorded, [{ iface: 'http', operation: 'get', outcome: 'unavailable' }]);
  });

  it('validates the key with the same words whatever the front-end', () => {
    const { commands } = fakeCommands({ maxKeyBytes: 4 });
    const cases: Array<[Buffer | undefined, string]> = [
      [undefined, 'KEY_MISSING'],
      [Buffer.alloc(0), 'KEY_MISSING'],
      [bytes('toolong'), 'KEY_TOO_LARGE'],
      [Buffer.from([0xff, 0xfe]), 'KEY_INVALID'],
    ];
    for (const [key, code] of cases) {
      const outcome = commands.get('avro', key);
      assert.ok(!(outcome instanceof Promise));
      assert.equal(codeOf(outcome), code);
      if (outcome.kind === 'error') assert.doesNotMatch(outcome.error.message, /\?key=/, 'an HTTP-only hint in a shared message');
    }
  });

  it('asks the peers on a miss when the fan-out says so, and answers what they hold', async () => {
    const fanOut: PeerFanOut = {
      shouldAsk: () => true,
      lookup: async () => ({ kind: 'value', entry: { value: bytes('far'), partition: 0, offset: 3, timestamp: 0 }, source: 'peer:b' }),
    };
    const { commands, recorded } = fakeCommands({ ready: false, fanOut });
    const outcome = await commands.get('http', bytes('k'));
    assert.equal(outcome.kind === 'hit' && outcome.source, 'peer:b');
    assert.deepEqual(recorded, [{ iface: 'http', operation: 'get', outcome: 'ok' }]);
  });

  it('turns a known absence from the peers into a miss, an unknown one into NOT_READY', async () => {
    const known: PeerFanOut = { shouldAsk: () => true, lookup: async () => ({ kind: 'absent', authoritative: true }) };
    const unknown: PeerFanOut = { shouldAsk: () => true, lookup: async () => ({ kind: 'absent', authoritative: false }) };
    assert.equal((await fakeCommands({ ready: false, fanOut: known }).commands.get('http', bytes('k'))).kind, 'miss');
    assert.equal(codeOf(await fakeCommands({ ready: false, fanOut: unknown }).commands.get('http', bytes('k'))), 'NOT_READY');
  });

  it('answers SHUTTING_DOWN once closed', () => {
    const { commands, recorded } = fakeCommands();
    commands.close();
    assert.equal(codeOf(commands.get('http', bytes('k')) as { kind: string; error?: BitacoraError }), 'SHUTTING_DOWN');
    assert.deepEqual(recorded, [{ iface: 'http', operation: 'get', outcome: 'unavailable' }]);
  });

  it('reads a real map by the bytes as sent: the outcomes, counts and key of reading it by the decoded key', () => {
    const store = new EntryStore();
    for (const key of ['k', 'ké', '\uFEFFk']) store.put(key, bytes(`v:${key}`), 1, 7, 5);
    store.markDeleted('gone', 1, 8, 5);
    const deps = (readable: ReadableStore) => {
      const recorded: string[] = [];
      const positions = { position: () => 0, isReady: () => true, isCaughtUp: () => true, waitForApplied: async () => undefined };
      const producer = { write: async () => ({ partition: 0, offset: 0 }) };
      const commands = new Commands({
        store: readable,
        positions,
        producer,
        partitionOf: () => 0,
        limits: { maxKeyBytes: 8, maxValueBytes: 32 },
        applyTimeoutMs: 1_000,
        recorder: { record: (_iface, _operation, outcome) => void recorded.push(outcome) },
      });
      return { commands, recorded };
    };
    const byBytes = deps(store);
    // The reference: the bytes decoded, then the map read by the key.
    const byString = deps(mapStore(store));
    const keys = [bytes('k'), bytes('ké'), bytes('\uFEFFk'), bytes('gone'), bytes('absent'), Buffer.from('x-k').subarray(2), undefined, Buffer.alloc(0), bytes('far-too-long'), Buffer.from([0xff, 0x6b])];
    for (const key of keys) {
      const outcome = byBytes.commands.get('resp', key);
      assert.ok(!(outcome instanceof Promise));
      assert.deepEqual(plain(outcome), plain(byString.commands.get('resp', key)), key?.toString('hex'));
      if (outcome.kind === 'hit') assert.equal(outcome.key, decodeKey(key, { maxKeyBytes: 8, maxValueBytes: 32 }), key?.toString('hex'));
    }
    assert.deepEqual(byBytes.recorded, byString.recorded);
    assert.deepEqual(byBytes.commands.readStats, byString.commands.readStats);
    assert.deepEqual(byBytes.commands.readStats, { hits: 4, misses: 2 });
  });
});
