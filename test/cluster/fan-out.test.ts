import assert from 'node:assert/strict';
import type { BitacoraNode } from '../../src/node/create-node';
import { waitFor } from '../../src/retry/retry';
import { findFreePort } from '../../src/stack/free-port';
import { foreignProducer, preloadTopic } from '../helpers/kafka-client';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startNodeProcess } from '../helpers/node-process';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';
import { uniqueName } from '../helpers/unique';

async function seesPeers(node: BitacoraNode, count: number): Promise<void> {
  await waitFor(() => (node.membership?.peers().length ?? 0) >= count, { timeoutMs: 10_000, description: `${node.config.nodeName} to see ${count} peers` });
}

async function holds(node: BitacoraNode, key: string, value: string | undefined): Promise<void> {
  await waitFor(() => node.store.get(key)?.value.toString() === value, { timeoutMs: 10_000, description: `${node.config.nodeName} to hold ${key}=${value}` });
}

async function write(node: BitacoraNode, key: string, value: string): Promise<number> {
  const answer = await httpRequest(`${node.httpUrl}/rpc${rpcQuery(key, value)}`, { method: 'POST' });
  assert.equal(answer.status, 200);
  return answer.json.offset;
}

describe('fan-out to peers on a miss', () => {
  it('lets a fresh node answer from its peers before it is ready', async () => {
    const topic = uniqueName('loaded');
    const total = 300_000;
    await preloadTopic(topic, total, (i) => `value-${i}`);
    const producer = await foreignProducer();
    await producer.send({ topic, messages: [{ key: 'k42', value: null }] });
    const peer = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'loaded-peer' });

    const fresh = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'fresh' }, { waitReady: false });
    // Held in its loading state (its consumer has not even joined its group yet), so "before it is ready" is
    // what the test observes, whatever the machine's speed.
    fresh.logConsumer!.pause();
    await seesPeers(fresh, 1);
    const keys = ['k299999', 'k150000', 'k7', 'k42', 'never-written'];
    const answers = await Promise.all(keys.map((key) => httpRequest(`${fresh.httpUrl}/rpc${rpcQuery(key)}`)));
    const readyAfter = await httpRequest(`${fresh.httpUrl}/health/ready`);
    assert.equal(readyAfter.status, 503, 'the fresh node was ready: the test proves nothing');
    for (const [i, key] of keys.entries()) {
      if (key === 'k42' || key === 'never-written') {
        assert.equal(answers[i].status, 404, `${key} is absent (deleted, or never written)`);
      } else {
        assert.equal(answers[i].status, 200, key);
        assert.equal(answers[i].json.value, `value-${key.slice(1)}`);
      }
    }
    assert.ok(
      answers.some((a) => a.json?.source === 'peer:loaded-peer'),
      'no answer came from the peer',
    );
    assert.ok(fresh.fanOut!.counters.fanOuts > 0);
    // Peer answers never enter the map as if Kafka had written them.
    assert.ok(fresh.store.size < total);
    fresh.logConsumer!.resume();
    await fresh.whenReady(60_000);
    assert.equal(peer.store.size, total - 1);
  });

  it('waits at most FANOUT_TIMEOUT_MS for a peer that hangs (SIGSTOP), counting it', async () => {
    const topic = uniqueName('hang');
    const asker = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'asker', FANOUT: 'always', FANOUT_TIMEOUT_MS: '400' });
    const hung = await startNodeProcess(await testNodeEnv({ KAFKA_TOPIC: topic, NODENAME: 'hung' }), await findFreePort());
    await seesPeers(asker, 1);
    hung.child.kill('SIGSTOP');
    onTeardown('SIGCONT', () => hung.child.kill('SIGCONT'));
    const started = Date.now();
    const answer = await httpRequest(`${asker.httpUrl}/rpc${rpcQuery('nobody-has-it')}`);
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 404);
    assert.ok(elapsed >= 350, `answered after ${elapsed} ms: the hung peer was not asked`);
    assert.ok(elapsed < 400 + 1_000, `answered after ${elapsed} ms, far past FANOUT_TIMEOUT_MS`);
    assert.equal(asker.fanOut!.counters.peerTimeout, 1);
  });

  it('shares one fan-out among concurrent misses of one key', async () => {
    const topic = uniqueName('coalesce');
    const asker = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'asker', FANOUT: 'always' });
    await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'peer' });
    await seesPeers(asker, 1);
    const answers = await Promise.all(Array.from({ length: 20 }, () => httpRequest(`${asker.httpUrl}/rpc${rpcQuery('same-key')}`)));
    assert.ok(answers.every((a) => a.status === 404));
    assert.ok(asker.fanOut!.counters.coalesced > 0, 'no miss shared a fan-out');
    assert.equal(asker.fanOut!.counters.fanOuts + asker.fanOut!.counters.coalesced, 20);
  });

  it('never asks with FANOUT=never, even when a peer has the key', async () => {
    const topic = uniqueName('never');
    const loner = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'loner', FANOUT: 'never' });
    const peer = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'peer' });
    await seesPeers(loner, 1);
    loner.logConsumer!.pause();
    await write(peer, 'k', 'v');
    assert.equal((await httpRequest(`${loner.httpUrl}/rpc${rpcQuery('k')}`)).status, 404);
    assert.equal(loner.fanOut!.counters.fanOuts, 0);
  });

  describe('precedence', () => {
    /** Three nodes on one topic; the asker's consumer is paused from the start, so it misses every key. */
    async function cluster() {
      const topic = uniqueName('precedence');
      const asker = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'asker', FANOUT: 'always' });
      const lagging = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'lagging' });
      const current = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'current' });
      await seesPeers(asker, 2);
      asker.logConsumer!.pause();
      return { asker, lagging, current };
    }

    it('answers with the value written at the highest offset among peers', async () => {
      const { asker, lagging, current } = await cluster();
      await write(current, 'k', 'old');
      await holds(lagging, 'k', 'old');
      lagging.logConsumer!.pause();
      const newer = await write(current, 'k', 'new');
      assert.equal(asker.store.get('k'), undefined);
      const answer = await httpRequest(`${asker.httpUrl}/rpc${rpcQuery('k')}`);
      assert.equal(answer.json.value, 'new');
      assert.equal(answer.json.offset, newer);
      assert.equal(answer.json.source, 'peer:current');
    });

    it('lets an absence at a position past a value beat that value (a later tombstone)', async () => {
      const { asker, lagging, current } = await cluster();
      await write(current, 'k', 'deleted soon');
      await holds(lagging, 'k', 'deleted soon');
      lagging.logConsumer!.pause();
      assert.equal((await httpRequest(`${current.httpUrl}/rpc${rpcQuery('k')}`, { method: 'DELETE' })).status, 200);
      assert.equal(lagging.store.get('k')?.value.toString(), 'deleted soon', 'the lagging peer still holds the old value');
      const answer = await httpRequest(`${asker.httpUrl}/rpc${rpcQuery('k')}`);
      assert.equal(answer.status, 404);
    });

    it("lets this node's own Kafka apply win over peers while it waits for them", async () => {
      const topic = uniqueName('kafka-wins');
      const asker = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'asker', FANOUT: 'always', FANOUT_TIMEOUT_MS: '5000' });
      const hung = await startNodeProcess(await testNodeEnv({ KAFKA_TOPIC: topic, NODENAME: 'hung' }), await findFreePort());
      await seesPeers(asker, 1);
      hung.child.kill('SIGSTOP');
      onTeardown('SIGCONT', () => hung.child.kill('SIGCONT'));
      const started = Date.now();
      const pending = httpRequest(`${asker.httpUrl}/rpc${rpcQuery('arriving')}`);
      await waitFor(() => asker.fanOut!.counters.fanOuts === 1, { timeoutMs: 5_000, description: 'the fan-out to start' });
      const producer = await foreignProducer();
      await producer.send({ topic, messages: [{ key: 'arriving', value: 'from Kafka' }] });
      const answer = await pending;
      assert.equal(answer.status, 200);
      assert.equal(answer.json.value, 'from Kafka');
      assert.equal(answer.json.source, 'local');
      assert.ok(Date.now() - started < 5_000, 'the answer waited for the hung peer instead of taking the Kafka value');
      assert.equal(asker.fanOut!.counters.kafkaWon, 1);
    });

    it('never puts a peer answer in the map: the Kafka record replaces nothing but Kafka', async () => {
      const { asker, current } = await cluster();
      const offset = await write(current, 'k', 'v');
      assert.equal((await httpRequest(`${asker.httpUrl}/rpc${rpcQuery('k')}`)).json.source, 'peer:current');
      assert.equal(asker.store.get('k'), undefined, 'a peer answer entered the map');
      asker.logConsumer!.resume();
      await holds(asker, 'k', 'v');
      assert.equal(asker.store.get('k')!.offset, offset);
      assert.equal((await httpRequest(`${asker.httpUrl}/rpc${rpcQuery('k')}`)).json.source, 'local');
    });
  });
});
