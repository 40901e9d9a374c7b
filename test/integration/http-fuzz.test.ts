import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/error-codes';
import type { BitacoraNode } from '../../src/node/create-node';
import { AcknowledgedModel, describe as describeValue } from '../helpers/acknowledged-model';
import { assertHoldsAcknowledged } from '../helpers/node-contents';
import { type Expected, type FuzzCase, type FuzzLimits, type FuzzRequest, HttpCaseGenerator } from '../helpers/http-fuzz-cases';
import { isClosed, RawHttpConnection, type RawResponse } from '../helpers/raw-http';
import { fuzzSeed } from '../helpers/seeded-random';
import { startTestNode } from '../helpers/test-node';

/** How long one answer may take: generous, since the machine is shared; a hang is what this catches, not slowness. */
const ANSWER_TIMEOUT_MS = 20_000;
const CONCURRENCY = 24;
/** Stop sending new cases after this many failures, so a broken node fails the test quickly and readably. */
const MAX_FAILURES = 5;

/** Tallies for the summary line: what the node answered, by kind. */
type Tally = Map<string, number>;

interface FuzzRun {
  readonly seed: number;
  readonly port: number;
  readonly model: AcknowledgedModel;
  readonly failures: string[];
  readonly tally: Tally;
  requests: number;
}

describe('HTTP under generated bad input', () => {
  it('answers 10,000 generated requests as documented, and holds exactly what it acknowledged', async function () {
    this.timeout(240_000);
    const limits = { maxKeyBytes: 48, maxValueBytes: 512 };
    const node = await startTestNode({ MAX_KEY_BYTES: String(limits.maxKeyBytes), MAX_VALUE_BYTES: String(limits.maxValueBytes) });
    await fuzzNode(node, limits, 10_000);
  });

  it('does the same at the default limits, with values up to MAX_VALUE_BYTES', async function () {
    this.timeout(240_000);
    const node = await startTestNode();
    await fuzzNode(node, { maxKeyBytes: node.config.limits.maxKeyBytes, maxValueBytes: node.config.limits.maxValueBytes }, 1_000);
  });
});

/** Sends `count` generated cases to `node`, checks every answer, then the node's contents and its topic. */
async function fuzzNode(node: BitacoraNode, limits: FuzzLimits, count: number): Promise<void> {
  const seed = fuzzSeed();
  const started = Date.now();
  const generator = new HttpCaseGenerator(seed, limits);
  const run: FuzzRun = { seed, port: Number(new URL(node.httpUrl).port), model: new AcknowledgedModel(), failures: [], tally: new Map(), requests: 0 };
  let next = 0;
  // Cases are generated as workers take them, in index order on this one thread: the same seed gives the same cases.
  const take = (): FuzzCase | undefined => (next < count && run.failures.length < MAX_FAILURES ? generator.generate(next++) : undefined);
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(run, take)));
  if (run.failures.length > 0) assert.fail(`FUZZ_SEED=${seed} replays this run:\n${run.failures.join('\n\n')}`);

  await assertHoldsAcknowledged(node, run.model, seed);
  const summary = [...run.tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`      seed ${seed}: ${count} cases, ${run.requests} requests, ${run.model.acknowledgedWrites} writes acknowledged, in ${Date.now() - started} ms; ${summary}`);
}

async function worker(run: FuzzRun, take: () => FuzzCase | undefined): Promise<void> {
  let connection: RawHttpConnection | undefined;
  try {
    for (let fuzzCase = take(); fuzzCase; fuzzCase = take()) {
      if (!connection || connection.isEnded || fuzzCase.fresh) {
        connection?.destroy();
        connection = await RawHttpConnection.open(run.port);
      }
      try {
        connection = await runCase(run, connection, fuzzCase);
      } catch (error) {
        run.failures.push(failureReport(run.seed, fuzzCase, error));
        connection?.destroy();
        connection = undefined;
      }
    }
  } finally {
    connection?.destroy();
  }
}

