import assert from 'node:assert/strict';
import net from 'node:net';
import { createAvroClient, type AvroClient } from '../../src/client/avro-client';
import { BitacoraClientError } from '../../src/client/client-error';
import { readProtocol } from '../../src/rpc/avro-protocol';
import { Service } from 'avsc';
import type { BitacoraNode } from '../../src/node/create-node';
import { serverService } from '../../src/rpc/avro-protocol';
import { httpRequest } from '../helpers/http-client';
import { callPayload, decodeAnswer, RawAvroConnection, summarize } from '../helpers/raw-avro';
import { SeededRandom } from '../helpers/seeded-random';
import { startTestNode } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';

/** Records what a real client sends to the node (handshake and calls), forwarding both ways. */
async function recordSession(target: string, session: (client: AvroClient) => Promise<void>): Promise<Buffer> {
  const [host, port] = target.split(':');
  const recorded: Buffer[] = [];
  const recorder = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    client.on('data', (chunk: Buffer) => recorded.push(Buffer.from(chunk)));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const client = await createAvroClient({ addresses: [`127.0.0.1:${(recorder.address() as net.AddressInfo).port}`] });
  try {
    await session(client);
  } finally {
    await client.close();
    await new Promise<void>((resolve) => recorder.close(() => resolve()));
  }
  return Buffer.concat(recorded);
}

/** Sends raw bytes on a fresh connection and waits (bounded) for the node to answer or close it. */
function sendRaw(address: string, bytes: Buffer, waitMs = 150): Promise<void> {
  const [host, port] = address.split(':');
  return new Promise<void>((resolve) => {
    const socket = net.connect(Number(port), host, () => socket.end(bytes));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', () => undefined);
    socket.on('close', done);
    socket.on('error', done);
  });
}

function mutate(bytes: Buffer, rnd: () => number): Buffer {
  const copy = Buffer.from(bytes);
  switch (Math.floor(rnd() * 4)) {
    case 0: // flip a few bytes
      for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) copy[Math.floor(rnd() * copy.length)] = Math.floor(rnd() * 256);
      return copy;
    case 1: // cut it short
      return copy.subarray(0, Math.floor(rnd() * copy.length));
    case 2: // an absurd or negative length somewhere
      copy.writeInt32BE(rnd() < 0.5 ? 0x7fffffff : -1 - Math.floor(rnd() * 1000), Math.floor(rnd() * Math.max(1, copy.length - 4)));
      return copy;
    default: // a slice repeated
      return Buffer.concat([copy, copy.subarray(Math.floor(rnd() * copy.length))]);
  }
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

async function stillServes(node: BitacoraNode, control: AvroClient): Promise<void> {
  assert.equal(node.status, 'ready');
  assert.equal((await control.get('control'))?.value.toString(), 'intact');
  await control.set('control-2', 'written after');
  assert.equal((await control.get('control-2'))?.value.toString(), 'written after');
}

