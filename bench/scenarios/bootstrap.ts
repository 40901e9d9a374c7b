import { readyTimeoutMs } from '../fixtures';
import { KEY_BYTES, VALUE_BYTES } from '../keys';
import type { BenchNode } from '../node-process';
import type { ProbeReply, ProbeTimings } from '../node-probe';
import { figure } from '../report';
import type { Scenario } from './scenario';

type Memory = Extract<ProbeReply, { type: 'memory' }>;

/**
 * A fresh node loading a topic of `--records` records (16-byte keys, 100-byte values) until it is ready, and its
 * memory afterwards compared with a node on an empty topic. Both nodes are probe nodes (bench/node-probe.ts), so
 * memory is read inside the node after a forced full GC. The topic is produced before anything is timed.
 */
export const bootstrapScenario: Scenario = {
  name: 'bootstrap',
  fixtures: [],
  async run(context) {
    const { fixtures, options, runId } = context;
    const records = options.records;
    const topic = `bench-${runId}-bootstrap`;
    const fill = await fixtures.fill(topic, records, 'b');

    // One node at a time, each stopped before the next starts, so neither competes with the other for the CPU.
    const empty = (await fixtures.startNode('bootstrap-empty', `bench-${runId}-empty`, 'probe')).node;
    let emptyTimings: ProbeTimings;
    let emptyMemory: Memory;
    try {
      emptyTimings = await timings(empty, 0);
      emptyMemory = await memory(empty);
    } finally {
      await empty.stop();
    }

    const loaded = (await fixtures.startNode('bootstrap-loaded', topic, 'probe')).node;
    let loadedTimings: ProbeTimings;
    let loadedMemory: Memory;
    try {
      loadedTimings = await timings(loaded, records);
      if (loadedTimings.entries !== records) {
        throw new Error(`the node holds ${loadedTimings.entries} entries once ready, expected ${records}; see ${loaded.logFile}`);
      }
      loadedMemory = await memory(loaded);
    } finally {
      await loaded.stop();
    }

    const loadMs = loadedTimings.readyAt - loadedTimings.startCalledAt;
    const recordsPerSecond = (records * 1000) / loadMs;
    const applyMs = loadedTimings.firstRecordAt === undefined ? undefined : loadedTimings.readyAt - loadedTimings.firstRecordAt;
    const payload = KEY_BYTES + VALUE_BYTES;
    const live = (m: Memory): number => m.memory.heapUsed + m.memory.external;
    const perEntry = {
      heapUsed: (loadedMemory.memory.heapUsed - emptyMemory.memory.heapUsed) / records,
      external: (loadedMemory.memory.external - emptyMemory.memory.external) / records,
      live: (live(loadedMemory) - live(emptyMemory)) / records,
      rss: (loadedMemory.memory.rss - emptyMemory.memory.rss) / records,
      storeEstimate: loadedMemory.approximateBytes / records,
    };
    context.log(
      `  ready in ${(loadMs / 1000).toFixed(2)} s (${Math.round(recordsPerSecond).toLocaleString('en-US')} records/s); per entry: ` +
        `heap ${perEntry.heapUsed.toFixed(0)} B, external ${perEntry.external.toFixed(0)} B, RSS ${perEntry.rss.toFixed(0)} B`,
    );
    const memoryTarget = { field: 'value', op: '<=', value: 100, unit: 'B' } as const;
    return {
      details: {
        records,
        produced: { ms: fill.ms, recordsPerSecond: (records * 1000) / fill.ms },
        empty: { timings: emptyTimings, memory: emptyMemory },
        loaded: { timings: loadedTimings, memory: loadedMemory, spawnToReadyMs: loadedTimings.readyAt - loaded.startedAt },
        loadMs,
        firstRecordAfterMs: loadedTimings.firstRecordAt === undefined ? undefined : loadedTimings.firstRecordAt - loadedTimings.startCalledAt,
        applyMs,
        perEntryBytes: perEntry,
        payloadBytes: payload,
      },
      figures: [
        figure({
          scenario: 'bootstrap',
          label: `start() to ready, ${records.toLocaleString('en-US')} records`,
          value: recordsPerSecond,
          unit: 'records/s',
          system: 'bitacora',
          target: { field: 'value', op: '>=', value: 200_000, unit: 'records/s' },
          note:
            `${(loadMs / 1000).toFixed(2)} s from createNode().start() to ready, Kafka connection and group join included` +
            (applyMs === undefined ? '' : `; ${(applyMs / 1000).toFixed(2)} s from the first record in the map (${Math.round((records * 1000) / applyMs).toLocaleString('en-US')} records/s)`),
        }),
        figure({
          scenario: 'bootstrap',
          label: 'memory per entry above key+value, heap + external',
          value: perEntry.live - payload,
          unit: 'B',
          system: 'bitacora',
          target: memoryTarget,
          note: `after a forced GC, compared with a node on an empty topic: ${perEntry.live.toFixed(0)} B per entry in all (heap ${perEntry.heapUsed.toFixed(0)} B, external ${perEntry.external.toFixed(0)} B) for ${payload} B of key and value`,
        }),
        figure({
          scenario: 'bootstrap',
          label: 'memory per entry above key+value, RSS',
          value: perEntry.rss - payload,
          unit: 'B',
          system: 'bitacora',
          target: memoryTarget,
          note: `RSS keeps pages V8 freed but did not return: ${perEntry.rss.toFixed(0)} B per entry in all`,
        }),
      ],
    };
  },
};

async function timings(node: BenchNode, records: number): Promise<ProbeTimings> {
  const timeoutMs = readyTimeoutMs(records);
  return (await node.ask({ type: 'timings', timeoutMs }, 'timings', timeoutMs + 5_000)).timings;
}

function memory(node: BenchNode): Promise<Memory> {
  return node.ask({ type: 'memory' }, 'memory', 60_000);
}
