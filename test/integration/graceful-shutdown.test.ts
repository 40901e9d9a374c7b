import assert from 'node:assert/strict';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { createNode } from '../../src/node/create-node';
import { findFreePort } from '../../src/stack/free-port';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startNodeProcess } from '../helpers/node-process';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';

describe('graceful shutdown', () => {
  it('on SIGTERM under write load: every acknowledged write is in Kafka, the node leaves ZooKeeper, exit 0', async function () {
    this.timeout(120_000);
    const env = await testNodeEnv({ NODENAME: 'stopping', SHUTDOWN_TIMEOUT_MS: '10000' });
    const watcher = await startTestNode({ NODENAME: 'watcher', KAFKA_TOPIC: env.KAFKA_TOPIC });
    const node = await startNodeProcess(env, await findFreePort());
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const check = (): void => {
        if (watcher.membership!.peers().some((m) => m.name === 'stopping')) resolve();
        else if (Date.now() - started > 10_000) reject(new Error('the watcher never saw the node'));
        else setTimeout(check, 50);
      };
      check();
    });

    const acknowledged = new Map<string, string>();
    const refused: number[] = [];
    let stop = false;
    let sequence = 0;
    const writer = async (): Promise<void> => {
      while (!stop) {
        const key = `w${sequence++}`;
        try {
          const answer = await httpRequest(`${node.url}/rpc${rpcQuery(key, `value-of-${key}`)}`, { method: 'POST', timeoutMs: 15_000 });
          if (answer.status === 200) acknowledged.set(key, `value-of-${key}`);
          else refused.push(answer.status);
        } catch {
          // Refused connections once the server closed: never acknowledged, so nothing to check.
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const writers = Array.from({ length: 16 }, writer);
    await new Promise((r) => setTimeout(r, 1_500));
    const signalled = Date.now();
    node.child.kill('SIGTERM');
    const exit = await node.exited;
    const stoppedAfter = Date.now() - signalled;
    stop = true;
    await Promise.all(writers);

    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(stoppedAfter < 10_000 + 1_000, `took ${stoppedAfter} ms, over SHUTDOWN_TIMEOUT_MS`);
    assert.ok(acknowledged.size > 50, `only ${acknowledged.size} writes were acknowledged: the load was too light to test anything`);
    assert.ok(refused.every((status) => status === 503), `writes during the stop got ${[...new Set(refused)]} instead of 503`);
    assert.ok(!watcher.membership!.peers().some((m) => m.name === 'stopping'), 'the node is still registered in ZooKeeper');

    // A fresh node rebuilt from the topic holds every acknowledged write.
    const reader = createNode(loadNodeConfig({ ...env, NODENAME: 'reader', API_PORT: '0' }), silentLogger());
    onTeardown('reader', () => reader.stop());
    await reader.start();
    await reader.whenReady(30_000);
    const missing = [...acknowledged].filter(([key, value]) => reader.store.get(key)?.value.toString() !== value);
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${acknowledged.size} acknowledged writes are not in Kafka`);
  });
});