/** Sends one case and checks its answers; returns the connection when it may carry the next case. */
async function runCase(run: FuzzRun, connection: RawHttpConnection, fuzzCase: FuzzCase): Promise<RawHttpConnection | undefined> {
  const { model } = run;
  const floors = fuzzCase.requests.map((r) => (r.expected.success && r.expected.success.kind !== 'page' ? model.floor(r.expected.success.key) : -1));
  await send(connection, Buffer.concat([...fuzzCase.requests.map((r) => r.bytes), fuzzCase.trailer ?? Buffer.alloc(0)]), fuzzCase.pauses);
  run.requests += fuzzCase.requests.length;
  if (fuzzCase.ending === 'destroy') {
    // The client vanished mid-request: there is no answer to read, and nothing may be written (checked at the end).
    connection.destroy();
    count(run.tally, 'dropped by the client');
    return undefined;
  }
  if (fuzzCase.ending === 'half-close') connection.halfClose();
  for (let i = 0; i < fuzzCase.requests.length; i++) {
    const request = fuzzCase.requests[i];
    const context = `case ${fuzzCase.index}${fuzzCase.requests.length > 1 ? ` request ${i}` : ''}`;
    const answer = await connection.read({ head: request.head, timeoutMs: ANSWER_TIMEOUT_MS });
    if (isClosed(answer)) {
      // node:http drops a connection whose client ended its side (FIN) as soon as it can, answered or not.
      if (!request.expected.mayClose && fuzzCase.ending !== 'half-close') throw new Error(`the connection ended (${answer.closed}) without an answer${answer.partial.length ? `, after ${answer.partial.length} bytes of one` : ''}`);
      if (answer.partial.length > 0) throw new Error(`the connection ended in the middle of an answer: ${JSON.stringify(answer.partial.toString('latin1').slice(0, 200))}`);
      count(run.tally, 'closed without an answer');
      unanswered(model, fuzzCase.requests.slice(i));
      return undefined;
    }
    checkAnswer(run, request, answer, floors[i], context);
    if (closes(answer)) {
      unanswered(model, fuzzCase.requests.slice(i + 1));
      if (!(await connection.waitClosed(ANSWER_TIMEOUT_MS))) throw new Error(`answered ${answer.status} with Connection: close but kept the connection open`);
      return undefined;
    }
  }
  if (fuzzCase.trailer) {
    const answer = await connection.read({ head: false, timeoutMs: ANSWER_TIMEOUT_MS });
    if (isClosed(answer) || answer.status !== 400 || answer.json !== undefined) {
      throw new Error(`the bytes after the requests were not answered with a bare 400: ${isClosed(answer) ? `closed (${answer.closed})` : `${answer.status} ${answer.body.toString('latin1').slice(0, 200)}`}`);
    }
    if (!(await connection.waitClosed(ANSWER_TIMEOUT_MS))) throw new Error('the connection stayed open after its bare 400');
    return undefined;
  }
  return fuzzCase.ending === 'keep' ? connection : undefined;
}

/** Writes `bytes` at once, or in as many pieces as there are pauses plus one, pausing between them. */
async function send(connection: RawHttpConnection, bytes: Buffer, pauses: readonly number[]): Promise<void> {
  if (pauses.length === 0) {
    connection.write(bytes);
    return;
  }
  const step = Math.ceil(bytes.length / (pauses.length + 1));
  for (let i = 0; i <= pauses.length; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, pauses[i - 1]));
    connection.write(bytes.subarray(i * step, (i + 1) * step));
  }
}

function closes(answer: RawResponse): boolean {
  return (answer.headers.get('connection') ?? '').toLowerCase().includes('close');
}

/** Requests the node may have acted on but never answered (the connection closed first): their writes are uncertain. */
function unanswered(model: AcknowledgedModel, requests: readonly FuzzRequest[]): void {
  for (const { expected } of requests) {
    const success = expected.success;
    if (success?.kind === 'write') model.uncertain(success.key, success.value);
    if (success?.kind === 'delete') model.uncertain(success.key, null);
  }
}

