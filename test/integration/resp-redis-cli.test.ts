import assert from 'node:assert/strict';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { REDIS_BENCHMARK, redisCli, ensureRedisTools } from '../helpers/redis-tools';
import { runTool } from '../helpers/run-tool';
import { startTestNode } from '../helpers/test-node';

describe('the Redis protocol with redis-cli and redis-benchmark (Debian redis-tools)', () => {
  before(() => ensureRedisTools());

  it('sets, gets, deletes, counts and scans, agreeing with HTTP', async () => {
    const node = await startTestNode();
    const port = node.respPort!;
    assert.equal(await redisCli(port, ['ping']), 'PONG');
    assert.equal(await redisCli(port, ['set', 'hello', 'world']), 'OK');
    assert.equal(await redisCli(port, ['get', 'hello']), 'world');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('hello')}`)).json.value, 'world');
    await httpRequest(`${node.httpUrl}/rpc${rpcQuery('from-http', 'hola')}`, { method: 'POST' });
    assert.equal(await redisCli(port, ['mget', 'hello', 'absent', 'from-http']), 'world\n\nhola');
    assert.equal(await redisCli(port, ['exists', 'hello', 'absent', 'hello']), '2');
    assert.equal(await redisCli(port, ['dbsize']), '2');
    assert.equal(await redisCli(port, ['strlen', 'hello']), '5');
    assert.equal(await redisCli(port, ['type', 'hello']), 'string');
    assert.equal(await redisCli(port, ['del', 'hello', 'absent']), '1');
    assert.equal(await redisCli(port, ['get', 'hello']), '');
    assert.equal(await redisCli(port, ['GeT', 'from-http']), 'hola', 'command names are case-insensitive');
    const info = await redisCli(port, ['info']);
    assert.match(info, /^redis_version:7\.\d+\.\d+/m);
    assert.match(info, /^loading:0/m);
    assert.match(info, /^db0:keys=1,/m);
    assert.match(info, /^partition_0:position=\d+,end=\d+,lag=\d+/m);
  });

  it('loads keys with --pipe and finds them with --scan --pattern and KEYS', async () => {
    const node = await startTestNode();
    const port = node.respPort!;
    const lines = Array.from({ length: 500 }, (_, i) => `SET ${i % 2 ? 'user' : 'item'}:${i} v${i}\r\n`).join('');
    const piped = await redisCli(port, ['--pipe'], { input: lines });
    assert.match(piped, /errors: 0, replies: 500/);
    const scanned = (await redisCli(port, ['--scan', '--pattern', 'user:*'])).split('\n').sort();
    assert.deepEqual(scanned, Array.from({ length: 250 }, (_, i) => `user:${2 * i + 1}`).sort());
    assert.equal((await redisCli(port, ['keys', 'item:1?'])).split('\n').sort().join(','), 'item:10,item:12,item:14,item:16,item:18');
    assert.equal(await redisCli(port, ['get', 'user:499']), 'v499');
  });

  it('answers errors in Redis wording', async () => {
    const node = await startTestNode({ MAX_KEY_BYTES: '8' });
    const port = node.respPort!;
    assert.equal(await redisCli(port, ['get']), "ERR wrong number of arguments for 'get' command");
    assert.equal(await redisCli(port, ['foo', 'a', 'b']), "ERR unknown command 'foo', with args beginning with: 'a' 'b'");
    assert.equal(await redisCli(port, ['set', 'k', 'v', 'bogus']), 'ERR syntax error');
    assert.match(await redisCli(port, ['set', 'k', 'v', 'EX', '10']), /^ERR SET EX is not supported by Bitacora yet/);
    assert.match(await redisCli(port, ['get', 'much-too-long']), /^ERR KEY_TOO_LARGE: .*MAX_KEY_BYTES \(8\)/);
    assert.match(await redisCli(port, ['multi']), /^ERR MULTI is not supported: Bitacora has no transactions/);
    assert.match(await redisCli(port, ['select', '1']), /^ERR DB index is out of range/);
    assert.equal(await redisCli(port, ['select', '0']), 'OK');
  });

  it('asks for AUTH_TOKEN: -a works, nothing but AUTH works without it, a wrong one is WRONGPASS', async () => {
    const token = 'resp-token-0123456789abcdef';
    const node = await startTestNode({ AUTH_TOKEN: token });
    const port = node.respPort!;
    assert.equal(await redisCli(port, ['get', 'k']), 'NOAUTH Authentication required.');
    assert.equal(await redisCli(port, ['set', 'k', 'v'], { auth: token }), 'OK');
    assert.equal(await redisCli(port, ['get', 'k'], { auth: token }), 'v');
    const wrong = await runTool('/usr/bin/redis-cli', ['-p', String(port), '--no-auth-warning', '-a', 'not-the-token', 'get', 'k']);
    assert.match(wrong.stdout + wrong.stderr, /WRONGPASS invalid username-password pair or user is disabled\./);
    assert.equal(await redisCli(port, ['--user', 'default', '--pass', token, 'get', 'k']), 'v');
  });

  it('runs redis-benchmark with and without pipelining, with no errors', async function () {
    this.timeout(180_000);
    const node = await startTestNode();
    for (const pipeline of ['1', '16']) {
      const result = await runTool(
        REDIS_BENCHMARK,
        ['-h', '127.0.0.1', '-p', String(node.respPort), '-r', '100000', '-d', '100', '-t', 'ping,set,get,mset', '-n', '500', '-c', '10', '-P', pipeline, '-q'],
        { timeoutMs: 80_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout + result.stderr, /error|ERR/i, result.stdout + result.stderr);
      for (const test of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'MSET']) assert.match(result.stdout, new RegExp(`${test}( \\(\\d+ keys\\))?: [\\d.]+ requests per second`), result.stdout);
    }
  });
});
