import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig } from '../../src/config/stack-config';
import { silentLogger } from '../../src/logging/logger';
import { findFreePorts } from '../../src/stack/free-port';
import { startStack, type RunningStack } from '../../src/stack/stack';

/**
 * A fresh Kafka + ZooKeeper stack for tests: free ports, its own temporary folder (removed on stop), the
 * machine-wide jar cache (so the jars are resolved once per machine, not per run), and no log output.
 * STACK_CACHE_DIR and STACK_START_TIMEOUT_MS from the environment apply; ports and STACK_DIR never do.
 */
export async function startTestStack(): Promise<RunningStack> {
  const config = loadStackConfig(process.env);
  const [zkPort, kafkaPort, kafkaControllerPort] = (await findFreePorts(3)) as [number, number, number];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-stack-'));
  let stack: RunningStack;
  try {
    stack = await startStack({ dir, zkPort, kafkaPort, kafkaControllerPort, cacheDir: config.cacheDir, startTimeoutMs: config.startTimeoutMs, logger: silentLogger() });
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...stack,
    stop: () => {
      stopping ??= stack.stop().finally(() => fs.rm(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}
