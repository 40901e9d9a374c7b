import assert from 'node:assert/strict';
import net from 'node:net';
import zookeeper from 'node-zookeeper-client';
import { createAvroClient } from '../../src/client/avro-client';
import { BitacoraClientError } from '../../src/client/client-error';
import type { BitacoraNode } from '../../src/node/create-node';
import { waitFor } from '../../src/retry/retry';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { sharedStack } from '../helpers/shared-stack';
import { startTestNode } from '../helpers/test-node';
import { closesWithin } from '../helpers/socket-close';
import { onTeardown } from '../helpers/teardown';
import { uniqueName } from '../helpers/unique';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };

describe('access control (AUTH_TOKEN, ZK_AUTH, connection limits)', () => {
  it('answers nothing but liveness over HTTP without the token', async () => {
    const node = await startTestNode({ AUTH_TOKEN: TOKEN });
    const paths = ['/rpc?key=k', '/rpc/cluster?key=k', '/health', '/health/ready', '/cluster', '/stats', '/metrics', '/', '/cluster/stats', '/debug/digest', '/nope'];
    for (const path of paths) {
      for (const headers of [{}, { Authorization: 'Bearer wrong-token-0123456789' }, { Authorization: TOKEN.slice(0, -1) }] as Record<string, string>[]) {
        const answer = await httpRequest(`${node.httpUrl}${path}`, { headers });
        assert.equal(answer.status, 401, `${path} with ${JSON.stringify(headers)}`);
        assert.equal(answer.json.error.code, 'UNAUTHORIZED');
        assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    }
    const write = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k', 'v')}`, { method: 'POST' });
    assert.equal(write.status, 401, 'a write without the token');
    assert.equal((await httpRequest(`${node.httpUrl}/health/live`)).status, 200);

    const written = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k', 'v')}`, { method: 'POST', headers: auth });
    assert.equal(written.status, 200);
    const read = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k')}`, { headers: { authorization: `bearer ${TOKEN}` } });
    assert.equal(read.json.value, 'v');
    assert.equal((await httpRequest(`${node.httpUrl}/metrics`, { headers: auth })).status, 200);
    assert.equal(node.store.size, 1, 'the unauthorized write reached the map');
  });

  it('leaves /metrics open to scrapers with METRICS_AUTH=open, and nothing else', async () => {
    const node = await startTestNode({ AUTH_TOKEN: TOKEN, METRICS_AUTH: 'open' });
    assert.equal((await httpRequest(`${node.httpUrl}/metrics`)).status, 200);
    assert.equal((await httpRequest(`${node.httpUrl}/stats`)).status, 401);
  });

  it('lets peers with the shared token answer each other\'s misses', async () => {
    const topic = uniqueName('auth-topic');
    const holder = await startTestNode({ AUTH_TOKEN: TOKEN, KAFKA_TOPIC: topic });
    // FANOUT=always: a caught-up node answers its misses alone, and this one looks caught up while paused.
    const asker = await startTestNode({ AUTH_TOKEN: TOKEN, KAFKA_TOPIC: topic, FANOUT: 'always' });
    await waitFor(() => (asker.membership?.peers().length ?? 0) >= 1, { timeoutMs: 10_000, description: 'the asker to see its peer' });
    // Held back so the asker cannot answer from its own map: only the authenticated fan-out can.
    asker.logConsumer!.pause();
    assert.equal((await httpRequest(`${holder.httpUrl}/rpc${rpcQuery('shared', 'from-holder')}`, { method: 'POST', headers: auth })).status, 200);
    const answer = await httpRequest(`${asker.httpUrl}/rpc${rpcQuery('shared')}`, { headers: auth });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.value, 'from-holder');
    assert.equal(answer.json.source, `peer:${holder.config.nodeName}`);
    asker.logConsumer!.resume();
  });

  it('refuses Avro connections whose handshake lacks the token, and serves those that carry it', async () => {
    const node = await startTestNode({ AUTH_TOKEN: TOKEN });
    for (const authToken of [undefined, 'not-the-token-0123456789']) {
      const client = await createAvroClient({ addresses: [node.avroAddress], timeoutMs: 5_000, authToken });
      onTeardown('avro client', () => client.close());
      const started = Date.now();
      const failure = await client.set('k', 'v').then(
        () => assert.fail('an Avro write without the right token succeeded'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof BitacoraClientError, String(failure));
      assert.equal(failure.code, 'UNAUTHORIZED', failure.message);
      assert.match(failure.message, /AUTH_TOKEN/);
      assert.ok(Date.now() - started < 4_000, 'the refusal waited for the call timeout instead of failing at the handshake');
    }
    const client = await createAvroClient({ addresses: [node.avroAddress], timeoutMs: 5_000, authToken: TOKEN });
    onTeardown('avro client', () => client.close());
    await client.set('avro-key', 'avro-value');
    assert.equal((await client.get('avro-key'))?.value.toString(), 'avro-value');
    assert.equal(node.store.get('k'), undefined, 'a refused Avro write reached the map');

    // Bytes that are not a handshake at all: the connection is closed, nothing else happens.
    const [host, port] = node.avroAddress.split(':');
    const closed = await new Promise<boolean>((resolve) => {
      const socket = net.connect(Number(port), host!, () => socket.write(Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3])));
      socket.on('data', () => undefined);
      socket.on('close', () => resolve(true));
      socket.on('error', () => undefined);
      socket.setTimeout(5_000, () => resolve(false));
    });
    assert.ok(closed, 'a connection without a handshake stayed open');
    assert.equal((await httpRequest(`${node.httpUrl}/health/live`)).status, 200);
  });

  it('locks its znodes with ZK_AUTH: others can read the members but not change them', async () => {
    const root = `/${uniqueName('zk-auth')}`;
    const node = await startTestNode({ ZK_AUTH: 'bitacora:zk-secret', ZK_ROOT: root });
    await waitFor(() => node.membership?.report().registered === true, { timeoutMs: 10_000, description: 'the node to register' });
    const stack = await sharedStack();
    const stranger = zookeeper.createClient(stack.zookeeperConnectString, { sessionTimeout: 10_000 });
    onTeardown('zookeeper client', () => stranger.close());
    await new Promise<void>((resolve) => {
      stranger.once('connected', () => resolve());
      stranger.connect();
    });
    const children = await new Promise<string[]>((resolve, reject) => stranger.getChildren(`${root}/nodes`, (error, names) => (error ? reject(error) : resolve(names))));
    assert.deepEqual(children, [node.config.nodeName]);
    const removal = await new Promise<unknown>((resolve) => stranger.remove(`${root}/nodes/${node.config.nodeName}`, -1, (error) => resolve(error)));
    assert.equal((removal as { getCode?: () => number })?.getCode?.(), zookeeper.Exception.NO_AUTH, `removing a member without ZK_AUTH: ${String(removal)}`);
    const creation = await new Promise<unknown>((resolve) => stranger.create(`${root}/nodes/impostor`, Buffer.from('{}'), (error) => resolve(error)));
    assert.equal((creation as { getCode?: () => number })?.getCode?.(), zookeeper.Exception.NO_AUTH, `registering an impostor without ZK_AUTH: ${String(creation)}`);
  });

  it('closes connections past MAX_CONNECTIONS and accepts again once one closes', async () => {
    const node = await startTestNode({ MAX_CONNECTIONS: '3' });
    const { port } = new URL(node.httpUrl);
    const [avroHost, avroPort] = node.avroAddress.split(':');
    for (const [host, target] of [['127.0.0.1', Number(port)], [avroHost!, Number(avroPort)]] as const) {
      const held: net.Socket[] = [];
      for (let i = 0; i < 3; i++) held.push(await connected(host, target));
      for (const socket of held) onTeardown('held socket', () => void socket.destroy());
      // Let the server count them before the fourth arrives.
      await waitFor(async () => (await connectionCount(node, target === Number(port) ? 'http' : 'avro')) >= 3, { timeoutMs: 5_000, description: 'three connections to be open' });
      const extra = await connected(host, target);
      assert.ok(await closesWithin(extra, 3_000), `a fourth connection to port ${target} stayed open`);
      held.pop()!.destroy();
      await waitFor(async () => (await connectionCount(node, target === Number(port) ? 'http' : 'avro')) < 3, { timeoutMs: 5_000, description: 'a connection to close' });
      const again = await connected(host, target);
      onTeardown('socket', () => void again.destroy());
      assert.equal(await closesWithin(again, 500), false, 'a connection under the limit was closed');
    }
  });
});

function connected(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What the node's bitacora_open_connections gauge says for one interface. */
async function connectionCount(node: BitacoraNode, which: 'http' | 'avro'): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric('bitacora_open_connections')!.get();
  return metric.values.find((v) => v.labels.interface === which)?.value ?? 0;
}
