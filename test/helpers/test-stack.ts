import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStackConfig, type SaslPlainCredentials } from '../../src/config/stack-config';
import { silentLogger } from '../../src/logging/logger';
import { startStack, type RunningStack } from '../../src/stack/stack';
import type { KafkaVersion } from '../../src/stack/stack-versions';

/** What a test may ask of its stack; everything else (ports, folder) is chosen for it. */
export interface TestStackOptions {
  /** Kafka brokers, 1 by default; 3 gives replication factor 3 and min.insync.replicas 2. */
  readonly brokers?: number;
  /** Adds a SASL_PLAINTEXT listener accepting this user to every broker (see RunningStack.saslBrokers). */
  readonly saslPlain?: SaslPlainCredentials;
  /** The Kafka release; STACK_KAFKA_VERSION, else the default (DEFAULT_KAFKA_VERSION), when omitted. */
  readonly kafkaVersion?: KafkaVersion;
  /** Extra server.properties for every broker, over the stack's own (e.g. test/helpers/compaction.ts's cleaner settings). */
  readonly brokerProperties?: Readonly<Record<string, string>>;
}

/**
 * A fresh Kafka + ZooKeeper stack for tests: free ports, its own temporary folder (removed on stop), the
 * machine-wide jar cache (so the jars are resolved once per machine, not per run), and no log output.
 * STACK_CACHE_DIR, STACK_START_TIMEOUT_MS and STACK_KAFKA_VERSION from the environment apply; ports, STACK_DIR and STACK_BROKERS never do.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<RunningStack> {
  const config = loadStackConfig(process.env);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-stack-'));
  let stack: RunningStack;
  try {
    stack = await startStack({
      dir,
      zkPort: 0,
      kafkaPort: 0,
      kafkaControllerPort: 0,
      saslPort: 0,
      kafkaVersion: config.kafkaVersion,
      ...options,
      cacheDir: config.cacheDir,
      startTimeoutMs: config.startTimeoutMs,
      logger: silentLogger(),
    });
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
