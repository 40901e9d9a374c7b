/** The kafkajs version this patch was written for and checked against (test/unit/patches.test.ts). */
export const KAFKAJS_PRODUCE_ENCODING_PATCHED_VERSION = '2.2.4';

/**
 * kafkajs encodes a produce request through an Encoder per record, per header, per batch, per partition and per
 * topic (each a zero-filled 512-byte buffer, grown by copying), with 64-bit varints through its BigInt-backed Long:
 * about 6 µs of the node's one thread per record (issue #17, docs/performance.md), on
 * the path every acknowledged write waits on. This replaces the body of produce request v3 (which v4 to v7 reuse)
 * with one that sizes the whole request first and writes it into one buffer, computing varints in doubles. It
 * produces the same bytes as kafkajs (test/unit/kafkajs-produce-encoding.test.ts compares the two on random
 * requests) and hands every request it was not written for (compression, transactions, keys or values that are
 * not buffers, timestamps that are not whole numbers) to kafkajs' own encoder.
 *
 * kafkajs requires the v3 request module lazily, when the first produce request of some version is built, and v4
 * to v7 keep the v3 module they required: so the patch replaces its exports in require's cache before that.
 */

const V3_REQUEST_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
const CRC32C_MODULE = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';
const LONG_MODULE = 'kafkajs/src/utils/long.js';

interface Message {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly timestamp?: unknown;
  readonly headers?: unknown;
}

interface PartitionData {
  readonly partition: number;
  readonly firstSequence?: number;
  readonly messages: readonly Message[];
}

interface RequestArgs {
  readonly acks: number;
  readonly timeout: number;
  readonly transactionalId?: string | null;
  readonly producerId?: unknown;
  readonly producerEpoch?: number;
  readonly compression?: number;
  readonly topicData: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly PartitionData[] }>;
}

interface KafkajsRequest {
  encode(): Promise<unknown>;
  [field: string]: unknown;
}

type RequestFactory = (args: RequestArgs) => KafkajsRequest;

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

interface KafkajsLong {
  getHighBits(): number;
  getLowBits(): number;
}

/** A timestamp kafkajs would write as given: a whole number within 2^53, as a number or its decimal string. */
const WHOLE_NUMBER = /^-?\d{1,15}$/;

/** The size of a zigzag varint or varlong of `value` (exact for |value| < 2^52). */
function sizeOfZigZag(value: number): number {
  let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (unsigned >= 0x80) {
    unsigned = Math.floor(unsigned / 0x80);
    bytes++;
  }
  return bytes;
}

function writeZigZag(buffer: Buffer, at: number, value: number): number {
  let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
  while (unsigned >= 0x80) {
    buffer[at++] = (unsigned % 0x80) | 0x80;
    unsigned = Math.floor(unsigned / 0x80);
  }
  buffer[at++] = unsigned;
  return at;
}

/** A header as kafkajs flattens it (an array value is one header per element). */
interface Header {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** One record, sized: what the second pass writes. */
interface SizedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly Header[];
  readonly timestampDelta: number;
  readonly bodySize: number;
}

/** One partition's batch, sized. */
interface SizedBatch {
  readonly partition: number;
  readonly firstSequence: number;
  readonly firstTimestamp: string;
  readonly maxTimestamp: string;
  readonly records: readonly SizedRecord[];
  /** Attributes to the end of the last record: what the CRC covers. */
  readonly bodySize: number;
}

const asBytes = (value: unknown): Buffer | null | undefined => (value == null ? null : Buffer.isBuffer(value) ? value : undefined);

/** kafkajs' headers object as its flattened list, or undefined when a value is neither a string nor a buffer. */
const NO_HEADERS: readonly Header[] = [];

