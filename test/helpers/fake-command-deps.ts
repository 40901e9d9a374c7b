import { Commands } from '../../src/commands/commands';
import type { AppliedPositions, CommandRecorder, Interface, Outcome, PeerFanOut, ReadableStore, RecordWriter } from '../../src/commands/command-context';
import { BitacoraError } from '../../src/errors/bitacora-error';
import type { Entry } from '../../src/store/entry';

/** One counted command, as the recorder saw it. */
export interface Recorded {
  readonly iface: Interface;
  readonly operation: string;
  readonly outcome: Outcome;
}

/**
 * The commands over in-memory fakes of the map, the positions, the producer and the fan-out: no Kafka, no peers.
 * The fake producer "applies" each write to the map at once, as the node's consumer would, unless told to fail.
 */
export function fakeCommands(options: { ready?: boolean; fanOut?: PeerFanOut; maxKeyBytes?: number; maxValueBytes?: number } = {}) {
  const map = new Map<string, Entry>();
  const recorded: Recorded[] = [];
  const written: Array<{ key: string; value: Buffer | null }> = [];
  const state = {
    ready: options.ready ?? true,
    /** When set, the producer rejects with it. */
    produceError: undefined as BitacoraError | undefined,
    /** When set, waitForApplied rejects with it. */
    applyError: undefined as BitacoraError | undefined,
    /** When set, writes wait for it before they are written. */
    holdWrites: undefined as Promise<void> | undefined,
  };
  let offset = 0;
  const partitionOf = (key: Buffer): number => key[0] % 3;
  const positions: AppliedPositions = {
    // A node whose apply wait fails has not applied the write: its position stays behind it.
    position: () => (state.applyError ? 0 : offset),
    isReady: () => state.ready,
    isCaughtUp: () => state.ready,
    waitForApplied: () => (state.applyError ? Promise.reject(state.applyError) : Promise.resolve()),
  };
  const producer: RecordWriter = {
    async write(key, value) {
      if (state.holdWrites) await state.holdWrites;
      if (state.produceError) throw state.produceError;
      const text = key.toString('utf8');
      const at = { partition: partitionOf(key), offset: offset++ };
      written.push({ key: text, value });
      if (value === null) map.delete(text);
      else map.set(text, { value, partition: at.partition, offset: at.offset, timestamp: 1_700_000_000_000 });
      return at;
    },
  };
  const recorder: CommandRecorder = { record: (iface, operation, outcome) => void recorded.push({ iface, operation, outcome }) };
  const commands = new Commands({
    store: mapStore(map),
    positions,
    producer,
    partitionOf,
    limits: { maxKeyBytes: options.maxKeyBytes ?? 16, maxValueBytes: options.maxValueBytes ?? 32 },
    applyTimeoutMs: 1_000,
    fanOut: options.fanOut,
    recorder,
  });
  return { commands, map, recorded, written, state };
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A map (or anything read by key) as the commands read it: by key, or by the key's bytes decoded first, which find
 * nothing unless they are UTF-8, as in EntryStore.
 */
export function mapStore(map: { get(key: string): Entry | undefined }): ReadableStore {
  return {
    get: (key) => map.get(key),
    getBytes(key) {
      try {
        return map.get(utf8.decode(key));
      } catch {
        return undefined;
      }
    },
  };
}

/** The error code of a failed outcome, or its kind. */
export function codeOf(outcome: { kind: string; error?: BitacoraError }): string {
  return outcome.kind === 'error' ? outcome.error!.code : outcome.kind;
}
