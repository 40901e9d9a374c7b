import assert from 'node:assert/strict';
import { BitacoraClientError } from '../../src/client/client-error';
import { createAvroClient } from '../../src/client/avro-client';
import { EXIT_CODES } from '../../src/errors/error-codes';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { runBitacora } from '../helpers/node-process';
import { onTeardown } from '../helpers/teardown';
import { startTestNode } from '../helpers/test-node';

/** The error an Avro call failed with. */
async function avroFailure(call: Promise<unknown>): Promise<BitacoraClientError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof BitacoraClientError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

function requests(metrics: string, labels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('bitacora_requests_total{') && labels.split(',').every((label) => l.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

// Regression tests of issue #15: each front-end used to decode, validate, map errors and count on its own, and they disagreed.
describe('the same command gives the same outcome on every front-end', () => {
  it('an absent key: 404 NOT_FOUND, null, exit 1, and not_found in the metrics of both HTTP and Avro', async () => {
    const node = await startTestNode();
    const client = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('client', () => client.close());
    const http = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('nowhere')}`);
    assert.equal(http.status, 404);
    assert.equal(http.json.error.code, 'NOT_FOUND');
    assert.equal(await client.get('nowhere'), null);
    assert.deepEqual(await runBitacora(['get', 'nowhere'], { AVRO_ADDRESSES: node.avroAddress }), { code: EXIT_CODES.negative, stdout: '', stderr: '' });
    const metrics = (await httpRequest(`${node.httpUrl}/metrics`)).body.toString();
    assert.equal(requests(metrics, 'interface="http",operation="get",outcome="not_found"'), 1);
    // The Avro client's call and the CLI's.
    assert.equal(requests(metrics, 'interface="avro",operation="get",outcome="not_found"'), 2);
  });

  it('an empty key: KEY_MISSING with the same words over HTTP, Avro and the CLI (no HTTP-only hint)', async () => {
    const node = await startTestNode();
    const client = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('client', () => client.close());
    const http = await httpRequest(`${node.httpUrl}/rpc?key=`);
    assert.equal(http.status, 400);
    assert.equal(http.json.error.code, 'KEY_MISSING');
    const avro = await avroFailure(client.get(''));
    assert.equal(avro.code, 'KEY_MISSING');
    assert.equal(avro.message, http.json.error.message);
    assert.doesNotMatch(avro.message, /\?key=/);
    const run = await runBitacora(['get', ''], { AVRO_ADDRESSES: node.avroAddress });
    assert.equal(run.code, EXIT_CODES.usage);
    assert.ok(run.stderr.includes(`KEY_MISSING: ${http.json.error.message}`), run.stderr);
  });

  it('more than 1,000 keys at once: TOO_MANY_KEYS over Avro and the CLI, not KEY_INVALID', async () => {
    const node = await startTestNode();
    const client = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('client', () => client.close());
    const keys = Array.from({ length: 1_001 }, (_, i) => `k${i}`);
    const avro = await avroFailure(client.multiGet(keys));
    assert.equal(avro.code, 'TOO_MANY_KEYS');
    assert.equal(avro.kind, 'bad-input');
    const run = await runBitacora(['mget', ...keys], { AVRO_ADDRESSES: node.avroAddress });
    assert.equal(run.code, EXIT_CODES.usage);
    assert.match(run.stderr, /TOO_MANY_KEYS: mget names 1001 keys/);
  });
});
