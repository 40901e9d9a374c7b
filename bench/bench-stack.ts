import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig } from '../src/config/stack-config';
import { silentLogger } from '../src/logging/logger';
import { findFreePorts } from '../src/stack/free-port';
import { startStack, type RunningStack } from '../src/stack/stack';
import type { Resources } from './resources';

/**
 * A Kafka + ZooKeeper stack of the benchmark's own, as the tests start theirs: free ports, a temporary folder
 * (removed on stop), the machine-wide jar cache. STACK_CACHE_DIR and STACK_START_TIMEOUT_MS apply.
 */
export async function startBenchStack(resources: Resources): Promise<RunningStack> {
  const config = loadStackConfig(process.env);
  const [zkPort, kafkaPort, kafkaControllerPort] = (await findFreePorts(3)) as [number, number, number];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-bench-stack-'));
  const removeDir = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  let stack: RunningStack;
  try {
    stack = await startStack({ dir, zkPort, kafkaPort, kafkaControllerPort, cacheDir: config.cacheDir, startTimeoutMs: config.startTimeoutMs, logger: silentLogger() });
  } catch (error) {
    await removeDir();
    throw error;
  }
  const stop = resources.add('Kafka and ZooKeeper', () => stack.stop().finally(removeDir));
  return { ...stack, stop };
}
