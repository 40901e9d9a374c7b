import assert from 'node:assert/strict';
import { httpRequest, rpcQuery } from '../helpers/http-client';
import { buildJavaAvroClient, runJavaAvroClient } from '../helpers/java-avro-client';
import { startTestNode } from '../helpers/test-node';

/** The line the Java client prints for a string value: JSON, so any character survives the trip. */
const value = (text: string): string => `VALUE ${JSON.stringify(text)}`;

// Avro's Java NettyTransceiver + GenericRequestor with the ORIGINAL protocol, against a node serving the full one:
// what a client generated from the original Bitacora protocol does, handshake resolution included.
describe('Avro RPC from Avro Java (original protocol, Netty transport)', () => {
  before(async function () {
    // The first build on a machine downloads Avro and Netty from Maven Central; later ones take seconds.
    this.timeout(300_000);
    await buildJavaAvroClient();
  });

  it('reads with getValue what setValue wrote, and HTTP reads the same value', async () => {
    const node = await startTestNode();
    const answers = await runJavaAvroClient(node.avroAddress, [
      ['set', 'greeting', 'hola'],
      ['get', 'greeting'],
      ['set', 'añejo', 'añejo ☕'],
      ['get', 'añejo'],
    ]);
    assert.deepEqual(answers, ['OK', value('hola'), 'OK', value('añejo ☕')]);

    const greeting = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('greeting')}`);
    assert.equal(greeting.status, 200);
    assert.deepEqual({ value: greeting.json.value, encoding: greeting.json.encoding }, { value: 'hola', encoding: 'utf8' });
    const nonAscii = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('añejo')}`, { headers: { Accept: 'application/octet-stream' } });
    assert.equal(nonAscii.status, 200);
    assert.deepEqual(nonAscii.body, Buffer.from('añejo ☕', 'utf8'));
  });

  it('reads what HTTP wrote, deletes it, and answers null for keys never written', async () => {
    const node = await startTestNode();
    const written = await httpRequest(`${node.httpUrl}/rpc${rpcQuery('from-http', 'escrito ☕')}`, { method: 'POST' });
    assert.equal(written.status, 200);

    // A second connection below: each one does its own handshake.
    assert.deepEqual(await runJavaAvroClient(node.avroAddress, [['get', 'from-http'], ['get', 'never-written']]), [value('escrito ☕'), 'NULL']);
    assert.deepEqual(await runJavaAvroClient(node.avroAddress, [['del', 'from-http'], ['get', 'from-http']]), ['OK', 'NULL']);
    assert.equal((await httpRequest(`${node.httpUrl}/rpc${rpcQuery('from-http')}`)).status, 404);
  });

  it('answers an invalid request with an Avro error and keeps serving the connection', async () => {
    const node = await startTestNode();
    const [invalid, ...rest] = await runJavaAvroClient(node.avroAddress, [
      ['set', '', 'no key'],
      ['set', 'after-error', 'still here'],
      ['get', 'after-error'],
    ]);
    // The original messages declare no errors, so the error travels as an Avro system error (a string), which
    // Java's GenericRequestor raises as a plain AvroRuntimeException.
    assert.match(invalid ?? '', /^ERROR org\.apache\.avro\.AvroRuntimeException: .*key/i);
    assert.deepEqual(rest, ['OK', value('still here')]);
  });

  it('sends AUTH_TOKEN in the handshake meta from an RPCPlugin, and is refused without it', async () => {
    const token = 'java-interop-token-0123456789';
    const node = await startTestNode({ AUTH_TOKEN: token });
    assert.deepEqual(await runJavaAvroClient(node.avroAddress, [['set', 'guarded', 'ok'], ['get', 'guarded']], undefined, { authToken: token }), ['OK', value('ok')]);
    const refused = await runJavaAvroClient(node.avroAddress, [['get', 'guarded']], 20_000).then(
      (lines) => lines.join('\n'),
      (error: unknown) => String(error),
    );
    // Java's requestor raises the system error that follows the refused handshake.
    assert.match(refused, /^ERROR org\.apache\.avro\.AvroRuntimeException: UNAUTHORIZED: .*AUTH_TOKEN/, 'a Java client without the token was not refused clearly');
    assert.doesNotMatch(refused, /VALUE/);
  });
});