function count(tally: Tally, what: string): void {
  tally.set(what, (tally.get(what) ?? 0) + 1);
}

/** Checks one answer against what the docs allow for its request, and records reads and writes in the model. */
function checkAnswer(run: FuzzRun, request: FuzzRequest, answer: RawResponse, floor: number, context: string): void {
  const { expected } = request;
  const { status } = answer;
  const success = expected.success;
  if (answer.json === undefined && expected.bare?.includes(status)) {
    count(run.tally, `bare ${status}`);
    return;
  }
  if (status >= 400) {
    const code = request.head ? codeOfHeadAnswer(status, expected) : (answer.json?.error?.code as string | undefined);
    if (!request.head) {
      if (code === undefined || !(code in ERROR_CODES)) throw new Error(`answered ${status} without a catalogued error code: ${answer.body.toString('latin1').slice(0, 300)}`);
      if (ERROR_CODES[code as ErrorCode].status !== status) throw new Error(`answered ${code} with status ${status}; the catalogue says ${ERROR_CODES[code as ErrorCode].status}`);
      if (typeof answer.json.error.message !== 'string' || answer.json.error.message === '') throw new Error(`answered ${code} without a message`);
    }
    if (!(answer.headers.get('content-type') ?? '').includes('application/json')) throw new Error(`answered ${status} without a JSON content type`);
    count(run.tally, `${status} ${code ?? '(HEAD)'}`);
    // Outcomes of a good request that the docs list for its operation.
    if (success?.kind === 'read' && status === 404 && (code === 'NOT_FOUND' || request.head)) {
      if (success.cluster && !request.head) checkLookupAbsence(answer.json.error, success.key);
      run.model.read(success.key, floor, 'absent', context);
      return;
    }
    if ((success?.kind === 'write' || success?.kind === 'delete') && (code === 'KAFKA_UNAVAILABLE' || code === 'APPLY_TIMEOUT')) {
      writeFailed(run.model, success, code, answer.json?.error, context);
      return;
    }
    if (code === undefined || !expected.errors.has(code as ErrorCode)) throw new Error(`answered ${status} ${code ?? ''}; right answers: ${describeExpected(expected)}`);
    if (status === 405 && answer.headers.get('allow') !== expected.allow) throw new Error(`a 405 with Allow ${JSON.stringify(answer.headers.get('allow'))}, not ${expected.allow}`);
    return;
  }
  if (status !== 200 || !success) throw new Error(`answered ${status}; right answers: ${describeExpected(expected)}`);
  count(run.tally, `200 ${success.kind}`);
  const json = answer.json;
  switch (success.kind) {
    case 'page':
      return;
    case 'write':
    case 'delete': {
      if (json?.key !== success.key) throw new Error(`the write answered key ${JSON.stringify(json?.key)}, not ${JSON.stringify(success.key)}`);
      if (!Number.isInteger(json.partition) || !Number.isInteger(json.offset)) throw new Error(`the write answered no partition and offset: ${JSON.stringify(json)}`);
      if (success.kind === 'delete' && json.deleted !== true) throw new Error('a delete answered without "deleted": true');
      run.model.acknowledged(success.key, success.kind === 'write' ? success.value : null, json.partition, json.offset, context);
      return;
    }
    case 'read': {
      if (request.head) return;
      const seen = success.raw ? rawEntry(answer) : jsonEntry(json, success.key, success.cluster);
      run.model.read(success.key, floor, seen, context);
      return;
    }
  }
}

/** A HEAD answer has no body: its status must be one of the expected codes' (or 404 for a read). */
function codeOfHeadAnswer(status: number, expected: Expected): string | undefined {
  return [...expected.errors].find((code) => ERROR_CODES[code].status === status) ?? (status === 404 && expected.success?.kind === 'read' ? 'NOT_FOUND' : undefined);
}

