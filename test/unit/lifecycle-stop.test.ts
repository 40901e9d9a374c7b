import assert from 'node:assert/strict';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { Membership } from '../../src/membership/membership';
import { MirrorRole } from '../../src/membership/mirror-role';
import { createNode } from '../../src/node/create-node';
import { findFreePort } from '../../src/stack/free-port';
import { onTeardown } from '../helpers/teardown';

// No Kafka or ZooKeeper here: what is checked is that stopping never waits on them.
describe('stop(): idempotent, and ending what start() still retries', () => {
  it('Membership.stop returns the first call\'s promise to a second call', async () => {
    const membership = new Membership({ connectString: '127.0.0.1:1', root: '/none', sessionTimeoutMs: 2_000, connectTimeoutMs: 200, logger: silentLogger() });
    const first = membership.stop();
    assert.equal(membership.stop(), first);
    await first;
  });

  it('MirrorRole.stop returns the first call\'s promise, releases nothing it never took, and no round runs after it', async () => {
    const membership = new Membership({ connectString: '127.0.0.1:1', root: '/none', sessionTimeoutMs: 2_000, connectTimeoutMs: 200, logger: silentLogger() });
    onTeardown('membership', () => membership.stop());
    let rounds = 0;
    const role = new MirrorRole({
      membership,
      root: '/none',
      topic: 'none',
      self: 'me',
      partitions: () => [0, 1, 2],
      ready: () => true,
      catchUp: async () => undefined,
      mirror: async () => ++rounds,
      hasWork: () => true,
      lag: () => 0,
      catchUpTimeoutMs: 1_000,
      logger: silentLogger(),
    });
    role.start();
    const first = role.stop(1_000);
    assert.equal(role.stop(), first);
    await first;
    assert.equal(role.report().status, 'stopped');
    assert.deepEqual(role.report().partitions, {});
    assert.equal(rounds, 0, 'without a ZooKeeper session it holds no fence, so it copies nothing');
  });

  it('a node stopped while it retries reaching Kafka ends its start at once, not after KAFKA_CONNECT_TIMEOUT_MS', async () => {
    const node = createNode(
      loadNodeConfig({
        BROKER_LIST: `127.0.0.1:${await findFreePort()}`,
        ZOOKEEPER_HOST: '127.0.0.1:1',
        NODENAME: 'never-connects',
        API_PORT: '0',
        AVRO_PORT: '0',
        BIND_HOST: '127.0.0.1',
        KAFKA_CONNECT_TIMEOUT_MS: '60000',
      }),
      silentLogger(),
    );
    onTeardown('node', () => node.stop());
    const started = Date.now();
    const starting = node.start();
    setTimeout(() => void node.stop(), 500);
    await assert.rejects(starting, /stopped before Kafka/);
    assert.ok(Date.now() - started < 15_000, `start ended after ${Date.now() - started} ms`);
    assert.equal(node.stop(), node.stop());
  });
});

describe('status: one union per component, changed in one place that logs and emits', () => {
  it('a node reports every change of its status, in order, through a failed start and a stop', async () => {
    const node = createNode(
      loadNodeConfig({ BROKER_LIST: `127.0.0.1:${await findFreePort()}`, ZOOKEEPER_HOST: '127.0.0.1:1', NODENAME: 'statuses', API_PORT: '0', AVRO_PORT: '0', KAFKA_CONNECT_TIMEOUT_MS: '60000' }),
      silentLogger(),
    );
    onTeardown('node', () => node.stop());
    const seen: string[] = [];
    node.onStatus((next, previous) => seen.push(`${previous}->${next}`));
    const starting = node.start();
    setTimeout(() => void node.stop(), 300);
    await assert.rejects(starting);
    await node.stop();
    assert.deepEqual(seen, ['created->starting', 'starting->failed', 'failed->stopping', 'stopping->stopped']);
  });

  it('membership goes created -> stopping -> stopped when stopped before it started', async () => {
    const membership = new Membership({ connectString: '127.0.0.1:1', root: '/none', sessionTimeoutMs: 2_000, connectTimeoutMs: 200, logger: silentLogger() });
    await membership.stop();
    assert.equal(membership.status, 'stopped');
  });
});
