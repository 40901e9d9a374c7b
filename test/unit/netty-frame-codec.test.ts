import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { type NettyMessage, NettyFrameDecoder } from '../../src/rpc/netty-frame-codec';

function framed(id: number, body: string): Buffer {
  const payload = Buffer.from(body);
  const out = Buffer.alloc(12 + payload.length);
  out.writeInt32BE(id, 0);
  out.writeInt32BE(1, 4);
  out.writeInt32BE(payload.length, 8);
  payload.copy(out, 12);
  return out;
}

describe('Netty frame decoder', () => {
  it('stops taking chunks while MAX_INFLIGHT_PER_CONNECTION messages are unanswered, and resumes as answers go out', async () => {
    const decoder = new NettyFrameDecoder({ maxMessageBytes: 1024, maxFrames: 4 }, 2);
    const seen: number[] = [];
    decoder.on('data', (message: NettyMessage) => seen.push(message.id));
    decoder.write(Buffer.concat([framed(1, 'a'), framed(2, 'b'), framed(3, 'c')]));
    decoder.write(framed(4, 'd'));
    await tick();
    // One chunk is decoded whole; the next waits.
    assert.deepEqual(seen, [1, 2, 3]);
    decoder.answered();
    await tick();
    assert.deepEqual(seen, [1, 2, 3], 'read on with 2 of 2 still unanswered');
    decoder.answered();
    await tick();
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });

  it('never holds back without a cap', async () => {
    const decoder = new NettyFrameDecoder({ maxMessageBytes: 1024, maxFrames: 4 });
    const seen: number[] = [];
    decoder.on('data', (message: NettyMessage) => seen.push(message.id));
    for (let id = 1; id <= 50; id++) decoder.write(framed(id, 'x'));
    await tick();
    assert.equal(seen.length, 50);
  });
});
