import assert from 'node:assert/strict';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startTestNode } from '../helpers/test-node';

describe('HTTP /rpc on a real broker', () => {
  it('writes, reads and deletes a key, reading its own writes at once', async () => {
    const node = await startTestNode();
    const written = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting', 'hola')}`, { method: 'POST' });
    assert.equal(written.status, 200);
    assert.equal(written.json.key, 'greeting');
    assert.equal(typeof written.json.partition, 'number');
    assert.equal(typeof written.json.offset, 'number');

    const read = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`);
    assert.equal(read.status, 200);
    assert.deepEqual(
      { key: read.json.key, value: read.json.value, encoding: read.json.encoding, partition: read.json.partition, offset: read.json.offset, source: read.json.source },
      { key: 'greeting', value: 'hola', encoding: 'utf8', partition: written.json.partition, offset: written.json.offset, source: 'local' },
    );
    assert.ok(Math.abs(read.json.timestamp - Date.now()) < 60_000);

    const overwritten = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting', 'adiós')}`, { method: 'POST' });
    assert.ok(overwritten.json.offset > written.json.offset);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`)).json.value, 'adiós');

    const deleted = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.deleted, true);
    const gone = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'NOT_FOUND');
  });

  it('keeps binary values intact, from a body and from a percent-encoded query', async () => {
    const node = await startTestNode();
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x0d, 0x25, 0xc3]);
    const fromBody = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('bin')}`, {
      method: 'POST',
      body: bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(fromBody.status, 200);
    const raw = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('bin')}`, { headers: { Accept: 'application/octet-stream' } });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.body, bytes);
    assert.equal(raw.headers.get('x-bitacora-offset'), String(fromBody.json.offset));
    const asJson = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('bin')}`);
    assert.equal(asJson.json.encoding, 'base64');
    assert.deepEqual(Buffer.from(asJson.json.value, 'base64'), bytes);

    const fromQuery = await httpRequest(`${node.httpUrl}/rpc?key=bin2&value=%00%FF%C3`, { method: 'POST' });
    assert.equal(fromQuery.status, 200);
    const raw2 = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('bin2')}`, { headers: { Accept: 'application/octet-stream' } });
    assert.deepEqual([...raw2.body], [0x00, 0xff, 0xc3]);

    const empty = await httpRequest(`${node.httpUrl}/rpc?key=empty&value=`, { method: 'POST' });
    assert.equal(empty.status, 200);
    const emptyRead = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('empty')}`);
    assert.equal(emptyRead.status, 200);
    assert.equal(emptyRead.json.value, '');
  });

  it('answers HEAD like GET without a body', async () => {
    const node = await startTestNode();
    await httpRequest(`${node.httpUrl}/rpc${rpcQuery('h', 'v')}`, { method: 'POST' });
    const head = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('h')}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('absent')}`, { method: 'HEAD' })).status, 404);
  });

  it('serves many concurrent writes, each readable once acknowledged', async () => {
    const node = await startTestNode();
    const writes = Array.from({ length: 200 }, (_, i) =>
      httpRequest(`${node.httpUrl}/rpc${rpcQuery(`k${i}`, `v${i}`)}`, { method: 'POST' }).then(async (answer) => {
        assert.equal(answer.status, 200);
        const read = await httpRequest(`${node.httpUrl}/rpc${rpcQuery(`k${i}`)}`);
        assert.equal(read.json.value, `v${i}`);
      }),
    );
    await Promise.all(writes);
    assert.equal(node.store.size, 200);
  });

  it('answers the local-only lookup /rpc/cluster with the entry or "absent as of position"', async () => {
    const node = await startTestNode();
    const written = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('c', 'x')}`, { method: 'POST' });
    const found = await httpRequest(`${node.httpUrl}/rpc/cluster${rpcQuery('c')}`);
    assert.equal(found.status, 200);
    assert.equal(found.json.value, 'x');
    assert.equal(found.json.offset, written.json.offset);
    assert.ok(found.json.position > written.json.offset);
    const absent = await httpRequest(`${node.httpUrl}/rpc/cluster${rpcQuery('nope')}`);
    assert.equal(absent.status, 404);
    assert.equal(absent.json.error.code, 'NOT_FOUND');
    assert.equal(typeof absent.json.error.partition, 'number');
    assert.equal(typeof absent.json.error.position, 'number');
    assert.equal((await httpRequest(`${node.httpUrl}/rpc/cluster${rpcQuery('c')}`, { method: 'HEAD' })).status, 200);
  });
});
