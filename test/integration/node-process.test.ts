import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { findFreePort } from '../../src/stack/free-port';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { spawnBitacora, startNodeProcess } from '../helpers/node-process';
import { testNodeEnv } from '../helpers/test-node';

describe('bitacora node as a process', () => {
  it('gives back the same contents after SIGKILL and a restart', async () => {
    // Short sessions let the killed node's group member and znode expire quickly, so the restart gets its place back.
    const env = await testNodeEnv({ KAFKA_SESSION_TIMEOUT_MS: '6000', ZK_SESSION_TIMEOUT_MS: '6000' });
    const port = await findFreePort();
    const first = await startNodeProcess(env, port);
    const expected = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      const key = `k${i}`;
      const value = `v${i}-${'x'.repeat(i)}`;
      assert.equal((await httpRequest(`${first.url}/rpc${rpcQuery(key, value)}`, { method: 'POST' })).status, 200);
      expected.set(key, value);
    }
    for (const key of ['k3', 'k50']) {
      assert.equal((await httpRequest(`${first.url}/rpc${rpcQuery(key)}`, { method: 'DELETE' })).status, 200);
      expected.delete(key);
    }
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');

    const second = await startNodeProcess(env, port, 90_000);
    for (let i = 0; i < 100; i++) {
      const answer = await httpRequest(`${second.url}/rpc${rpcQuery(`k${i}`)}`);
      if (expected.has(`k${i}`)) assert.equal(answer.json?.value, expected.get(`k${i}`), `k${i}`);
      else assert.equal(answer.status, 404, `k${i} was deleted`);
    }
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const node = await startNodeProcess(await testNodeEnv(), await findFreePort());
    assert.equal((await httpRequest(`${node.url}/rpc${rpcQuery('a', 'b')}`, { method: 'POST' })).status, 200);
    node.child.kill('SIGTERM');
    assert.deepEqual(await node.exited, { code: 0, signal: null });
  });

  it('logs JSON lines and never a value, even at LOG_LEVEL=trace', async () => {
    const node = await startNodeProcess({ ...(await testNodeEnv()), LOG_LEVEL: 'trace' }, await findFreePort());
    const secret = 'never-log-this-value-5f2c9a';
    assert.equal((await httpRequest(`${node.url}/rpc${rpcQuery('k', secret)}`, { method: 'POST' })).status, 200);
    assert.equal((await httpRequest(`${node.url}/rpc${rpcQuery('k')}`)).json.value, secret);
    node.child.kill('SIGTERM');
    await node.exited;
    const log = await readFile(node.logFile, 'utf8');
    const lines = log.split('\n').filter(Boolean);
    assert.ok(lines.length > 10, 'the node logged almost nothing');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line.slice(0, 120)}`);
    assert.ok(!log.includes(secret), 'a value appeared in the log');
    assert.ok(!log.includes(Buffer.from(secret).toString('base64')), 'a value appeared in the log, base64-encoded');
  });

  it('refuses a bad variable with exit code 2 and a message naming it', async () => {
    const run = await spawnBitacora(['node'], { ...(await testNodeEnv()), MAX_VALUE_BYTES: 'lots' });
    const stderr: string[] = [];
    run.child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    assert.equal((await run.exited).code, 2);
    assert.match(stderr.join(''), /MAX_VALUE_BYTES must be a whole number/);
  });
});
