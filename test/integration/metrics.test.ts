import assert from 'node:assert/strict';
import { createAvroClient } from '../../src/client/avro-client';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { startTestNode } from '../helpers/test-node';
import { sample } from '../helpers/prometheus';
import { onTeardown } from '../helpers/teardown';

describe('GET /metrics', () => {
  it('counts what the node really did, on both interfaces', async () => {
    const node = await startTestNode();
    for (let i = 0; i < 5; i++) await httpRequest(`${node.httpUrl}/rpc${rpcQuery(`k${i}`, 'v')}`, { method: 'POST' });
    await httpRequest(`${node.httpUrl}/rpc${rpcQuery('k1')}`);
    await httpRequest(`${node.httpUrl}/rpc${rpcQuery('absent')}`);
    await httpRequest(`${node.httpUrl}/rpc?key=`);
    const client = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('client', () => client.close());
    await client.get('k2');
    await client.set('k5', 'v');
    // An absent key is the same outcome on every front-end, and peers' lookups are counted like any command.
    assert.equal(await client.get('absent'), null);
    await httpRequest(`${node.httpUrl}/rpc/cluster${rpcQuery('k1')}`);
    await httpRequest(`${node.httpUrl}/rpc/cluster${rpcQuery('absent')}`);

    const answer = await httpRequest(`${node.httpUrl}/metrics`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /text\/plain/);
    const text = answer.body.toString();
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'http', operation: 'set', outcome: 'ok' }), 5);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'http', operation: 'get', outcome: 'ok' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'http', operation: 'get', outcome: 'not_found' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'http', operation: 'get', outcome: 'client_error' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'avro', operation: 'get', outcome: 'ok' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'avro', operation: 'set', outcome: 'ok' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'avro', operation: 'get', outcome: 'not_found' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'http', operation: 'lookup', outcome: 'ok' }), 1);
    assert.equal(sample(text, 'bitacora_requests_total', { interface: 'http', operation: 'lookup', outcome: 'not_found' }), 1);
    assert.equal(sample(text, 'bitacora_entries', { node: node.config.nodeName }), 6);
    assert.equal(sample(text, 'bitacora_records_applied_total'), 6);
    assert.equal(sample(text, 'bitacora_cache_hits_total'), 2);
    assert.equal(sample(text, 'bitacora_cache_misses_total'), 2);
    assert.equal(sample(text, 'bitacora_ready'), 1);
    assert.equal(sample(text, 'bitacora_zookeeper_registered'), 1);
    assert.ok((sample(text, 'bitacora_produce_requests_total') ?? 0) >= 1);
    assert.equal(sample(text, 'bitacora_produce_records_total'), 6);
    assert.ok((sample(text, 'bitacora_request_duration_seconds_count', { interface: 'http', operation: 'set' }) ?? 0) === 5);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
    const lag = [0, 1, 2].map((p) => sample(text, 'bitacora_partition_lag', { partition: String(p) }));
    assert.deepEqual(lag, [0, 0, 0]);
  });
});
