import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { loadNodeConfig } from '../src/config/node-config';
import { createLogger } from '../src/logging/logger';
import { createNode } from '../src/node/create-node';

/**
 * A cache node run for the benchmark: the same node `bitacora node` runs (createNode, configured by the same
 * environment variables), in a process forked with an IPC channel and --expose-gc, so the benchmark can ask it
 * what it cannot see from outside: its memory after a full GC, when it applied its first record, and to pause its
 * consumer (a node that lags, for the fan-out scenario). Started by bench/node-process.ts only.
 */

export type ProbeRequest = { readonly type: 'memory' } | { readonly type: 'timings'; readonly timeoutMs: number } | { readonly type: 'pause' } | { readonly type: 'pauses' };

export interface ProbeTimings {
  /** Epoch ms (sub-ms precision) when createNode().start() was called, the first record was in the map, and the node was ready. */
  readonly startCalledAt: number;
  readonly firstRecordAt: number | undefined;
  readonly readyAt: number;
  readonly entries: number;
}

/** The longest event-loop delays (ms, 10 ms resolution): from start() to the first record, from there to ready, and since ready. */
export interface ProbePauses {
  readonly startMs: number;
  readonly loadMs: number;
  readonly serveMs: number;
  /** The longest single garbage collection in the same three phases, and its kind, to tell a GC pause from a long turn. */
  readonly gc: { readonly start: GcPhase; readonly load: GcPhase; readonly serve: GcPhase };
}

/** Garbage collections in one phase: the longest (ms and kind: major, minor, incremental, weakcb) and their total. */
export interface GcPhase {
  readonly longestMs: number;
  readonly longestKind: string;
  readonly totalMs: number;
  readonly count: number;
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Accumulates GC entries for the phase under way; take() ends the phase. */
class GcWatch {
  private phase = { longestMs: 0, longestKind: 'none', totalMs: 0, count: 0 };
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      this.phase.totalMs += entry.duration;
      this.phase.count++;
      if (entry.duration > this.phase.longestMs) {
        this.phase.longestMs = entry.duration;
        this.phase.longestKind = GC_KINDS[kind ?? -1] ?? String(kind);
      }
    }
  });

  start(): void {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  take(): GcPhase {
    const ended = this.phase;
    this.phase = { longestMs: 0, longestKind: 'none', totalMs: 0, count: 0 };
    return ended;
  }

  peek(): GcPhase {
    return { ...this.phase };
  }

  stop(): void {
    this.observer.disconnect();
  }
}

export type ProbeReply =
  | {
      readonly type: 'memory';
      readonly memory: NodeJS.MemoryUsage;
      readonly entries: number;
      readonly approximateBytes: number;
      /** The process's memory after two full GCs just before the node started: modules loaded, nothing else. */
      readonly baseline: NodeJS.MemoryUsage | undefined;
    }
  | { readonly type: 'timings'; readonly timings: ProbeTimings }
  | { readonly type: 'paused' }
  | { readonly type: 'pauses'; readonly pauses: ProbePauses }
  | { readonly type: 'error'; readonly message: string };

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const send = (reply: ProbeReply): void => {
    process.send?.(reply);
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc || !process.send) throw new Error('node-probe.ts must be forked with an IPC channel and --expose-gc');
  const config = loadNodeConfig(process.env);
  const logger = createLogger({ level: config.logLevel, name: 'bitacora-bench' });
  const node = createNode(config, logger);

  let firstRecordAt: number | undefined;
  let baseline: NodeJS.MemoryUsage | undefined;
  let readyAt: number | undefined;
  const delays = monitorEventLoopDelay({ resolution: 10 });
  delays.enable();
  let startPauseMs: number | undefined;
  let loadPauseMs: number | undefined;
  const gcWatch = new GcWatch();
  gcWatch.start();
  let startGc: GcPhase | undefined;
  let loadGc: GcPhase | undefined;
  const phaseMax = (): number => {
    const max = delays.max / 1e6;
    delays.reset();
    return max;
  };
  const watchFirst = setInterval(() => {
    if (node.store.size > 0) {
      firstRecordAt = now();
      startPauseMs = phaseMax();
      startGc = gcWatch.take();
      clearInterval(watchFirst);
    }
  }, 1);
  node.positions.onReady(() => {
    readyAt = now();
    startPauseMs ??= 0;
    loadPauseMs = phaseMax();
    startGc ??= gcWatch.take();
    loadGc = gcWatch.take();
    clearInterval(watchFirst);
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    clearInterval(watchFirst);
    delays.disable();
    gcWatch.stop();
    const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 1_000);
    force.unref();
    node.stop().then(
      () => process.disconnect?.(),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exitCode = 1;
        process.disconnect?.();
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', () => {
    if (!stopping) stop();
  });

  process.on('message', (request: ProbeRequest) => {
    const answer = async (): Promise<ProbeReply> => {
      switch (request.type) {
        case 'memory':
          // Twice: the first full GC may leave weakly held or finalizable garbage for the second.
          gc();
          gc();
          return { type: 'memory', memory: process.memoryUsage(), entries: node.store.size, approximateBytes: node.store.approximateBytes, baseline };
        case 'timings':
          await node.whenReady(request.timeoutMs);
          return { type: 'timings', timings: { startCalledAt, firstRecordAt, readyAt: readyAt ?? now(), entries: node.store.size } };
        case 'pause':
          if (!node.logConsumer) throw new Error('the node has no consumer yet');
          node.logConsumer.pause();
          return { type: 'paused' };
        case 'pauses':
          if (loadPauseMs === undefined || loadGc === undefined) throw new Error('the node is not ready yet');
          return {
            type: 'pauses',
            pauses: { startMs: startPauseMs ?? 0, loadMs: loadPauseMs, serveMs: delays.max / 1e6, gc: { start: startGc ?? gcWatch.peek(), load: loadGc, serve: gcWatch.peek() } },
          };
      }
    };
    answer().then(send, (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
  });

  gc();
  gc();
  baseline = process.memoryUsage();
  const startCalledAt = now();
  try {
    await node.start();
  } catch (error) {
    logger.fatal({ err: error }, 'node failed to start');
    process.exitCode = 1;
    process.disconnect?.();
    clearInterval(watchFirst);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`node-probe: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
  process.disconnect?.();
});
