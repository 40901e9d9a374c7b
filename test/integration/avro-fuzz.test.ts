import assert from 'node:assert/strict';
import net from 'node:net';
import { createAvroClient, type AvroClient } from '../../src/client/avro-client';
import { BitacoraClientError } from '../../src/client/client-error';
import { readProtocol, serverService } from '../../src/rpc/avro-protocol';
import { MAX_KEYS_PER_COMMAND } from '../../src/commands/key-validation';
import { Service } from 'avsc';
import type { BitacoraNode } from '../../src/node/create-node';
import { AcknowledgedModel } from '../helpers/acknowledged-model';
import { type AvroCall, type AvroCase, AvroCaseGenerator } from '../helpers/avro-fuzz-cases';
import { httpRequest } from '../helpers/http-client';
import { assertHoldsAcknowledged } from '../helpers/node-contents';
import { callPayload, decodeAnswer, frame, RawAvroConnection, summarize } from '../helpers/raw-avro';
import { fuzzSeed, SeededRandom } from '../helpers/seeded-random';
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

  it('answers 4,000 generated calls as documented, and holds exactly what it acknowledged', async function () {
    this.timeout(240_000);
    const limits = { maxKeyBytes: 48, maxValueBytes: 512 };
    const node = await startTestNode({ MAX_KEY_BYTES: String(limits.maxKeyBytes), MAX_VALUE_BYTES: String(limits.maxValueBytes) });
    // The largest message the node takes (docs/api.md): framing cases declare more.
    const maxMessageBytes = limits.maxKeyBytes * MAX_KEYS_PER_COMMAND + limits.maxValueBytes + 64 * 1024;
    const seed = fuzzSeed();
    const run: AvroRun = { seed, node, service: serverService(), model: new AcknowledgedModel(), failures: [], tally: new Map(), calls: 0 };
    const generator = new AvroCaseGenerator(seed, limits, maxMessageBytes);
    const started = Date.now();
    let next = 0;
    const take = (): AvroCase | undefined => (next < AVRO_CASES && run.failures.length < 5 ? generator.generate(next++) : undefined);
    await Promise.all(Array.from({ length: 12 }, () => avroWorker(run, take)));
    if (run.failures.length > 0) assert.fail(`FUZZ_SEED=${seed} replays this run:\n${run.failures.join('\n\n')}`);
    await assertHoldsAcknowledged(node, run.model, seed);
    const fresh = await RawAvroConnection.open(node.avroAddress, run.service);
    onTeardown('raw Avro connection', () => fresh.destroy());
    assert.equal(summarize(decodeAnswer(run.service, 'get', (await fresh.call(1, callPayload('get', Buffer.from('a0')))) as Buffer)), 'ok');
    const summary = [...run.tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`      seed ${seed}: ${AVRO_CASES} cases, ${run.calls} calls, ${run.model.acknowledgedWrites} writes acknowledged, in ${Date.now() - started} ms; ${summary}`);
  });
});

const AVRO_CASES = 4_000;
const AVRO_ANSWER_TIMEOUT_MS = 20_000;

interface AvroRun {
  readonly seed: number;
  readonly node: BitacoraNode;
  readonly service: Service;
  readonly model: AcknowledgedModel;
  readonly failures: string[];
  readonly tally: Map<string, number>;
  calls: number;
}

async function avroWorker(run: AvroRun, take: () => AvroCase | undefined): Promise<void> {
  let connection: RawAvroConnection | undefined;
  try {
    for (let fuzzCase = take(); fuzzCase; fuzzCase = take()) {
      try {
        if (fuzzCase.framing) {
          await runFraming(run, fuzzCase.framing);
          continue;
        }
        if (!connection || connection.isEnded) connection = await RawAvroConnection.open(run.node.avroAddress, run.service);
        run.calls += fuzzCase.calls.length;
        await runCalls(run, connection, fuzzCase);
      } catch (error) {
        run.failures.push(
          [
            `case ${fuzzCase.index} (seed ${run.seed}): ${fuzzCase.label}`,
            ...fuzzCase.calls.map((c) => `  call ${c.serial} ${c.message ?? '(unknown)'} in ${c.frames} frame(s): 0x${c.payload.toString('hex').slice(0, 300)}`),
            fuzzCase.framing ? `  bytes 0x${fuzzCase.framing.bytes.toString('hex').slice(0, 300)}` : '',
            `  ${error instanceof Error ? error.message : String(error)}`,
          ].join('\n'),
        );
        connection?.destroy();
        connection = undefined;
      }
    }
  } finally {
    connection?.destroy();
  }
}