function writeFailed(model: AcknowledgedModel, success: { kind: 'write' | 'delete'; key: string; value?: Buffer }, code: string, error: any, context: string): void {
  const value = success.kind === 'write' ? success.value! : null;
  // APPLY_TIMEOUT: Kafka acknowledged it (durable, with its offset); KAFKA_UNAVAILABLE: it may or may not be in the log.
  if (code === 'APPLY_TIMEOUT' && Number.isInteger(error?.partition) && Number.isInteger(error?.offset)) model.acknowledged(success.key, value, error.partition, error.offset, context);
  else model.uncertain(success.key, value);
}

/** The entry of a JSON read answer, checked against the docs' shape. */
function jsonEntry(json: any, key: string, cluster: boolean): { value: Buffer; offset: number } {
  if (json?.key !== key) throw new Error(`the read answered key ${JSON.stringify(json?.key)}, not ${JSON.stringify(key)}`);
  if (json.source !== 'local') throw new Error(`a one-node read answered source ${JSON.stringify(json.source)}`);
  for (const field of ['partition', 'offset', 'timestamp']) if (!Number.isInteger(json[field])) throw new Error(`the read answered no integer ${field}`);
  let value: Buffer;
  if (json.encoding === 'utf8') value = Buffer.from(json.value, 'utf8');
  else if (json.encoding === 'base64') value = Buffer.from(json.value, 'base64');
  else throw new Error(`the read answered encoding ${JSON.stringify(json.encoding)}`);
  if ((json.encoding === 'utf8') !== isUtf8(value)) throw new Error(`a value of ${describeValue(value)} was answered as ${json.encoding}`);
  if (cluster && !(Number.isInteger(json.position) && json.position > json.offset)) throw new Error(`the lookup answered position ${json.position} for offset ${json.offset}`);
  return { value, offset: json.offset };
}

/** The entry of an `Accept: application/octet-stream` answer: the raw value, its metadata in headers. */
function rawEntry(answer: RawResponse): { value: Buffer; offset: number } {
  if (answer.headers.get('content-type') !== 'application/octet-stream') throw new Error(`a raw read answered ${answer.headers.get('content-type')}`);
  const offset = Number(answer.headers.get('x-bitacora-offset'));
  if (!Number.isInteger(offset) || answer.headers.get('x-bitacora-source') !== 'local') throw new Error('a raw read without its X-Bitacora headers');
  return { value: answer.body, offset };
}

function checkLookupAbsence(error: any, key: string): void {
  if (error.key !== key || !Number.isInteger(error.partition) || !Number.isInteger(error.position)) {
    throw new Error(`a /rpc/cluster absence without its key, partition and position: ${JSON.stringify(error)}`);
  }
}

function describeExpected(expected: Expected): string {
  const parts: string[] = [...expected.errors];
  if (expected.success) parts.push(`200 ${expected.success.kind}${'key' in expected.success ? ` of ${JSON.stringify(expected.success.key)}` : ''}`);
  if (expected.bare) parts.push(`bare ${expected.bare.join('/')}`);
  if (expected.mayClose) parts.push('close');
  return parts.join(', ') || '(none)';
}

function failureReport(seed: number, fuzzCase: FuzzCase, error: unknown): string {
  const bytes = Buffer.concat([...fuzzCase.requests.map((r) => r.bytes), fuzzCase.trailer ?? Buffer.alloc(0)]);
  return [
    `case ${fuzzCase.index} (seed ${seed}): ${fuzzCase.label}`,
    `  sent ${bytes.length} bytes${fuzzCase.pauses.length ? ` in ${fuzzCase.pauses.length + 1} pieces` : ''}, then ${fuzzCase.ending}: ${JSON.stringify(bytes.toString('latin1').slice(0, 600))}`,
    `  right answers: ${fuzzCase.requests.map((r) => describeExpected(r.expected)).join(' | ')}`,
    `  ${error instanceof Error ? error.message : String(error)}`,
  ].join('\n');
}
