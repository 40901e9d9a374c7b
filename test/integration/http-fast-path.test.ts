import assert from 'node:assert/strict';
import http from 'node:http';
import type { BitacoraNode } from '../../src/node/create-node';
import { sample } from '../helpers/prometheus';
import { isClosed, type RawAnswer, RawHttpConnection, type RawResponse } from '../helpers/raw-http';
import { startTestNode } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';

/** Connections the node's fast path handed to node:http so far, by reason. */
async function handOffs(node: BitacoraNode, reason: 'shape' | 'unauthorized'): Promise<number> {
  return sample(await node.metrics.registry.metrics(), 'bitacora_http_handoffs_total', { reason }) ?? 0;
}

function port(node: BitacoraNode): number {
  return Number(new URL(node.httpUrl).port);
}

async function openRaw(node: BitacoraNode): Promise<RawHttpConnection> {
  const connection = await RawHttpConnection.open(port(node));
  onTeardown('raw HTTP connection', () => connection.destroy());
  return connection;
}

function response(answer: RawAnswer): RawResponse {
  if (isClosed(answer)) throw new Error(`the connection closed (${answer.closed}) instead of answering; partial: ${JSON.stringify(answer.partial.toString('latin1'))}`);
  return answer;
}

const get = (key: string): string => `GET /rpc?key=${key} HTTP/1.1\r\nHost: t\r\n\r\n`;
const postBody = (key: string, value: string): string => `POST /rpc?key=${key} HTTP/1.1\r\nHost: t\r\nContent-Length: ${Buffer.byteLength(value)}\r\n\r\n${value}`;

