import type { RunningStack } from '../../src/stack/stack';
import { startTestStack } from './test-stack';

let stack: Promise<RunningStack> | undefined;

/**
 * The Kafka + ZooKeeper stack the integration tests share, started on first use on free ports in a temporary
 * folder (never the developer's 2181/9092 or .stack/), and stopped when the run ends.
 */
export function sharedStack(): Promise<RunningStack> {
  const started = stack ?? startTestStack();
  stack = started;
  return started;
}

export async function stopSharedStack(): Promise<void> {
  if (!stack) return;
  const started = stack;
  stack = undefined;
  await (await started.catch(() => undefined))?.stop();
}
