import { execFile } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EntryStore } from '../src/store/entry-store';
import { MapStore } from './map-store';

/** One store measurement, run in a process of its own (bench/store-probe.ts '<spec as JSON>', with --expose-gc). */
export interface StoreProbeSpec {
  readonly store: 'slab' | 'map';
  readonly entries: number;
  /** Seconds of random reads after the load, to see pauses while serving. */
  readonly serveSeconds: number;
}

export interface StoreProbeResult {
  readonly spec: StoreProbeSpec;
  readonly loadMs: number;
  /** Entries applied per second during the load (store work only: no Kafka, no decoding). */
  readonly putsPerSecond: number;
  readonly getsPerSecond: number;
  /** Longest event-loop delay seen while loading and while serving (ms), from monitorEventLoopDelay. */
  readonly longestPauseMs: { readonly load: number; readonly serve: number };
  readonly memory: { readonly empty: NodeJS.MemoryUsage; readonly loaded: NodeJS.MemoryUsage };
  /** Bytes per entry above its 26 bytes of key and value, after full GCs. */
  readonly perEntryAbovePayload: { readonly rss: number; readonly heapPlusExternal: number };
  readonly storeBytes: number;
}

/** 16-byte keys and 10-byte values, as the target figures are stated. */
export const PROBE_KEY_BYTES = 16;
export const PROBE_VALUE_BYTES = 10;
/** Puts applied between two turns of the event loop: about one Kafka fetch's worth of records. */
const BATCH = 5_000;

const keyOf = (i: number): string => `k${i.toString(16).padStart(PROBE_KEY_BYTES - 1, '0')}`;

async function probe(spec: StoreProbeSpec): Promise<StoreProbeResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the store probe with node --expose-gc');
  const fullGc = (): void => {
    gc();
    gc();
  };
  fullGc();
  const empty = process.memoryUsage();
  const store = spec.store === 'slab' ? new EntryStore() : new MapStore();
  const value = Buffer.from('0123456789');
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const now = Date.now();
  for (let i = 0; i < spec.entries; ) {
    const end = Math.min(spec.entries, i + BATCH);
    for (; i < end; i++) store.put(keyOf(i), value, i % 3, i, now);
    await nextTurn();
  }
  const loadMs = performance.now() - started;
  delay.disable();
  const loadPause = delay.max / 1e6;
  if (store.size !== spec.entries) throw new Error(`the store holds ${store.size} entries, expected ${spec.entries}`);
  fullGc();
  const loaded = process.memoryUsage();

  delay.reset();
  delay.enable();
  let gets = 0;
  let state = 12345;
  const serveStarted = performance.now();
  while (performance.now() - serveStarted < spec.serveSeconds * 1000) {
    for (let j = 0; j < BATCH; j++, gets++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      if (!store.get(keyOf(state % spec.entries))) throw new Error('a read missed a key that was loaded');
    }
    await nextTurn();
  }
  const serveMs = performance.now() - serveStarted;
  delay.disable();
  const payload = PROBE_KEY_BYTES + PROBE_VALUE_BYTES;
  const per = (a: number, b: number): number => (b - a) / spec.entries - payload;
  return {
    spec,
    loadMs,
    putsPerSecond: (spec.entries * 1000) / loadMs,
    getsPerSecond: (gets * 1000) / serveMs,
    longestPauseMs: { load: loadPause, serve: delay.max / 1e6 },
    memory: { empty, loaded },
    perEntryAbovePayload: { rss: per(empty.rss, loaded.rss), heapPlusExternal: per(empty.heapUsed + empty.external, loaded.heapUsed + loaded.external) },
    storeBytes: store.approximateBytes,
  };
}

/** Runs one probe in a fresh process (so one measurement's garbage never counts in the next) and resolves with it. */
export function runStoreProbe(spec: StoreProbeSpec, timeoutMs: number): Promise<StoreProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=16384', '--require', 'tsx/cjs', path.join(__dirname, 'store-probe.ts'), JSON.stringify(spec)],
      { cwd: path.join(__dirname, '..'), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`store probe ${JSON.stringify(spec)} failed: ${stderr.trim() || error.message}`));
        else resolve(JSON.parse(stdout) as StoreProbeResult);
      },
    );
  });
}

if (require.main === module) {
  probe(JSON.parse(process.argv[2] ?? '') as StoreProbeSpec).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
