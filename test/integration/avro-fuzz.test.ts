import assert from 'node:assert/strict';
import net from 'node:net';
import { createAvroClient, type AvroClient } from '../../src/client/avro-client';
import { BitacoraClientError } from '../../src/client/client-error';
import { readProtocol } from '../../src/rpc/avro-protocol';
import { Service } from 'avsc';
import type { BitacoraNode } from '../../src/node/create-node';
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

/** A seeded generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
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

    const rnd = random(20261122);
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
});
