import assert from 'node:assert/strict';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { createNode } from '../../src/node/create-node';
import { waitFor } from '../../src/retry/retry';
import { findFreePort, findFreePorts, isPortFree } from '../../src/stack/free-port';
import { startStack } from '../../src/stack/stack';
import { loadStackConfig } from '../../src/config/stack-config';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startNodeProcess } from '../helpers/node-process';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { sharedStack } from '../helpers/shared-stack';
import { TcpProxy } from '../helpers/tcp-proxy';
import { onTeardown } from '../helpers/teardown';
import net from 'node:net';
import { uniqueName } from '../helpers/unique';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';

async function memberNames(url: string): Promise<string[]> {
  const answer = await httpRequest(`${url}/cluster`);
  return (answer.json.members as Array<{ name: string }>).map((m) => m.name).sort();
}

async function unboundPortBelowEphemeralRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await isPortFree(port)) return port;
  }
  throw new Error('no free port between 20000 and 30000');
}

describe('cluster membership in ZooKeeper', () => {
  it('converges as nodes join and leave, each marking itself', async () => {
    const topic = uniqueName('members');
    const a = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'a' });
    const b = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'b' });
    const c = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'c' });
    for (const node of [a, b, c]) {
      await waitFor(async () => (await memberNames(node.httpUrl)).join() === 'a,b,c', { timeoutMs: 10_000, description: `${node.config.nodeName} to see a, b, c` });
    }
    const view = await httpRequest(`${b.httpUrl}/cluster`);
    const self = view.json.members.filter((m: { self: boolean }) => m.self);
    assert.deepEqual(self.map((m: { name: string }) => m.name), ['b']);
    assert.equal(view.json.members.find((m: { name: string }) => m.name === 'c').httpUrl, c.httpUrl);

    await b.stop();
    for (const node of [a, c]) {
      await waitFor(async () => (await memberNames(node.httpUrl)).join() === 'a,c', { timeoutMs: 10_000, description: `${node.config.nodeName} to see b leave` });
    }
  });

  it('drops a SIGKILLed node from its peers within the session timeout, and the others still answer right', async () => {
    const sessionTimeoutMs = 4_000;
    const topic = uniqueName('killed');
    const a = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'a', FANOUT: 'always', FANOUT_TIMEOUT_MS: '300' });
    const victim = await startNodeProcess(await testNodeEnv({ KAFKA_TOPIC: topic, NODENAME: 'victim', ZK_SESSION_TIMEOUT_MS: String(sessionTimeoutMs) }), await findFreePort());
    await waitFor(async () => (await memberNames(a.httpUrl)).join() === 'a,victim', { timeoutMs: 10_000, description: 'a to see the victim' });
    assert.equal((await httpRequest(`${victim.url}/rpc${rpcQuery('k', 'v')}`, { method: 'POST' })).status, 200);

    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(async () => (await memberNames(a.httpUrl)).join() === 'a', { timeoutMs: 30_000, intervalMs: 50, description: 'the victim to leave' });
    const elapsed = Date.now() - killedAt;
    // ZooKeeper expires sessions on tick boundaries (2 s here): the bound is the timeout plus one tick.
    assert.ok(elapsed <= sessionTimeoutMs + 2_000 + 1_000, `gone after ${elapsed} ms`);
    assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery('k')}`)).json.value, 'v');
    assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery('never-written')}`)).status, 404);
  });

  it('refuses a second live node with the same NODENAME', async () => {
    const topic = uniqueName('dupe');
    await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'twin', ZK_SESSION_TIMEOUT_MS: '4000' });
    const twin = createNode(loadNodeConfig(await testNodeEnv({ KAFKA_TOPIC: topic, NODENAME: 'twin', ZK_SESSION_TIMEOUT_MS: '4000' })), silentLogger());
    onTeardown('twin', () => twin.stop());
    await assert.rejects(twin.start(), /another live node is registered as "twin".*unique NODENAME/);
    assert.equal(twin.status, 'failed');
  });

  it('keeps serving and keeps its last known peers through a ZooKeeper connection loss', async () => {
    const proxy = await TcpProxy.start((await sharedStack()).zookeeperConnectString);
    const topic = uniqueName('partitioned');
    const peer = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'peer' });
    const node = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'cut-off', ZOOKEEPER_HOST: proxy.address, ZK_SESSION_TIMEOUT_MS: '10000' });
    await waitFor(() => node.membership!.peers().length === 1, { timeoutMs: 10_000, description: 'the peer to be seen' });
    await proxy.cut();
    await waitFor(() => node.membership!.report().zookeeper !== 'connected', { timeoutMs: 10_000, description: 'the connection loss to be noticed' });
    assert.deepEqual(node.membership!.peers().map((m) => m.name), ['peer'], 'the last known peers were dropped');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('during', 'the cut')}`, { method: 'POST' })).status, 200);
    await proxy.restore();
    await waitFor(() => node.membership!.report().zookeeper === 'connected', { timeoutMs: 15_000, description: 'the reconnection' });
    assert.equal(node.membership!.report().sessions, 1, 'a short cut must not cost the session');
    assert.deepEqual((await memberNames(peer.httpUrl)), ['cut-off', 'peer']);
  });

  it('registers again after its session expired during a partition longer than the session timeout', async () => {
    const proxy = await TcpProxy.start((await sharedStack()).zookeeperConnectString);
    const topic = uniqueName('expired');
    const peer = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'peer' });
    const node = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'expiring', ZOOKEEPER_HOST: proxy.address, ZK_SESSION_TIMEOUT_MS: '4000' });
    const firstSession = node.membership!.client!.getSessionId();
    await proxy.cut();
    // The server expires the session and deletes the ephemeral znode: the peer sees the node leave.
    await waitFor(async () => (await memberNames(peer.httpUrl)).join() === 'peer', { timeoutMs: 15_000, description: 'the expired node to leave' });
    await proxy.restore();
    await waitFor(() => node.membership!.report().sessions >= 2 && node.membership!.report().registered, {
      timeoutMs: 20_000,
      description: 'a new session and registration',
    });
    assert.notDeepEqual(node.membership!.client!.getSessionId(), firstSession);
    await waitFor(async () => (await memberNames(peer.httpUrl)).join() === 'expiring,peer', { timeoutMs: 10_000, description: 'the peer to see it again' });
    const view = await httpRequest(`${node.httpUrl}/cluster`);
    assert.deepEqual(view.json.members.map((m: { name: string }) => m.name), ['expiring', 'peer']);
    assert.equal(view.json.zookeeper.zookeeper, 'connected');
  });

  it('hands each source partition\'s mirror fence over when its session expires, and back when it returns (#13)', async () => {
    const proxy = await TcpProxy.start((await sharedStack()).zookeeperConnectString);
    const topic = uniqueName('fences');
    // Sorted names: partitions 0 and 2 go to "expiring", 1 to "peer".
    const peer = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'peer' });
    const node = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'expiring', ZOOKEEPER_HOST: proxy.address, ZK_SESSION_TIMEOUT_MS: '4000' });
    const mirrored = async (url: string): Promise<string> => {
      const partitions = ((await httpRequest(`${url}/stats`)).json.mirror?.partitions ?? {}) as Record<string, string>;
      return Object.keys(partitions).filter((p) => partitions[p] === 'mirroring').sort().join(',');
    };
    const both = async (): Promise<string> => `${await mirrored(node.httpUrl)}|${await mirrored(peer.httpUrl)}`;
    await waitFor(async () => (await both()) === '0,2|1', { timeoutMs: 20_000, intervalMs: 200, description: 'the fences shared by designation' });
    await proxy.cut();
    // The expired session's fences vanish with it; the peer, now alone, takes every partition.
    await waitFor(async () => (await mirrored(peer.httpUrl)) === '0,1,2', { timeoutMs: 20_000, intervalMs: 200, description: 'the peer to take every fence' });
    assert.equal(await mirrored(node.httpUrl), '', 'a node without its session mirrors nothing');
    await proxy.restore();
    await waitFor(async () => (await both()) === '0,2|1', { timeoutMs: 30_000, intervalMs: 200, description: 'the fences handed back once the node registered again' });
  });

  it('survives a ZOOKEEPER_HOST that answers garbage, and says so', async () => {
    // Speaks just enough of ZooKeeper's handshake to be taken for a server, then answers every request with an
    // error code the client does not know: the bytes that made node-zookeeper-client throw out of its socket handler.
    const garbage = net.createServer((socket) => {
      let handshaken = false;
      socket.on('data', (chunk) => {
        if (!handshaken) {
          handshaken = true;
          const response = Buffer.alloc(4 + 36);
          response.writeInt32BE(36, 0); // length
          response.writeInt32BE(0, 4); // protocol version
          response.writeInt32BE(4_000, 8); // session timeout
          response.writeBigInt64BE(42n, 12); // session id
          response.writeInt32BE(16, 20); // password length, then 16 zero bytes
          socket.write(response);
          return;
        }
        const reply = Buffer.alloc(4 + 16);
        reply.writeInt32BE(16, 0);
        reply.writeInt32BE(chunk.readInt32BE(4), 4); // the request's xid
        reply.writeInt32BE(0x095f0001, 16); // an error code that does not exist
        socket.write(reply);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    onTeardown('garbage server', () => new Promise<void>((resolve) => garbage.close(() => resolve())));
    const { port } = garbage.address() as net.AddressInfo;
    const node = await startTestNode({ ZOOKEEPER_HOST: `127.0.0.1:${port}`, ZK_CONNECT_TIMEOUT_MS: '1000' });
    await waitFor(async () => /does not speak ZooKeeper|no ZooKeeper session/.test((await httpRequest(`${node.httpUrl}/health/ready`)).json.cluster.error ?? ''), {
      timeoutMs: 10_000,
      description: 'readiness to explain the ZooKeeper failure',
    });
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('still', 'serving')}`, { method: 'POST' })).status, 200);
  });

  it('starts without ZooKeeper, says so in readiness, and registers once ZooKeeper comes', async () => {
    // Outside the ephemeral range: a connect to an unbound ephemeral port can meet itself (TCP self-connect).
    const zkPort = await unboundPortBelowEphemeralRange();
    const [kafkaPort, controllerPort] = (await findFreePorts(2)) as [number, number];
    const node = await startTestNode({ ZOOKEEPER_HOST: `127.0.0.1:${zkPort}`, ZK_CONNECT_TIMEOUT_MS: '500' });
    const ready = await httpRequest(`${node.httpUrl}/health/ready`);
    assert.equal(ready.status, 200, 'the node serves without ZooKeeper');
    assert.equal(ready.json.cluster.registered, false);
    assert.match(ready.json.cluster.error, /no ZooKeeper session/);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('x', 'y')}`, { method: 'POST' })).status, 200);

    // Now a ZooKeeper appears on that port (with a Kafka of its own, which this node does not use).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bitacora-late-zk-'));
    const late = await startStack({ ...loadStackConfig(process.env), dir, zkPort, kafkaPort, kafkaControllerPort: controllerPort, logger: silentLogger() });
    onTeardown('late stack', async () => {
      await late.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/health/ready`)).json.cluster.registered === true, {
      timeoutMs: 30_000,
      description: 'registration once ZooKeeper answers',
    });
  });
});
