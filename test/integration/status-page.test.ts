import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { fetchClusterStats } from '../../src/http/cluster-stats';
import { waitFor } from '../../src/retry/retry';
import { findFreePort } from '../../src/stack/free-port';
import { findChromium, launchChromium } from '../helpers/chromium';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startNodeProcess } from '../helpers/node-process';
import { onTeardown } from '../helpers/teardown';
import { startTestNode, testNodeEnv } from '../helpers/test-node';
import { uniqueName } from '../helpers/unique';

const SCREENSHOT = path.join(__dirname, '../../docs/status-page.png');

// The callbacks given to page.evaluate and waitForFunction run in the browser, where this exists.
declare const document: any;

/** Fills the form and presses one of its buttons; resolves with the result's code once a new answer is shown. */
async function submit(page: Page, op: 'Get' | 'Set' | 'Delete', key: string, value = ''): Promise<{ code: string; message: string; value: string | null }> {
  await page.fill('#key', key);
  await page.fill('#value', value);
  await page.evaluate(() => document.getElementById('result')!.replaceChildren());
  await page.click(`#kv button:text-is("${op}")`);
  await page.waitForSelector('#result .code', { timeout: 10_000 });
  const result = page.locator('#result');
  const shown = result.locator('pre.value');
  return {
    code: (await result.locator('.code').textContent()) ?? '',
    message: (await result.locator('.message').textContent()) ?? '',
    value: (await shown.count()) > 0 ? await shown.textContent() : null,
  };
}

describe('the status page', () => {
  it('shows the members with their readiness, and its form sets, gets and deletes a key', async function () {
    this.timeout(10 * 60_000 + 120_000);
    await findChromium(); // may install it (as root) on a fresh machine, hence the long timeout
    this.timeout(120_000);

    const topic = uniqueName('status-page');
    const a = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'a' });
    const b = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'b' });
    const c = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'c' });
    for (const node of [a, b, c]) {
      await waitFor(() => node.membership!.peers().length === 2, { timeoutMs: 15_000, description: `${node.config.nodeName} to see its two peers` });
    }
    // Some data, so the figures are not all zero.
    for (let i = 0; i < 25; i++) assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery(`city-${i}`, `value ${i}`)}`, { method: 'POST' })).status, 200);
    for (let i = 0; i < 40; i++) await httpRequest(`${a.httpUrl}/rpc${rpcQuery(`city-${i % 30}`)}`);

    const context = await launchChromium({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A 404 or 400 answer to the form is logged by Chromium as a failed load; that one is expected.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of 4')) {
        problems.push(`console: ${message.text()}`);
      }
    });
    const answer = await page.goto(`${a.httpUrl}/`);
    assert.equal(answer?.status(), 200);
    assert.match(answer?.headers()['content-security-policy'] ?? '', /script-src 'sha256-/);

    // The three members, by name, each ready; a is marked as this node.
    await page.waitForFunction(() => document.querySelectorAll('#members-body tr[data-member]').length === 3, undefined, { timeout: 10_000 });
    const rows = await page.$$eval('#members-body tr[data-member]', (trs) =>
      trs.map((tr) => ({ name: tr.getAttribute('data-member'), readiness: tr.querySelector('.pill')?.textContent, text: tr.textContent })),
    );
    assert.deepEqual(rows.map((r) => r.name), ['a', 'b', 'c']);
    assert.deepEqual(rows.map((r) => r.readiness), ['ready', 'ready', 'ready']);
    assert.match(rows[0].text ?? '', /this node/);
    assert.equal(await page.textContent('#node-name'), 'a');
    assert.equal(await page.locator('#partitions-body tr').count(), 3);

    // Set, through the form; a value with markup in it must come back as text, never as markup.
    const value = 'hola <b>mundo</b> & "amigos"';
    const set = await submit(page, 'Set', 'greeting', value);
    assert.equal(set.code, 'STORED', set.message);
    // Read-your-writes on a; the other nodes apply it from Kafka within moments.
    const stored = await httpRequest(`${a.httpUrl}/rpc${rpcQuery('greeting')}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.json.value, value);
    await waitFor(async () => (await httpRequest(`${c.httpUrl}/rpc${rpcQuery('greeting')}`)).json?.value === value, {
      timeoutMs: 10_000,
      description: 'c to apply the write made through the page',
    });

    const missing = await submit(page, 'Get', uniqueName('missing'));
    assert.equal(missing.code, 'NOT_FOUND');
    assert.ok(missing.message.length > 0);

    const got = await submit(page, 'Get', 'greeting');
    assert.equal(got.code, 'FOUND', got.message);
    assert.equal(got.value, value);
    assert.equal(await page.locator('#result b').count(), 0, 'the value was rendered as markup');

    // Traffic while the page watches, so the request rates have something to show (bounded: 2 s, 3,000 requests).
    const updated = await page.textContent('#updated');
    const until = Date.now() + 2_000;
    for (let i = 0; i < 3_000 && Date.now() < until; i++) await httpRequest(`${a.httpUrl}/rpc${rpcQuery(`city-${i % 30}`)}`);
    await page.waitForFunction((before) => document.getElementById('updated')!.textContent !== before, updated, { timeout: 10_000 });
    await page.waitForFunction(() => Number((document.getElementById('req-rate')!.textContent ?? '').replace(/,/g, '')) > 0, undefined, { timeout: 10_000 });
    const getRow = await page.locator('#rates-body tr', { hasText: 'get' }).first().textContent();
    assert.ok(getRow && /get/.test(getRow), `no get row in the rates: ${getRow}`);
    await page.screenshot({ path: SCREENSHOT });

    const deleted = await submit(page, 'Delete', 'greeting');
    assert.equal(deleted.code, 'DELETED', deleted.message);
    assert.equal((await httpRequest(`${a.httpUrl}/rpc${rpcQuery('greeting')}`)).status, 404);

    // An empty key is the server's to refuse; the page shows its code.
    const empty = await submit(page, 'Get', '');
    assert.equal(empty.code, 'KEY_MISSING');

    assert.deepEqual(problems, [], 'the page logged errors (a CSP violation shows up here)');
  });
});