describe('Avro socket under malformed input', () => {
  it('survives random bytes and mutated real frames, closing only the offending connections', async function () {
    this.timeout(40_000);
    const node = await startTestNode();
    const control = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('control client', () => control.close());
    await control.set('control', 'intact');

    const session = await recordSession(node.avroAddress, async (client) => {
      await client.get('fuzz-a');
      await client.set('fuzz-b', 'value');
      await client.multiGet(['fuzz-a', 'fuzz-b']);
    });
    assert.ok(session.length > 100, 'nothing was recorded');

    const seeded = new SeededRandom(20261122);
    const rnd = (): number => seeded.next();
    const inputs: Buffer[] = [];
    for (let i = 0; i < 300; i++) inputs.push(Buffer.from(Array.from({ length: Math.floor(rnd() * 2048) }, () => Math.floor(rnd() * 256))));
    for (let i = 0; i < 700; i++) inputs.push(mutate(session, rnd));
    await inBatches(inputs, 25, (bytes) => sendRaw(node.avroAddress, bytes));

    await stillServes(node, control);
  });

  it('closes a connection that announces an absurd frame, without buffering for it', async () => {
    const node = await startTestNode();
    const control = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('control client', () => control.close());
    await control.set('control', 'intact');
    const [host, port] = node.avroAddress.split(':');
    for (const header of [
      [0, 1, 0x7fffffff], // one frame of 2 GiB
      [0, 0x7fffffff], // two billion frames
      [0, 1, -5], // a negative length
      [0, 0], // no frames at all
    ]) {
      const bytes = Buffer.alloc(header.length * 4);
      header.forEach((value, i) => bytes.writeInt32BE(value, i * 4));
      const closed = await new Promise<boolean>((resolve) => {
        const socket = net.connect(Number(port), host, () => socket.write(bytes));
        const timer = setTimeout(() => {
          socket.destroy();
          resolve(false);
        }, 3_000);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
        socket.on('error', () => undefined);
      });
      assert.ok(closed, `the node kept a connection open after ${JSON.stringify(header)}`);
    }
    await stillServes(node, control);
  });

  it('answers an unknown message and a foreign protocol with an error, and goes on', async () => {
    const node = await startTestNode();
    const control = await createAvroClient({ addresses: [node.avroAddress] });
    onTeardown('control client', () => control.close());
    await control.set('control', 'intact');

    const ours = readProtocol();
    delete (ours.messages as Record<string, unknown>).delete;
    const withUnknown = { ...ours, messages: { ...ours.messages, frobnicate: { request: [{ name: 'x', type: 'int' }], response: 'null' } } };
    const foreign = { protocol: 'Other', namespace: 'org.example', messages: { get: { request: [{ name: 'id', type: 'int' }], response: 'int' } } };
    for (const [protocol, message, request] of [
      [withUnknown, 'frobnicate', { x: 1 }],
      [foreign, 'get', { id: 7 }],
    ] as const) {
      const [host, port] = node.avroAddress.split(':');
      const socket = net.connect(Number(port), host);
      socket.setNoDelay(true);
      onTeardown('raw socket', () => socket.destroy());
      const client = Service.forProtocol(protocol).createClient({ timeout: 3_000 } as object) as unknown as {
        createChannel(s: net.Socket): unknown;
        emitMessage(name: string, req: object, opts: object, cb: (error: unknown) => void): void;
      };
      client.createChannel(socket);
      const error = await new Promise<unknown>((resolve) => client.emitMessage(message, request, {}, resolve));
      assert.ok(error, `${(protocol as { protocol: string }).protocol}.${message} did not fail`);
    }
    await stillServes(node, control);
    await assert.rejects(control.get(''), (e: unknown) => e instanceof BitacoraClientError && e.code === 'KEY_MISSING');
  });

  // Regression: avsc's server channel answers only ids whose top 16 bits match its scope and drops the rest without
  // a word. Java's NettyTransceiver numbers its calls 1, 2, 3…: its 65,536th call on a connection hung.
  it('answers a call whatever its serial, past 65,535 and negative ones too', async () => {
    const node = await startTestNode();
    const service = serverService();
    const connection = await RawAvroConnection.open(node.avroAddress, service);
    onTeardown('raw Avro connection', () => connection.destroy());
    for (const serial of [1, 65_535, 65_536, 0x12345678, 0x7fffffff, -1, -65_536]) {
      const answer = await connection.call(serial, callPayload('get', Buffer.from('absent')), 1, 10_000);
      assert.notEqual(answer, 'closed', `serial ${serial}`);
      assert.deepEqual(decodeAnswer(service, 'get', answer as Buffer), { ok: true, response: null }, `serial ${serial}`);
    }
  });

  // Regression: avsc decodes an Avro string with replacement characters, so a key that is not UTF-8 was stored under
  // a mangled key ("\uFFFD\uFFFD" for FF FE) where HTTP refuses it with KEY_INVALID.
  it('refuses a key that is not UTF-8 with KEY_INVALID, as HTTP does, and stores nothing', async () => {
    const node = await startTestNode();
    const service = serverService();
    const connection = await RawAvroConnection.open(node.avroAddress, service);
    onTeardown('raw Avro connection', () => connection.destroy());
    const bad = Buffer.from([0x6b, 0xff, 0xfe]);
    const calls: Array<[string, Buffer, 'declared' | 'system']> = [
      ['get', callPayload('get', bad), 'declared'],
      ['set', callPayload('set', bad, Buffer.from('v')), 'declared'],
      ['remove', callPayload('remove', bad), 'declared'],
      ['multiGet', callPayload('multiGet', [Buffer.from('fine'), bad]), 'declared'],
      ['getValue', callPayload('getValue', bad), 'system'],
      ['setValue', callPayload('setValue', bad, Buffer.from('v')), 'system'],
      ['delete', callPayload('delete', bad), 'system'],
    ];
    let serial = 1;
    for (const [message, payload, kind] of calls) {
      const answer = decodeAnswer(service, message, (await connection.call(serial++, payload, 1, 10_000)) as Buffer);
      if (kind === 'declared') assert.equal(summarize(answer), 'BadInput KEY_INVALID', message);
      else assert.match(summarize(answer), /^system KEY_INVALID: /, message);
    }
    assert.equal((await httpRequest(`${node.httpUrl}/rpc?key=k%EF%BF%BD%EF%BF%BD`)).status, 404, 'a mangled key was stored');
    assert.equal((await httpRequest(`${node.httpUrl}/stats`)).json.entries, 0);
  });
});
