import { figure, type Figure } from '../report';
import { PROBE_KEY_BYTES, PROBE_VALUE_BYTES, runStoreProbe, type StoreProbeResult } from '../store-probe';
import type { Scenario } from './scenario';

const BIG_ENTRIES = 50_000_000;
/** The Map store cannot go past V8's 2^24-entry cap, so it is only measured below it. */
const MAP_LIMIT = 2 ** 24;

/**
 * The store alone, with no Kafka and no HTTP: each size loaded into a fresh process (16-byte keys, 10-byte values,
 * 5,000 puts per turn of the event loop, as the consumer applies a fetch), then read at random for a few seconds.
 * Memory is read after two forced full GCs and compared with the same process empty; the pre-slab Map store
 * (bench/map-store.ts) is measured the same way beside it.
 */
export const storeScenario: Scenario = {
  name: 'store',
  fixtures: [],
  async run(context) {
    const { options } = context;
    const sizes = options.quick ? [100_000] : [1_000_000, 10_000_000, ...(options.big ? [BIG_ENTRIES] : [])];
    const runs: Array<{ slab: StoreProbeResult; map?: StoreProbeResult }> = [];
    for (const entries of sizes) {
      const serveSeconds = options.quick ? 1 : entries >= BIG_ENTRIES ? 10 : 3;
      const timeoutMs = 120_000 + entries / 20;
      const slab = await runStoreProbe({ store: 'slab', entries, serveSeconds }, timeoutMs);
      context.log(`  slab store, ${entries.toLocaleString('en-US')} entries: ${describe(slab)}`);
      let map: StoreProbeResult | undefined;
      if (entries < MAP_LIMIT) {
        map = await runStoreProbe({ store: 'map', entries, serveSeconds }, timeoutMs);
        context.log(`  Map store,  ${entries.toLocaleString('en-US')} entries: ${describe(map)}`);
      }
      runs.push({ slab, map });
    }
    return { details: { keyBytes: PROBE_KEY_BYTES, valueBytes: PROBE_VALUE_BYTES, runs }, figures: runs.flatMap(figuresOf) };
  },
};

function describe(r: StoreProbeResult): string {
  return (
    `load ${(r.loadMs / 1000).toFixed(1)} s (${Math.round(r.putsPerSecond).toLocaleString('en-US')} puts/s), ` +
    `${Math.round(r.getsPerSecond).toLocaleString('en-US')} gets/s, longest pause ${r.longestPauseMs.load.toFixed(0)} ms loading / ` +
    `${r.longestPauseMs.serve.toFixed(0)} ms serving; above key+value: RSS ${r.perEntryAbovePayload.rss.toFixed(1)} B, ` +
    `heap + external ${r.perEntryAbovePayload.heapPlusExternal.toFixed(1)} B`
  );
}

function figuresOf({ slab, map }: { slab: StoreProbeResult; map?: StoreProbeResult }): Figure[] {
  const n = slab.spec.entries.toLocaleString('en-US');
  const versus = (ours: number, theirs: number | undefined, unit: string): string =>
    theirs === undefined ? 'the Map store cannot hold this many' : `Map store ${theirs.toFixed(1)} ${unit} (${(ours / theirs).toFixed(2)}×)`;
  const pause = Math.max(slab.longestPauseMs.load, slab.longestPauseMs.serve);
  const mapPause = map && Math.max(map.longestPauseMs.load, map.longestPauseMs.serve);
  return [
    figure({
      scenario: 'store',
      label: `memory per entry above key+value, RSS, ${n} entries`,
      value: slab.perEntryAbovePayload.rss,
      unit: 'B',
      system: 'bitacora',
      target: { field: 'value', op: '<=', value: 60, unit: 'B' },
      note: `after two full GCs, 16-byte keys and 10-byte values; ${versus(slab.perEntryAbovePayload.rss, map?.perEntryAbovePayload.rss, 'B')}`,
    }),
    figure({
      scenario: 'store',
      label: `memory per entry above key+value, heap + external, ${n} entries`,
      value: slab.perEntryAbovePayload.heapPlusExternal,
      unit: 'B',
      system: 'bitacora',
      note: `counts slabs whole, untouched tails included; ${versus(slab.perEntryAbovePayload.heapPlusExternal, map?.perEntryAbovePayload.heapPlusExternal, 'B')}`,
    }),
    figure({
      scenario: 'store',
      label: `load ${n} entries (store alone)`,
      value: slab.putsPerSecond,
      unit: 'puts/s',
      system: 'bitacora',
      note: `${(slab.loadMs / 1000).toFixed(1)} s; ${versus(slab.putsPerSecond, map?.putsPerSecond, 'puts/s')}; random reads ${Math.round(slab.getsPerSecond).toLocaleString('en-US')}/s (${map ? `${(slab.getsPerSecond / map.getsPerSecond).toFixed(2)}× the Map store's` : 'alone'})`,
    }),
    figure({
      scenario: 'store',
      label: `longest event-loop pause, loading and serving ${n} entries`,
      value: pause,
      unit: 'ms',
      system: 'bitacora',
      target: { field: 'value', op: '<=', value: 1000, unit: 'ms' },
      note: `loading ${slab.longestPauseMs.load.toFixed(0)} ms, serving ${slab.longestPauseMs.serve.toFixed(0)} ms; ${versus(pause, mapPause, 'ms')}`,
    }),
  ];
}