describe('GET /cluster/stats', () => {
  it('lists a killed peer as unreachable, and the others with their figures', async function () {
    this.timeout(120_000);
    const topic = uniqueName('cluster-stats');
    const a = await startTestNode({ KAFKA_TOPIC: topic, NODENAME: 'a' });
    // A killed process leaves its znode until its ZooKeeper session expires, so a stays aware of it meanwhile.
    const victim = await startNodeProcess(
      await testNodeEnv({ KAFKA_TOPIC: topic, NODENAME: 'victim', ZK_SESSION_TIMEOUT_MS: '30000' }),
      await findFreePort(),
    );
    await waitFor(() => a.membership!.peers().length === 1, { timeoutMs: 15_000, description: 'a to see the victim' });
    const before = await httpRequest(`${a.httpUrl}/cluster/stats`);
    assert.equal(before.status, 200);
    assert.deepEqual(before.json.map((m: { name: string; reachable: boolean }) => [m.name, m.reachable]), [['a', true], ['victim', true]]);
    assert.equal(before.json[1].stats.node, 'victim');

    victim.child.kill('SIGKILL');
    await victim.exited;
    assert.equal(a.membership!.peers().length, 1, 'the victim should still be listed (its session has not expired)');
    const started = Date.now();
    const after = await httpRequest(`${a.httpUrl}/cluster/stats`);
    assert.equal(after.status, 200);
    assert.ok(Date.now() - started < 5_000, 'the answer waited too long for the dead peer');
    const [self, dead] = after.json as Array<Record<string, any>>;
    assert.equal(self.name, 'a');
    assert.equal(self.reachable, true);
    assert.equal(self.self, true);
    assert.equal(self.stats.ready, true);
    assert.equal(dead.name, 'victim');
    assert.equal(dead.reachable, false);
    assert.match(dead.error, /unreachable|no answer/);
    assert.equal(dead.stats, undefined);

    // Like the other read-only routes, the page and this route take GET and HEAD only.
    for (const route of ['/', '/cluster/stats']) {
      const refused = await httpRequest(`${a.httpUrl}${route}`, { method: 'POST' });
      assert.equal(refused.status, 405, route);
      assert.equal(refused.json.error.code, 'METHOD_NOT_ALLOWED');
      assert.equal(refused.headers.get('allow'), 'GET, HEAD');
    }
    assert.equal((await httpRequest(`${a.httpUrl}/`, { method: 'HEAD' })).status, 200);
  });

  it('gives up on a peer that accepts the connection but never answers, within the timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onTeardown('silent server', () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const port = (silent.address() as net.AddressInfo).port;
    const member = { httpUrl: `http://127.0.0.1:${port}`, startedAt: '2024-01-01T00:00:00.000Z', version: '1.2.3' };
    const started = Date.now();
    const answer = await fetchClusterStats(
      [
        { ...member, avroAddress: '', name: 'me', self: true },
        { ...member, avroAddress: '', name: 'silent', self: false },
      ],
      { selfStats: () => ({ node: 'me' }), timeoutMs: 300 },
    );
    assert.ok(Date.now() - started < 2_000);
    assert.deepEqual(answer[0], { ...member, name: 'me', self: true, reachable: true, stats: { node: 'me' } });
    assert.deepEqual(answer[1], { ...member, name: 'silent', self: false, reachable: false, error: 'no answer within 300 ms' });
  });
});
