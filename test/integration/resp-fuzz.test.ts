import assert from 'node:assert/strict';
import net from 'node:net';
import Redis from 'ioredis';
import RedisParser from 'redis-parser';
import { FUZZ_LIMITS, type RespConnectionCase, RespCaseGenerator } from '../helpers/resp-fuzz-cases';
import { fuzzSeed, SeededRandom } from '../helpers/seeded-random';
import { startTestNode } from '../helpers/test-node';
import { onTeardown } from '../helpers/teardown';

const FRAMES = 10_000;
const CONCURRENT_CONNECTIONS = 16;

/** Sends a connection's script, half-closes, and collects every reply until the node closes (bounded). */
function play(port: number, script: RespConnectionCase): Promise<{ replies: unknown[]; closedByNode: boolean; fatal: string | undefined }> {
  return new Promise((resolve, reject) => {
    const replies: unknown[] = [];
    let fatal: string | undefined;
    const parser = new RedisParser({
      returnBuffers: true,
      returnReply: (reply: unknown) => replies.push(reply),
      returnError: (error: Error) => replies.push(error),
      returnFatalError: (error: Error) => (fatal = error.message),
    });
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`a connection got no close within 20 s (${replies.length} replies)`));
    }, 20_000);
    socket.on('data', (chunk: Buffer) => parser.execute(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ replies, closedByNode: true, fatal });
    });
    const bytes = Buffer.concat([...script.frames.map((f) => f.bytes), script.cutOff ?? Buffer.alloc(0)]);
    socket.once('connect', async () => {
      if (!script.slow) {
        socket.end(bytes);
        return;
      }
      // Slow: a few bytes at a time, with pauses.
      for (let i = 0; i < bytes.length && !socket.destroyed; ) {
        const step = 1 + Math.floor(Math.random() * 7);
        socket.write(bytes.subarray(i, i + step));
        i += step;
        await new Promise((r) => setTimeout(r, 1));
      }
      if (!socket.destroyed) socket.end();
    });
  });
}

describe('RESP fuzz: hostile and well-formed frames against a real node', () => {
  it(`answers ${FRAMES.toLocaleString('en')}+ generated frames as documented, never crashes, and holds what it acknowledged`, async function () {
    this.timeout(600_000);
    const seed = fuzzSeed();
    console.log(`      RESP fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npx mocha test/integration/resp-fuzz.test.ts)`);
    const node = await startTestNode({
      MAX_KEY_BYTES: String(FUZZ_LIMITS.maxKeyBytes),
      MAX_VALUE_BYTES: String(FUZZ_LIMITS.maxValueBytes),
      MAX_INFLIGHT_PER_CONNECTION: String(FUZZ_LIMITS.maxInFlight),
    });
    const port = node.respPort!;
    const generator = new RespCaseGenerator(new SeededRandom(seed));
    const scripts: RespConnectionCase[] = [];
    let frames = 0;
    while (frames < FRAMES) {
      const script = generator.connection(scripts.length);
      scripts.push(script);
      frames += script.frames.length;
    }
    const problems: string[] = [];
    // What each key must hold at the end: the last write its connection saw acknowledged.
    const expected = new Map<string, Buffer | null>();
    const run = async (index: number): Promise<void> => {
      const script = scripts[index]!;
      const { replies, fatal } = await play(port, script);
      const where = (i: number): string => `seed ${seed}, connection ${index}, frame ${i} (${script.frames[i]?.label})`;
      if (fatal) problems.push(`${where(0)}: the reply stream was not RESP: ${fatal}`);
      let r = 0;
      for (const [i, frame] of script.frames.entries()) {
        if (frame.expect.kind === 'none') continue;
        const reply = replies[r++];
        if (frame.expect.kind === 'fatal') {
          if (!(reply instanceof Error && /^ERR Protocol error: /.test(reply.message))) problems.push(`${where(i)}: expected a protocol error, got ${String(reply)}`);
          break;
        }
        if (!frame.expect.check(reply)) {
          problems.push(`${where(i)}: expected ${frame.expect.describe}, got ${reply instanceof Error ? reply.message : JSON.stringify(reply)}`);
          continue;
        }
        if (frame.write) expected.set(frame.write.key, frame.write.value);
      }
      if (r !== replies.length) problems.push(`${where(script.frames.length - 1)}: ${replies.length} replies for ${r} answerable frames`);
    };
    for (let i = 0; i < scripts.length; i += CONCURRENT_CONNECTIONS) {
      await Promise.all(scripts.slice(i, i + CONCURRENT_CONNECTIONS).map((_, j) => run(i + j)));
      assert.deepEqual(problems.slice(0, 10), [], `seed ${seed}`);
    }
    console.log(`      ${frames} frames on ${scripts.length} connections; ${expected.size} keys written`);

    assert.equal(node.status, 'ready');
    const control = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
    onTeardown('control client', () => control.disconnect());
    for (const [key, value] of expected) {
      const held = await control.getBuffer(key);
      if (!(value === null ? held === null : held !== null && held.equals(value))) problems.push(`key ${key} holds ${held?.toString('hex') ?? 'nil'}, acknowledged ${value?.toString('hex') ?? 'nil'}`);
    }
    const present = [...expected].filter(([, v]) => v !== null).map(([k]) => k).sort();
    assert.deepEqual((await control.keys('fz:*')).sort(), present, `seed ${seed}: the node holds exactly the acknowledged keys`);
    assert.deepEqual(problems.slice(0, 10), [], `seed ${seed}`);
  });
});
