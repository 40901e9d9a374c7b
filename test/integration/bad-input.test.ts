import assert from 'node:assert/strict';
import net from 'node:net';
import { foreignAdmin, recordsInTopic } from '../helpers/kafka-client';
import { httpRequest } from '../helpers/http-client';
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
});
