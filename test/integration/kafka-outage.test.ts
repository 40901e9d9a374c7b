import assert from 'node:assert/strict';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { createNode } from '../../src/node/create-node';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { onTeardown } from '../helpers/teardown';
import { startTestStack } from '../helpers/test-stack';
import { spawn } from 'node:child_process';
import path from 'node:path';

describe('Kafka unavailable', () => {
  it('answers writes 503 KAFKA_UNAVAILABLE within the produce timeout, and keeps serving reads from memory', async () => {
    // A stack of this test's own, since it is stopped halfway.
    const stack = await startTestStack();
    onTeardown('outage stack', () => stack.stop());
    const node = createNode(
      loadNodeConfig({
        BROKER_LIST: stack.kafkaBrokers.join(','),
        ZOOKEEPER_HOST: stack.zookeeperConnectString,
        NODENAME: 'outage-node',
        API_PORT: '0',
        RESP_PORT: '0',
        BIND_HOST: '127.0.0.1',
        ADVERTISED_HOST: '127.0.0.1',
        PRODUCE_TIMEOUT_MS: '2000',
        SHUTDOWN_TIMEOUT_MS: '3000',
      }),
      silentLogger(),
    );
    onTeardown('outage node', () => node.stop());
    await node.start();
    await node.whenReady(30_000);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('kept', 'in memory')}`, { method: 'POST' })).status, 200);

    await stack.stop();

    const started = Date.now();
    const refused = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('lost', 'never acknowledged')}`, { method: 'POST', timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, 'KAFKA_UNAVAILABLE');
    assert.match(refused.json.error.message, /PRODUCE_TIMEOUT_MS \(2000 ms\).*BROKER_LIST/);
    // The bound under test is PRODUCE_TIMEOUT_MS: the answer must not wait for kafkajs' own retries to run out.
    assert.ok(elapsed < 2_000 + 3_000, `answered after ${elapsed} ms`);

    const read = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('kept')}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.value, 'in memory');
  });

  it('leaves nothing running once a node is stopped while Kafka is down (its process can end)', async () => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(__dirname, '../fixtures/stop-without-kafka.ts')], {
      cwd: path.join(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTeardown('orphan-check process', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stoppedAt = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('stopped')) stoppedAt = Date.now();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.ok(stoppedAt > 0, 'the node never stopped');
    assert.equal(code, 0);
    // A restart timer left behind would keep the process alive indefinitely; a few seconds covers teardown.
    assert.ok(Date.now() - stoppedAt < 10_000, `the process lived ${Date.now() - stoppedAt} ms after the node stopped`);
  }).timeout(90_000);
});