function flattenHeaders(headers: unknown): readonly Header[] | undefined {
  if (headers == null) return NO_HEADERS;
  if (typeof headers !== 'object') return undefined;
  const flat: Header[] = [];
  for (const key of Object.keys(headers)) {
    const raw = (headers as Record<string, unknown>)[key];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value !== 'string' && !Buffer.isBuffer(value)) return undefined;
      flat.push({ key: Buffer.from(key, 'utf8'), value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value });
    }
  }
  return flat;
}

/** A partition's batch sized as kafkajs would write it, or undefined when kafkajs must encode it. */
function sizeBatch(data: PartitionData): SizedBatch | undefined {
  const { messages } = data;
  if (messages.length === 0) return undefined;
  const timestamps: string[] = [];
  for (const message of messages) {
    const { timestamp } = message;
    if (typeof timestamp === 'string' ? !WHOLE_NUMBER.test(timestamp) : !Number.isSafeInteger(timestamp)) return undefined;
    // kafkajs computes a delta from `timestamp || now`: a numeric 0 would be taken for now.
    if (timestamp === 0) return undefined;
    timestamps.push(String(timestamp));
  }
  // kafkajs sorts the timestamps as strings (Array#sort's default) and writes the first and last of that order:
  // the least and greatest string, which `<` compares the same way.
  let firstTimestamp = timestamps[0]!;
  let maxTimestamp = firstTimestamp;
  for (const timestamp of timestamps) {
    if (timestamp < firstTimestamp) firstTimestamp = timestamp;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  const first = Number(firstTimestamp);
  const records: SizedRecord[] = [];
  let bodySize = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const key = asBytes(message.key);
    const value = asBytes(message.value);
    const headers = flattenHeaders(message.headers);
    if (key === undefined || value === undefined || headers === undefined) return undefined;
    const timestampDelta = Number(timestamps[i]) - first;
    let size = 1 + sizeOfZigZag(timestampDelta) + sizeOfZigZag(i);
    size += key === null ? 1 : sizeOfZigZag(key.length) + key.length;
    size += value === null ? 1 : sizeOfZigZag(value.length) + value.length;
    size += sizeOfZigZag(headers.length);
    for (const header of headers) size += sizeOfZigZag(header.key.length) + header.key.length + sizeOfZigZag(header.value.length) + header.value.length;
    records.push({ key, value, headers, timestampDelta, bodySize: size });
    bodySize += sizeOfZigZag(size) + size;
  }
  return { partition: data.partition, firstSequence: data.firstSequence ?? 0, firstTimestamp, maxTimestamp, records, bodySize };
}

function writeBytes(buffer: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) return writeZigZag(buffer, at, -1);
  at = writeZigZag(buffer, at, bytes.length);
  bytes.copy(buffer, at);
  return at + bytes.length;
}

/** Header size before a batch's CRC-covered body: firstOffset, length, partitionLeaderEpoch, magic, crc. */
const BATCH_HEAD = 8 + 4 + 4 + 1 + 4;

/**
 * kafkajs' produce v3 request factory, with encode() replaced for the requests this patch was written for. Exported
 * for the unit test, which compares it with kafkajs' own factory.
 */