/** Bytes that break the framing, on a connection of their own: the node must close it. */
async function runFraming(run: AvroRun, framing: NonNullable<AvroCase['framing']>): Promise<void> {
  const connection = framing.handshake ? await RawAvroConnection.open(run.node.avroAddress, run.service) : await RawAvroConnection.connect(run.node.avroAddress);
  try {
    connection.write(framing.bytes);
    if (framing.halfClose) connection.halfClose();
    if (!(await connection.waitClosed(AVRO_ANSWER_TIMEOUT_MS))) throw new Error('the node kept the connection open');
    count(run.tally, 'closed for its framing');
  } finally {
    connection.destroy();
  }
}

async function runCalls(run: AvroRun, connection: RawAvroConnection, fuzzCase: AvroCase): Promise<void> {
  if (fuzzCase.sequential) {
    for (const call of fuzzCase.calls) {
      const floors = floorsOf(run.model, call);
      const payload = await connection.call(call.serial, call.payload, call.frames, AVRO_ANSWER_TIMEOUT_MS);
      // A write that may or may not have happened leaves the rest of this case's expectations unknown.
      if (checkCall(run, call, payload, floors) === 'uncertain') return;
    }
    return;
  }
  const floors = fuzzCase.calls.map((call) => floorsOf(run.model, call));
  connection.write(Buffer.concat(fuzzCase.calls.map((call) => frame(call.serial, call.payload, call.frames))));
  const payloads = await Promise.all(fuzzCase.calls.map((call) => connection.answer(call.serial, AVRO_ANSWER_TIMEOUT_MS)));
  fuzzCase.calls.forEach((call, i) => checkCall(run, call, payloads[i], floors[i]));
}

/** The newest acknowledged offset of each key a read asks for, when it is sent. */
function floorsOf(model: AcknowledgedModel, call: AvroCall): number[] {
  const e = call.expected;
  if (e.kind === 'get') return [model.floor(e.key)];
  if (e.kind === 'multiGet') return e.keys.map((key) => model.floor(key));
  return [];
}

function count(tally: Map<string, number>, what: string): void {
  tally.set(what, (tally.get(what) ?? 0) + 1);
}