describe('HTTP fast path (plain /rpc requests without node:http), and its hand-off to node:http', () => {
  it('answers pipelined /rpc requests in order, reading its own writes, without handing the connection over', async () => {
    const node = await startTestNode();
    const before = await handOffs(node, 'shape');
    const raw = await openRaw(node);
    raw.write(Buffer.from(postBody('fp1', 'uno') + get('fp1') + `POST /rpc?key=fp1&value=dos HTTP/1.1\r\nHost: t\r\n\r\n` + get('fp1') + `DELETE /rpc?key=fp1 HTTP/1.1\r\nHost: t\r\n\r\n` + get('fp1')));
    const answers: RawResponse[] = [];
    for (let i = 0; i < 6; i++) answers.push(response(await raw.read({ head: false, timeoutMs: 10_000 })));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 404],
    );
    assert.equal(answers[1]!.json.value, 'uno');
    assert.equal(answers[3]!.json.value, 'dos');
    assert.equal(answers[4]!.json.deleted, true);
    assert.equal(answers[5]!.json.error.code, 'NOT_FOUND');
    // The same headers node:http writes on a keep-alive answer.
    assert.equal(answers[0]!.headers.get('connection'), 'keep-alive');
    assert.equal(answers[0]!.headers.get('keep-alive'), 'timeout=65');
    assert.ok(answers[0]!.headers.get('date'));
    assert.equal(answers[0]!.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await handOffs(node, 'shape'), before);
  });

  it('hands the connection to node:http at the first request of another shape, with every byte after it', async () => {
    const node = await startTestNode();
    const before = await handOffs(node, 'shape');
    const raw = await openRaw(node);
    // A write whose answer waits for Kafka, then /stats (node:http and express) in the same packet, then /rpc
    // requests that node:http now serves, one of them chunked.
    raw.write(
      Buffer.from(
        postBody('fp2', 'tres') +
          'GET /stats HTTP/1.1\r\nHost: t\r\n\r\n' +
          get('fp2') +
          'POST /rpc?key=fp2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ncuatro\r\n0\r\n\r\n',
      ),
    );
    const written = response(await raw.read({ head: false, timeoutMs: 10_000 }));
    assert.equal(written.status, 200);
    assert.equal(written.json.key, 'fp2');
    const stats = response(await raw.read({ head: false, timeoutMs: 10_000 }));
    assert.equal(stats.status, 200);
    assert.equal(typeof stats.json.entries, 'number');
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).json.value, 'tres');
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).status, 200);
    assert.equal(await handOffs(node, 'shape'), before + 1);
    // The connection stays usable, on node:http (which, unlike the fast path, runs pipelined requests at once: the
    // read is sent once the write is answered).
    raw.write(Buffer.from(get('fp2')));
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).json.value, 'cuatro');
    assert.equal(await handOffs(node, 'shape'), before + 1);
  });

  it('waits for a head or a body that arrives in pieces, on the fast path', async () => {
    const node = await startTestNode();
    const before = await handOffs(node, 'shape');
    const raw = await openRaw(node);
    const value = 'v'.repeat(5000);
    const request = Buffer.from(postBody('fp3', value));
    raw.write(request.subarray(0, 100));
    await new Promise((resolve) => setTimeout(resolve, 150));
    raw.write(request.subarray(100, 3000));
    await new Promise((resolve) => setTimeout(resolve, 150));
    raw.write(request.subarray(3000));
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).status, 200);
    raw.write(Buffer.from(get('fp3')));
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).json.value, value);
    assert.equal(await handOffs(node, 'shape'), before, 'a body in pieces stays on the fast path');

    const split = await openRaw(node);
    split.write(Buffer.from('GET /rpc?key=fp3 HTTP/1.1\r\nHo'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    split.write(Buffer.from('st: t\r\n\r\n'));
    assert.equal(response(await split.read({ head: false, timeoutMs: 10_000 })).json.value, value);
    assert.equal(await handOffs(node, 'shape'), before, 'a head in pieces stays on the fast path');
  });

  it('closes after the answer when asked, and after the client half-closes', async () => {
    const node = await startTestNode();
    const raw = await openRaw(node);
    raw.write(Buffer.from(`GET /rpc?key=nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`));
    const answer = response(await raw.read({ head: false, timeoutMs: 10_000 }));
    assert.equal(answer.status, 404);
    assert.equal(answer.headers.get('connection'), 'close');
    assert.equal(await raw.waitClosed(5_000), true);

    const halfClosed = await openRaw(node);
    halfClosed.write(Buffer.from(postBody('fp4', 'cinco') + get('fp4')));
    halfClosed.halfClose();
    assert.equal(response(await halfClosed.read({ head: false, timeoutMs: 10_000 })).status, 200);
    assert.equal(response(await halfClosed.read({ head: false, timeoutMs: 10_000 })).json.value, 'cinco');
    assert.equal(await halfClosed.waitClosed(5_000), true);
  });

  it('answers HEAD with the headers of the GET and no body', async () => {
    const node = await startTestNode();
    const raw = await openRaw(node);
    raw.write(Buffer.from(postBody('fp5', 'seis') + `HEAD /rpc?key=fp5 HTTP/1.1\r\nHost: t\r\n\r\n` + `HEAD /rpc?key=fp5 HTTP/1.1\r\nHost: t\r\nAccept: application/octet-stream\r\n\r\n` + get('fp5')));
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).status, 200);
    const json = response(await raw.read({ head: true, timeoutMs: 10_000 }));
    assert.equal(json.status, 200);
    assert.equal(json.body.length, 0);
    const rawValue = response(await raw.read({ head: true, timeoutMs: 10_000 }));
    assert.equal(rawValue.headers.get('content-length'), '4');
    assert.equal(rawValue.headers.get('content-type'), 'application/octet-stream');
    // Had either HEAD answer carried a body, this answer would be read from the wrong bytes.
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).json.value, 'seis');
  });

  it('hands a request with a refused token to node:http, which answers 401; a good token stays on the fast path', async () => {
    const token = 'fast-path-token-0123456789';
    const node = await startTestNode({ AUTH_TOKEN: token });
    const raw = await openRaw(node);
    raw.write(Buffer.from(`GET /rpc?key=fp6 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${token}\r\n\r\n`));
    assert.equal(response(await raw.read({ head: false, timeoutMs: 10_000 })).status, 404);
    assert.equal(await handOffs(node, 'unauthorized'), 0);
    raw.write(Buffer.from(`GET /rpc?key=fp6 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer wrong-token-0123456789\r\n\r\n`));
    const refused = response(await raw.read({ head: false, timeoutMs: 10_000 }));
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error.code, 'UNAUTHORIZED');
    assert.equal(await handOffs(node, 'unauthorized'), 1);
  });

  it('serves clients that keep connections alive (node:http agent) on the fast path', async () => {
    const node = await startTestNode();
    const before = await handOffs(node, 'shape');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    onTeardown('http agent', () => agent.destroy());
    const call = (method: string, path: string, body?: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request(`${node.httpUrl}${path}`, { method, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    await Promise.all(Array.from({ length: 40 }, (_, i) => call('POST', `/rpc?key=agent${i}`, `value${i}`)));
    const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => call('GET', `/rpc?key=agent${i}`)));
    reads.forEach((read, i) => assert.equal(JSON.parse(read.body).value, `value${i}`));
    assert.equal(await handOffs(node, 'shape'), before);
  });
});
