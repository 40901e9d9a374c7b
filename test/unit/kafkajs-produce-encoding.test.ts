import assert from 'node:assert/strict';
import { fastProduceRequest } from '../../src/patches/kafkajs-produce-encoding';
import { unpatchedModule } from '../helpers/unpatched-module';

type Factory = Parameters<typeof fastProduceRequest>[0];

const V3_REQUEST = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');


async function bytesOf(factory: Factory, args: Parameters<Factory>[0]): Promise<Buffer> {
  const encoder = (await factory(args).encode()) as { buf: Buffer; offset: number };
  return Buffer.from(encoder.buf.subarray(0, encoder.offset));
}

describe('kafkajs produce encoding patch', () => {
  const own = unpatchedModule<Factory>(V3_REQUEST);
  const fast = fastProduceRequest(own);
  const Long = require('kafkajs/src/utils/long') as { fromValue(value: unknown): unknown };

  let seed = 20261204;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const int = (below: number): number => Math.floor(random() * below);
  const bytes = (length: number): Buffer => {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = int(256);
    return out;
  };

  function randomMessage(base: number): Record<string, unknown> {
    const timestamp = base + int(3) * (random() < 0.1 ? 1_000_000_000 : 1000) - (random() < 0.05 ? 5000 : 0);
    const headers: Record<string, unknown> = {};
    const headerCount = random() < 0.7 ? 0 : int(3) + 1;
    for (let h = 0; h < headerCount; h++) {
      headers[`h${h}-é`] = random() < 0.3 ? [String(int(10 ** 6)), bytes(int(5))] : random() < 0.5 ? `v${int(1000)}` : bytes(int(40));
    }
    return {
      key: random() < 0.05 ? null : bytes(int(30) + 1),
      // Lengths across the varint byte boundaries (63/64, 8191/8192) and tombstones.
      value: random() < 0.1 ? null : bytes([0, 1, 63, 64, 100, 100, 8191, 8192][int(8)]!),
      timestamp: random() < 0.5 ? String(timestamp) : timestamp,
      headers: random() < 0.5 ? undefined : headers,
    };
  }

  it('writes exactly the bytes kafkajs writes, on 400 random requests', async () => {
    for (let round = 0; round < 400; round++) {
      const base = [1, 1_796_361_677_578, 999_999_999_999, 10 ** 15 - 10 ** 9][int(4)]!;
      const topicData = Array.from({ length: int(2) + 1 }, (_, t) => ({
        topic: `topic-${t}-${round}`,
        partitions: Array.from({ length: int(3) + 1 }, (__, p) => ({
          partition: p,
          firstSequence: random() < 0.5 ? undefined : int(2 ** 31 - 1),
          messages: Array.from({ length: int(40) + 1 }, () => randomMessage(base)),
        })),
      }));
      const args = {
        acks: [-1, 1, 0][int(3)]!,
        timeout: int(60_000),
        producerId: random() < 0.2 ? undefined : Long.fromValue(random() < 0.5 ? int(10 ** 6) : '9007199254740993'),
        producerEpoch: random() < 0.2 ? undefined : int(32_000),
        topicData,
      };
      const [ours, theirs] = [await bytesOf(fast, args), await bytesOf(own, args)];
      assert.ok(ours.equals(theirs), `round ${round}: ${ours.length} bytes against kafkajs' ${theirs.length}, first difference at ${ours.findIndex((b, i) => b !== theirs[i])}`);
    }
  });

  it("leaves to kafkajs' own encoder what it was not written for, with the same result", async () => {
    const message = { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: '1796361677578' };
    const cases = [
      { compression: 1, messages: [message] }, // gzip
      { transactionalId: 'tx', messages: [message] },
      { messages: [{ ...message, key: 'a string key' }] },
      { messages: [{ ...message, timestamp: 0 }] },
      { messages: [{ ...message, timestamp: undefined }] },
      { messages: [{ ...message, timestamp: '1.5' }] },
    ];
    for (const { messages, ...rest } of cases) {
      const args = { acks: -1, timeout: 1000, ...rest, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] };
      const request = fast(args);
      assert.equal(request.encode.toString(), own(args).encode.toString(), JSON.stringify(rest));
    }
  });
});
