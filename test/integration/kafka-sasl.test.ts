import assert from 'node:assert/strict';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { createNode } from '../../src/node/create-node';
import type { RunningStack } from '../../src/stack/stack';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { onTeardown } from '../helpers/teardown';
import { testNodeEnv } from '../helpers/test-node';
import { startTestStack } from '../helpers/test-stack';

const USER = 'bitacora';
const PASSWORD = 'sasl-secret-☕';

describe('Kafka SASL/PLAIN passthrough (a broker the stack configures for it)', () => {
  let stack: RunningStack;

  before(async function () {
    this.timeout(180_000);
    stack = await startTestStack({ saslPlain: { username: USER, password: PASSWORD } });
  });

  after(async function () {
    this.timeout(60_000);
    await stack?.stop();
  });

  /** A test node's variables, pointed at this stack's SASL listener instead of the shared stack. */
  function env(overrides: Record<string, string>): Promise<Record<string, string>> {
    return testNodeEnv({
      BROKER_LIST: stack.saslBrokers!.join(','),
      ZOOKEEPER_HOST: stack.zookeeperConnectString,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: USER,
      ...overrides,
    });
  }

  it('serves reads and writes through the SASL listener with the right credentials', async () => {
    assert.ok(stack.saslBrokers && stack.saslBrokers.length > 0, 'the stack did not open a SASL listener');
    const node = createNode(loadNodeConfig(await env({ KAFKA_SASL_PASSWORD: PASSWORD })), silentLogger());
    onTeardown('sasl node', () => node.stop());
    await node.start();
    await node.whenReady(30_000);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k', 'through SASL')}`, { method: 'POST' })).status, 200);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k')}`)).json.value, 'through SASL');
  });

  it('refuses to start with a wrong password, at once, naming the variables to check', async () => {
    const node = createNode(loadNodeConfig(await env({ KAFKA_SASL_PASSWORD: 'wrong' })), silentLogger());
    onTeardown('sasl node', () => node.stop());
    const started = Date.now();
    await assert.rejects(node.start(), /refused the SASL credentials.*KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/s);
    assert.ok(Date.now() - started < 15_000, 'wrong credentials were retried until KAFKA_CONNECT_TIMEOUT_MS');
  });

  it('cannot use the SASL listener without credentials', async () => {
    const { KAFKA_SASL_MECHANISM: _m, KAFKA_SASL_USERNAME: _u, ...plain } = await env({});
    const node = createNode(loadNodeConfig({ ...plain, KAFKA_CONNECT_TIMEOUT_MS: '3000' }), silentLogger());
    onTeardown('plain node', () => node.stop());
    await assert.rejects(node.start(), /could not reach Kafka|refused/);
  });
});
