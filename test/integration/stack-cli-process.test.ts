import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor, withTimeout } from '../../src/retry/retry';
import { findFreePorts } from '../../src/stack/free-port';
import { stackDown } from '../../src/stack/stack';
import { silentLogger } from '../../src/logging/logger';
import { spawnBitacora } from '../helpers/node-process';
import { onTeardown } from '../helpers/teardown';

describe('npx bitacora stack up as a process', function () {
  this.timeout(180_000);

  it('exits as soon as it has printed its summary, and stack down stops what it started', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bitacora-stack-cli-'));
    onTeardown(`stack in ${dir}`, async () => {
      await stackDown({ dir, logger: silentLogger() });
      await rm(dir, { recursive: true, force: true });
    });
    const [zk, kafka, controller] = await findFreePorts(3);
    const env = { STACK_DIR: dir, ZK_PORT: String(zk), KAFKA_PORT: String(kafka), KAFKA_CONTROLLER_PORT: String(controller), LOG_LEVEL: 'warn' };
    const up = await spawnBitacora(['stack', 'up'], env);
    await waitFor(() => up.output().includes('stop with: npx bitacora stack down') || up.child.exitCode !== null, {
      timeoutMs: 150_000,
      intervalMs: 100,
      description: `stack up to print its summary (log: ${up.logFile})`,
    });
    const summaryAt = Date.now();
    const exit = await withTimeout(up.exited, 10_000, 'stack up to exit after its summary');
    assert.deepEqual(exit, { code: 0, signal: null }, up.output());
    assert.ok(Date.now() - summaryAt < 10_000);
    assert.match(up.output(), /kafka {6}127\.0\.0\.1:\d+ \(Kafka 4\.4\.0\)/);

    const down = await spawnBitacora(['stack', 'down'], env);
    assert.deepEqual(await withTimeout(down.exited, 60_000, 'stack down to exit'), { code: 0, signal: null });
    assert.match(down.output(), /stopped kafka-1 \(pid \d+\), zookeeper \(pid \d+\)/);
  });
});