export function fastProduceRequest(original: RequestFactory): RequestFactory {
  const Encoder = require(ENCODER_MODULE) as new (size?: number) => KafkajsEncoder;
  const crc32C = require(CRC32C_MODULE) as (buffer: Buffer) => number;
  const Long = require(LONG_MODULE) as { fromValue(value: unknown): KafkajsLong };
  return (args) => {
    const request = original(args);
    if ((args.compression ?? 0) !== 0 || args.transactionalId != null) return request;
    const topics: Array<{ topic: Buffer; batches: SizedBatch[] }> = [];
    let size = 2 + 2 + 4 + 4;
    for (const { topic, partitions } of args.topicData) {
      const name = Buffer.from(topic, 'utf8');
      const batches: SizedBatch[] = [];
      size += 2 + name.length + 4;
      for (const data of partitions) {
        const batch = sizeBatch(data);
        if (!batch) return request;
        batches.push(batch);
        size += 4 + 4 + BATCH_HEAD + batch.bodySize;
      }
      topics.push({ topic: name, batches });
    }
    const producerId = Long.fromValue(args.producerId ?? -1);
    const producerEpoch = args.producerEpoch ?? 0;
    return {
      ...request,
      encode: async () => {
        const out = Buffer.allocUnsafe(size);
        let at = out.writeInt16BE(-1, 0); // transactional_id: null
        at = out.writeInt16BE(args.acks, at);
        at = out.writeInt32BE(args.timeout, at);
        at = out.writeInt32BE(topics.length, at);
        for (const { topic, batches } of topics) {
          at = out.writeInt16BE(topic.length, at);
          at += topic.copy(out, at);
          at = out.writeInt32BE(batches.length, at);
          for (const batch of batches) {
            at = out.writeInt32BE(batch.partition, at);
            at = out.writeInt32BE(BATCH_HEAD + batch.bodySize, at);
            at = out.writeBigInt64BE(0n, at); // firstOffset
            at = out.writeInt32BE(4 + 1 + 4 + batch.bodySize, at);
            at = out.writeInt32BE(0, at); // partitionLeaderEpoch
            at = out.writeInt8(2, at); // magic
            const crcAt = at;
            at += 4;
            const bodyAt = at;
            at = out.writeInt16BE(0, at); // attributes: no compression, create time, not transactional
            at = out.writeInt32BE(batch.records.length - 1, at); // lastOffsetDelta
            at = out.writeBigInt64BE(BigInt(batch.firstTimestamp), at);
            at = out.writeBigInt64BE(BigInt(batch.maxTimestamp), at);
            at = out.writeInt32BE(producerId.getHighBits(), at);
            at = out.writeInt32BE(producerId.getLowBits(), at);
            at = out.writeInt16BE(producerEpoch, at);
            at = out.writeInt32BE(batch.firstSequence, at);
            at = out.writeInt32BE(batch.records.length, at);
            batch.records.forEach((record, offsetDelta) => {
              at = writeZigZag(out, at, record.bodySize);
              out[at++] = 0; // record attributes
              at = writeZigZag(out, at, record.timestampDelta);
              at = writeZigZag(out, at, offsetDelta);
              at = writeBytes(out, at, record.key);
              at = writeBytes(out, at, record.value);
              at = writeZigZag(out, at, record.headers.length);
              for (const header of record.headers) {
                at = writeBytes(out, at, header.key);
                at = writeBytes(out, at, header.value);
              }
            });
            out.writeUInt32BE(crc32C(out.subarray(bodyAt, at)) >>> 0, crcAt);
          }
        }
        if (at !== size) throw new Error(`kafkajs produce encoding patch: wrote ${at} bytes of the ${size} it sized`);
        // A kafkajs Encoder over the bytes, as the request layer expects (it reads buf and offset).
        const encoder = new Encoder(0);
        encoder.buf = out;
        encoder.offset = size;
        return encoder;
      },
    };
  };
}

let installed: 'patched' | 'too-late' | undefined;

/**
 * Replaces kafkajs' produce v3 request (and so v4 to v7) with fastProduceRequest, once, before any produce request
 * is built; 'too-late' when kafkajs already required it (this process keeps kafkajs' own: same bytes, slower).
 */
export function installFastProduceEncoding(): 'patched' | 'too-late' {
  if (installed) return installed;
  const path = require.resolve(V3_REQUEST_MODULE);
  const versions = ['v4', 'v5', 'v6', 'v7'].map((v) => require.resolve(`kafkajs/src/protocol/requests/produce/${v}/request.js`));
  if (versions.some((p) => require.cache[p])) return (installed = 'too-late');
  require(path);
  const cached = require.cache[path];
  if (!cached) return (installed = 'too-late');
  cached.exports = fastProduceRequest(cached.exports as RequestFactory);
  return (installed = 'patched');
}
