/** The kafkajs version this patch was written for and checked against (test/unit/patches.test.ts). */
export const KAFKAJS_RECORD_DECODING_PATCHED_VERSION = '2.2.4';

/**
 * kafkajs decodes each record's timestamp and offset delta as a 64-bit varint through its BigInt-backed Long: a
 * BigInt allocated per varint byte, then the base parsed from a string, added and printed back to a string, twice
 * per record. Profiled while a node loaded 2 million records, that was over 10 % of the node's time plus the
 * garbage it left (docs/performance.md). This replaces kafkajs' record decoder (recordBatch/record/v0/decoder.js)
 * with one that gives exactly the same object, computing in doubles when the values fit in 53 bits (every real
 * timestamp and offset) and falling back to kafkajs' own code otherwise. test/unit/kafkajs-record-decoding.test.ts
 * compares the two on random records, the 64-bit edges included.
 *
 * kafkajs requires its record batch decoder lazily, when the first Fetch is built, and that decoder keeps the
 * record decoder it required: so the patch replaces the module's exports in require's cache before that. A process
 * that fetched before installing (a test's own kafkajs client) keeps kafkajs' decoder: the same results, slower.
 */

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): unknown;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (decoder: KafkajsDecoder) => T): T[];
}

interface BatchContext {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly magicByte: number;
  readonly isControlBatch?: boolean;
  readonly timestampType: number;
  readonly maxTimestamp: string;
}

type RecordDecoder = (decoder: KafkajsDecoder, batchContext?: BatchContext) => Record<string, unknown>;

const RECORD_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
const BATCH_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const HEADER_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/header/v0/decoder.js';
const TIMESTAMP_TYPES_MODULE = 'kafkajs/src/protocol/timestampTypes.js';

/** A varlong of at most 7 bytes holds at most 49 bits: exact in a double, zigzag included. */
const MAX_EXACT_VARLONG_BYTES = 7;

/**
 * Reads a zigzag varlong as a number when it has at most 7 bytes; otherwise leaves the decoder where it was and
 * returns undefined (the caller then uses kafkajs' readVarLong).
 */
function readSmallVarLong(decoder: KafkajsDecoder): number | undefined {
  const { buffer } = decoder;
  let at = decoder.offset;
  let unsigned = 0;
  let scale = 1;
  for (let i = 0; i < MAX_EXACT_VARLONG_BYTES; i++) {
    const byte = buffer[at++];
    if (byte === undefined) return undefined;
    unsigned += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      decoder.offset = at;
      return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
    }
    scale *= 128;
  }
  return undefined;
}

/** `base` (a decimal string, as kafkajs keeps 64-bit values) plus `delta`, printed back, when exact in a double. */
function addExactly(base: string, delta: number): string | undefined {
  const sum = Number(base) + delta;
  // Both parts and the sum within 2^53: the double is exact, and prints as BigInt's toString would.
  return Number.isSafeInteger(sum) && Math.abs(Number(base)) <= Number.MAX_SAFE_INTEGER ? String(sum) : undefined;
}

/** Builds the faster decoder around kafkajs' own (the fallback for values past 53 bits). */
export function fastRecordDecoder(original: RecordDecoder): RecordDecoder {
  const HeaderDecoder = require(HEADER_DECODER_MODULE) as (decoder: KafkajsDecoder) => { key: string; value: Buffer | null };
  const TimestampTypes = require(TIMESTAMP_TYPES_MODULE) as { LOG_APPEND_TIME: number };
  return (decoder, batchContext = {} as BatchContext) => {
    const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    const start = decoder.offset;
    const attributes = decoder.readInt8();
    const timestampDelta = readSmallVarLong(decoder);
    if (timestampDelta === undefined) return rewind(decoder, start, original, batchContext);
    let timestamp: string | undefined;
    if (timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp) timestamp = maxTimestamp;
    else timestamp = addExactly(firstTimestamp, timestampDelta);
    if (timestamp === undefined) return rewind(decoder, start, original, batchContext);
    const offsetDelta = decoder.readVarInt();
    const offset = addExactly(firstOffset, offsetDelta);
    if (offset === undefined) return rewind(decoder, start, original, batchContext);
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const headerList = decoder.readVarIntArray(HeaderDecoder);
    // As kafkajs builds it: a header key seen twice becomes an array of its values, in order.
    const headers: Record<string, Buffer | null | (Buffer | null)[]> = {};
    for (const { key: name, value: headerValue } of headerList) {
      const held = headers[name];
      headers[name] = held === undefined ? headerValue : Array.isArray(held) ? held.concat([headerValue]) : [held, headerValue];
    }
    return {
      magicByte,
      attributes,
      timestamp,
      offset,
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
  };
}

function rewind(decoder: KafkajsDecoder, start: number, original: RecordDecoder, batchContext: BatchContext): Record<string, unknown> {
  decoder.offset = start;
  return original(decoder, batchContext);
}

let installed: 'patched' | 'too-late' | undefined;

/**
 * Installs the faster record decoder for the kafkajs clients of this process, once; 'too-late' when kafkajs had
 * already loaded its batch decoder (it then keeps its own record decoder: same results, slower).
 */
export function installFastRecordDecoding(): 'patched' | 'too-late' {
  if (installed) return installed;
  const recordPath = require.resolve(RECORD_DECODER_MODULE);
  if (require.cache[require.resolve(BATCH_DECODER_MODULE)]) return (installed = 'too-late');
  require(recordPath);
  const cached = require.cache[recordPath];
  if (!cached) return (installed = 'too-late');
  cached.exports = fastRecordDecoder(cached.exports as RecordDecoder);
  return (installed = 'patched');
}