/** Checks one answer against what the docs allow for its call, recording reads and writes in the model. */
function checkCall(run: AvroRun, call: AvroCall, payload: Buffer | 'closed', floors: number[]): 'uncertain' | undefined {
  const { model, service } = run;
  const e = call.expected;
  const context = `call ${call.serial}`;
  if (payload === 'closed') throw new Error(`${context}: the node closed the connection instead of answering`);
  if (e.kind === 'ping') {
    if (!payload.equals(Buffer.from([0, 0]))) throw new Error(`${context}: a ping answered 0x${payload.toString('hex')}`);
    count(run.tally, 'ping');
    return undefined;
  }
  const answer = decodeAnswer(service, call.message, payload);
  const outcome = summarize(answer);
  count(run.tally, `${call.message ?? '?'} ${answer.ok ? 'ok' : 'system' in answer ? 'system error' : `${answer.declared} ${String(answer.fields.code)}`}`);
  const wrong = (): Error => new Error(`${context}: answered ${outcome.slice(0, 200)}; expected ${describeAvroExpected(call)}`);
  switch (e.kind) {
    case 'invalid':
      if (answer.ok || !('system' in answer)) throw wrong();
      return undefined;
    case 'anything':
      return undefined;
    case 'refused': {
      const code = answer.ok ? undefined : 'system' in answer ? (e.original ? /^([A-Z_]+): /.exec(answer.system)?.[1] : undefined) : answer.declared === 'BadInput' ? String(answer.fields.code) : undefined;
      if (code === undefined || !e.codes.has(code as never)) throw wrong();
      return undefined;
    }
    case 'get':
    case 'multiGet': {
      if (!answer.ok) throw wrong();
      const keys = e.kind === 'get' ? [e.key] : e.keys;
      const entries = e.kind === 'get' ? [answer.response] : (answer.response as unknown[]);
      if (!Array.isArray(entries) || entries.length !== keys.length) throw new Error(`${context}: ${keys.length} keys answered ${JSON.stringify(entries)?.slice(0, 200)}`);
      keys.forEach((key, i) => model.read(key, floors[i], entryOf(entries[i], key, context), context));
      return undefined;
    }
    case 'set':
    case 'remove': {
      const value = e.kind === 'set' ? e.value : null;
      if (!answer.ok) {
        if ('declared' in answer && answer.declared === 'Unavailable' && answer.fields.code === 'KAFKA_UNAVAILABLE') return uncertain(model, e.key, value);
        const timeout = 'declared' in answer && answer.declared === 'Timeout' ? answer.fields : undefined;
        const at = timeout && (timeout.partition as { int?: number } | null)?.int;
        const offset = timeout && (timeout.offset as { long?: number } | null)?.long;
        if (at !== undefined && offset !== undefined) {
          model.acknowledged(e.key, value, at, offset, context);
          return undefined;
        }
        throw wrong();
      }
      const ack = answer.response as { key: string; partition: number; offset: number };
      if (ack.key !== e.key || !Number.isInteger(ack.partition) || !Number.isInteger(ack.offset)) throw new Error(`${context}: a write acknowledged as ${JSON.stringify(ack)}`);
      model.acknowledged(e.key, value, ack.partition, ack.offset, context);
      return undefined;
    }
    case 'getValue': {
      if (!answer.ok) throw wrong();
      const text = unwrap(answer.response);
      if (text !== e.text) throw new Error(`${context}: getValue answered ${JSON.stringify(text)}, not ${JSON.stringify(e.text)}`);
      return undefined;
    }
    case 'setValue':
    case 'delete': {
      const value = e.kind === 'setValue' ? Buffer.from(e.text) : null;
      if (!answer.ok) {
        if ('system' in answer && answer.system.startsWith('KAFKA_UNAVAILABLE: ')) return uncertain(model, e.key, value);
        throw wrong();
      }
      if (answer.response !== null) throw wrong();
      model.settled(e.key, value);
      return undefined;
    }
  }
}

function uncertain(model: AcknowledgedModel, key: string, value: Buffer | null): 'uncertain' {
  model.uncertain(key, value);
  return 'uncertain';
}

/** A union branch as avsc gives it, wrapped ({type: value}) or not. */
function unwrap(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const entries = Object.entries(value);
    if (entries.length === 1 && ['string', 'com.grayscaleconsulting.bitacora.rpc.avro.Entry'].includes(entries[0][0])) return entries[0][1];
  }
  return value;
}

/** An Entry answer (or null) checked against the protocol's shape, as the model records reads. */
function entryOf(raw: unknown, key: string, context: string): { value: Buffer; offset: number } | 'absent' {
  const entry = unwrap(raw) as { key: string; value: Buffer; partition: number; offset: number; timestamp: number; source: string } | null;
  if (entry === null) return 'absent';
  if (entry.key !== key || !Buffer.isBuffer(entry.value) || !Number.isInteger(entry.partition) || !Number.isInteger(entry.offset) || entry.source !== 'local') {
    throw new Error(`${context}: an Entry for ${JSON.stringify(key)} read ${JSON.stringify({ ...entry, value: entry.value?.length })}`);
  }
  return { value: entry.value, offset: entry.offset };
}

function describeAvroExpected(call: AvroCall): string {
  const e = call.expected;
  if (e.kind === 'refused') return `${e.original ? 'system error' : 'BadInput'} with ${[...e.codes].join(' or ')}`;
  if (e.kind === 'invalid') return 'a system error';
  return `a ${e.kind} answer${'key' in e ? ` for ${JSON.stringify(e.key)}` : ''}`;
}
