import { performance } from 'node:perf_hooks';
import { loadNodeConfig } from '../src/config/node-config';
import { createLogger } from '../src/logging/logger';
import { createNode } from '../src/node/create-node';

/**
 * A cache node run for the benchmark: the same node `bitacora node` runs (createNode, configured by the same
 * environment variables), in a process forked with an IPC channel and --expose-gc, so the benchmark can ask it
 * what it cannot see from outside: its memory after a full GC, when it applied its first record, and to pause its
 * consumer (a node that lags, for the fan-out scenario). Started by bench/node-process.ts only.
 */

export type ProbeRequest = { readonly type: 'memory' } | { readonly type: 'timings'; readonly timeoutMs: number } | { readonly type: 'pause' };

export interface ProbeTimings {
  /** Epoch ms (sub-ms precision) when createNode().start() was called, the first record was in the map, and the node was ready. */
  readonly startCalledAt: number;
  readonly firstRecordAt: number | undefined;
  readonly readyAt: number;
  readonly entries: number;
}

export type ProbeReply =
  | { readonly type: 'memory'; readonly memory: NodeJS.MemoryUsage; readonly entries: number; readonly approximateBytes: number }
  | { readonly type: 'timings'; readonly timings: ProbeTimings }
  | { readonly type: 'paused' }
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
  let readyAt: number | undefined;
  const watchFirst = setInterval(() => {
    if (node.store.size > 0) {
      firstRecordAt = now();
      clearInterval(watchFirst);
    }
  }, 1);
  node.positions.onReady(() => {
    readyAt = now();
    clearInterval(watchFirst);
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    clearInterval(watchFirst);
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
          return { type: 'memory', memory: process.memoryUsage(), entries: node.store.size, approximateBytes: node.store.approximateBytes };
        case 'timings':
          await node.whenReady(request.timeoutMs);
          return { type: 'timings', timings: { startCalledAt, firstRecordAt, readyAt: readyAt ?? now(), entries: node.store.size } };
        case 'pause':
          if (!node.logConsumer) throw new Error('the node has no consumer yet');
          node.logConsumer.pause();
          return { type: 'paused' };
      }
    };
    answer().then(send, (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
  });

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
