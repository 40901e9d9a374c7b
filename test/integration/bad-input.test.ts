import assert from 'node:assert/strict';
import net from 'node:net';
import { waitFor } from '../../src/retry/retry';
import { foreignAdmin, foreignProducer, recordsInTopic } from '../helpers/kafka-client';
import { httpRequest } from '../helpers/http-client';
import { isClosed, RawHttpConnection, type RawAnswer } from '../helpers/raw-http';
import { startTestNode } from '../helpers/test-node';

describe('bad input on HTTP', () => {
  it('answers each with its stable code and status, and none reaches Kafka', async () => {
    const node = await startTestNode({ MAX_KEY_BYTES: '16', MAX_VALUE_BYTES: '32' });
    const url = node.httpUrl;
    const cases: Array<{ name: string; path: string; method?: string; body?: string; headers?: Record<string, string>; status: number; code: string }> = [
      { name: 'GET without key', path: '/rpc', status: 400, code: 'KEY_MISSING' },
      { name: 'GET with empty key', path: '/rpc?key=', status: 400, code: 'KEY_MISSING' },
      { name: 'POST without key', path: '/rpc?value=v', method: 'POST', status: 400, code: 'KEY_MISSING' },
      { name: 'DELETE without key', path: '/rpc', method: 'DELETE', status: 400, code: 'KEY_MISSING' },
      { name: 'key over MAX_KEY_BYTES', path: `/rpc?key=${'k'.repeat(17)}&value=v`, method: 'POST', status: 413, code: 'KEY_TOO_LARGE' },
      { name: 'value over MAX_VALUE_BYTES in query', path: `/rpc?key=k&value=${'v'.repeat(33)}`, method: 'POST', status: 413, code: 'VALUE_TOO_LARGE' },
      { name: 'value over MAX_VALUE_BYTES in body', path: '/rpc?key=k', method: 'POST', body: 'v'.repeat(33), status: 413, code: 'VALUE_TOO_LARGE' },
      { name: 'POST without value', path: '/rpc?key=k', method: 'POST', status: 400, code: 'VALUE_MISSING' },
      { name: 'value in query and body', path: '/rpc?key=k&value=a', method: 'POST', body: 'b', status: 400, code: 'VALUE_AMBIGUOUS' },
      { name: 'value given twice', path: '/rpc?key=k&value=a&value=b', method: 'POST', status: 400, code: 'VALUE_AMBIGUOUS' },
      { name: 'key given twice', path: '/rpc?key=a&key=b', status: 400, code: 'KEY_INVALID' },
      { name: 'key not UTF-8', path: '/rpc?key=%FF%FE&value=v', method: 'POST', status: 400, code: 'KEY_INVALID' },
      { name: 'broken percent-encoding', path: '/rpc?key=%E0%A4%A&value=v', method: 'POST', status: 400, code: 'BAD_ENCODING' },
      { name: 'PUT on /rpc', path: '/rpc?key=k&value=v', method: 'PUT', status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'PATCH on /rpc', path: '/rpc?key=k', method: 'PATCH', status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'POST on /rpc/cluster', path: '/rpc/cluster?key=k', method: 'POST', status: 405, code: 'METHOD_NOT_ALLOWED' },
      { name: 'unknown path', path: '/nope', status: 404, code: 'ROUTE_NOT_FOUND' },
      { name: 'absent key', path: '/rpc?key=absent', status: 404, code: 'NOT_FOUND' },
    ];
    for (const c of cases) {
      const answer = await httpRequest(`${url}${c.path}`, { method: c.method, body: c.body, headers: c.headers });
      assert.equal(answer.status, c.status, `${c.name}: status`);
      assert.equal(answer.json?.error?.code, c.code, `${c.name}: code`);
      assert.equal(typeof answer.json.error.message, 'string', `${c.name}: message`);
      if (c.status === 405) assert.ok(answer.headers.get('allow'), `${c.name}: Allow header`);
    }
    const admin = await foreignAdmin();
    assert.equal(await recordsInTopic(admin, node.config.kafka.topic), 0, 'a malformed request reached Kafka');
  });

  it('names the limit to change in a 413', async () => {
    const node = await startTestNode({ MAX_VALUE_BYTES: '4' });
    const answer = await httpRequest(`${node.httpUrl}/rpc?key=k&value=12345`, { method: 'POST' });
    assert.equal(answer.status, 413);
    assert.match(answer.json.error.message, /MAX_VALUE_BYTES \(4\)/);
    assert.equal(answer.json.error.limit, 4);
  });

  it('answers 400 to malformed HTTP and keeps serving', async () => {
    const node = await startTestNode();
    const { port } = new URL(node.httpUrl);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => reject(new Error('no answer')));
    });
    assert.match(reply, /^HTTP\/1.1 400/);
    assert.equal((await httpRequest(`${node.httpUrl}/health/live`)).status, 200);
  });

  // Regression: the 400 for bytes that are not HTTP was written at once, ahead of the answer to the write read just
  // before them in the same packet; the client saw 400 for a write the node had done.
  it('answers the requests before unparseable bytes first, then a bare 400, then closes', async () => {
    const node = await startTestNode();
    const connection = await RawHttpConnection.open(Number(new URL(node.httpUrl).port));
    connection.write(
      Buffer.concat([
        Buffer.from('POST /rpc?key=piped&value=v1 HTTP/1.1\r\nHost: x\r\n\r\nGET /rpc?key=piped HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
        Buffer.from([0x01, 0xff, 0x00, 0x7f]),
      ]),
    );
    const write = response(await connection.read({ head: false, timeoutMs: 15_000 }));
    assert.equal(write.status, 200, 'the write read before the bytes');
    assert.equal(write.json.key, 'piped');
    assert.ok([200, 404].includes(response(await connection.read({ head: false, timeoutMs: 15_000 })).status), 'the read sent with the write');
    const refusal = response(await connection.read({ head: false, timeoutMs: 15_000 }));
    assert.equal(refusal.status, 400);
    assert.equal(refusal.json, undefined, 'a bare 400');
    assert.ok(await connection.waitClosed(10_000), 'the connection stays open after the 400');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=piped`)).json.value, 'v1');
  });

  // Regression: the clientError handler answered every parse failure 400, an oversized head too (docs: 431).
  it('answers a request head over 16 KiB with a bare 431, then closes', async () => {
    const node = await startTestNode();
    const connection = await RawHttpConnection.open(Number(new URL(node.httpUrl).port));
    connection.write(Buffer.from(`GET /rpc?key=k HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20 * 1024)}\r\n\r\n`, 'latin1'));
    const answer = response(await connection.read({ head: false, timeoutMs: 15_000 }));
    assert.equal(answer.status, 431);
    assert.ok(await connection.waitClosed(10_000), 'the connection stays open after the 431');
  });

  // Regression: node:http drops a CONNECT it has no listener for without a word; it is a method like any other here.
  it('answers CONNECT with 405 and the Allow header, or 404 on an unknown path, then closes', async () => {
    const node = await startTestNode();
    const port = Number(new URL(node.httpUrl).port);
    for (const [target, status, code, allow] of [
      ['/rpc?key=k', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD, POST, DELETE'],
      ['/rpc/cluster?key=k', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
      ['/health/live', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
      ['/nope', 404, 'ROUTE_NOT_FOUND', null],
      ['example.com:443', 404, 'ROUTE_NOT_FOUND', null],
    ] as const) {
      const connection = await RawHttpConnection.open(port);
      connection.write(Buffer.from(`CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
      const answer = response(await connection.read({ head: false, timeoutMs: 15_000 }), `CONNECT ${target}`);
      assert.equal(answer.status, status, `CONNECT ${target}`);
      assert.equal(answer.json?.error?.code, code, `CONNECT ${target}`);
      assert.equal(answer.headers.get('allow') ?? null, allow, `CONNECT ${target}: Allow`);
      assert.ok(await connection.waitClosed(10_000), `CONNECT ${target}: the connection stays open`);
    }
    // node:http stops watching a CONNECT's socket: a reset on it must not become an uncaught error.
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(`CONNECT /rpc HTTP/1.1\r\nHost: x\r\n\r\n${'x'.repeat(100_000)}`);
          socket.resetAndDestroy();
          resolve();
        });
        socket.on('error', () => resolve());
      });
    }
    assert.equal((await httpRequest(`${node.httpUrl}/health/live`)).status, 200);
  });

  // Regression: TextDecoder strips a leading byte-order mark unless told not to, so "\uFEFFk" was stored as "k"
  // (while its record went to "\uFEFFk"'s partition) and a value starting EF BB BF was read back without them.
  it('keeps a leading byte-order mark in keys and values, over HTTP and from the topic', async () => {
    const node = await startTestNode();
    const bom = '%EF%BB%BF';
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=${bom}k&value=${bom}v`, { method: 'POST' })).json.key, '\ufeffk');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=k&value=plain`, { method: 'POST' })).json.key, 'k');
    const read = await httpRequest(`${node.httpUrl}/rpc?key=${bom}k`);
    assert.equal(read.json.key, '\ufeffk');
    assert.equal(read.json.value, '\ufeffv');
    const raw = await httpRequest(`${node.httpUrl}/rpc?key=${bom}k`, { headers: { Accept: 'application/octet-stream' } });
    assert.deepEqual([...raw.body], [0xef, 0xbb, 0xbf, 0x76]);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=k`)).json.value, 'plain');

    const producer = await foreignProducer();
    await producer.send({ topic: node.config.kafka.topic, messages: [{ key: Buffer.from('\ufeffforeign'), value: 'with' }, { key: 'foreign', value: 'without' }] });
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc?key=foreign`)).status === 200, { timeoutMs: 10_000, description: 'the foreign records to apply' });
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc?key=${bom}foreign`)).status === 200, { timeoutMs: 10_000, description: 'the foreign record with a BOM to apply' });
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=foreign`)).json.value, 'without');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=${bom}foreign`)).json.value, 'with');
  });
});

describe('bad records from a foreign producer', () => {
  it('skips and counts each kind it cannot hold (by reason on /metrics and /stats) and serves the rest', async () => {
    const node = await startTestNode({ MAX_KEY_BYTES: '16', MAX_VALUE_BYTES: '64' });
    const producer = await foreignProducer();
    const topic = node.config.kafka.topic;
    // A null key cannot reach a node: the broker refuses it on a compacted topic (INVALID_RECORD). An empty key is
    // the nearest a producer gets, and counts as null_key.
    await assert.rejects(producer.send({ topic, messages: [{ key: null, value: 'no key' }] }), /validation on broker|INVALID_RECORD|without key/i);
    await producer.send({ topic, messages: [{ key: 'superseded', value: 'old', partition: 0 }] });
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc?key=superseded`)).status === 200, { timeoutMs: 10_000, description: 'the first value' });
    await producer.send({
      topic,
      messages: [
        { key: Buffer.alloc(0), value: 'empty key', partition: 0 },
        { key: Buffer.from([0xc0, 0x80]), value: 'overlong NUL', partition: 0 },
        { key: Buffer.from([0x6b, 0xed, 0xa0, 0x80]), value: 'a surrogate', partition: 0 },
        { key: Buffer.from([0xff, 0xfe]), value: 'not UTF-8 at all', partition: 0 },
        { key: 'k'.repeat(17), value: 'key over MAX_KEY_BYTES', partition: 0 },
        { key: Buffer.from(`${'é'.repeat(8)}x`), value: 'a 17-byte key of 9 characters', partition: 0 },
        // A value too large to hold still supersedes the older one: serving "old" would be serving a stale value.
        { key: 'superseded', value: Buffer.alloc(65, 0x78), partition: 0 },
        { key: 'huge', value: Buffer.alloc(512 * 1024, 0x78), partition: 0 },
        { key: 'after', value: 'fine', partition: 0 },
      ],
    });
    await waitFor(async () => (await httpRequest(`${node.httpUrl}/rpc?key=after`)).status === 200, { timeoutMs: 10_000, description: 'the record after the bad ones' });
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=superseded`)).status, 404, 'the superseded value is still served');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=huge`)).status, 404);
    const expected = { null_key: 1, invalid_key: 3, key_too_large: 2, value_too_large: 2 };
    const metrics = (await httpRequest(`${node.httpUrl}/metrics`)).body.toString('utf8');
    for (const [reason, count] of Object.entries(expected)) {
      const line = new RegExp(`^bitacora_records_skipped_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)$`, 'm').exec(metrics);
      assert.equal(Number(line?.[1]), count, `bitacora_records_skipped_total{reason="${reason}"}`);
    }
    const stats = (await httpRequest(`${node.httpUrl}/stats`)).json;
    assert.deepEqual(stats.recordsSkipped, expected);
    assert.equal(stats.entries, 1, 'only "after" is held');
    assert.equal(node.status, 'ready');
  });
});

/** The answer as a response, failing the test when the connection ended instead. */
function response(answer: RawAnswer, what = 'the request'): Exclude<RawAnswer, { closed: unknown }> {
  if (isClosed(answer)) assert.fail(`${what}: the connection ended (${answer.closed}) without an answer`);
  return answer;
}
