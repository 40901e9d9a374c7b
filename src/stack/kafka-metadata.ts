import { exchangeFrame } from './framed-exchange';

/** One Metadata request; the caller's start timeout bounds the overall wait. */
export const METADATA_TIMEOUT_MS = 5_000;
const METADATA_API_KEY = 3;
/**
 * v4: non-flexible (no tagged fields), with the cluster id, and served by both lines the stack runs: Kafka 3.x
 * serves v0 to v12, Kafka 4 removed v0 to v3 (KIP-896).
 */
const METADATA_VERSION = 4;
const CLIENT_ID = 'bitacora-stack-probe';
/** Far more than a metadata answer without topics from a local cluster; more means this is no Kafka. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** What one broker's metadata says: the cluster it belongs to and the brokers it lists (registered, unfenced). */
export interface BrokerView {
  readonly clusterId: string | null;
  readonly brokerIds: readonly number[];
}

/**
 * Asks the broker at `address` (host:port, PLAINTEXT) for its metadata without topics, over one connection of its
 * own. Unlike a client library, which sends a request to whichever broker of the cluster it picks, this reads that
 * very broker's view, which is what readiness of a broker means. Throws when it does not answer in time.
 */
export async function fetchBrokerView(address: string, timeoutMs = METADATA_TIMEOUT_MS): Promise<BrokerView> {
  const response = await exchangeFrame({
    address,
    request: metadataRequest(1),
    minBytes: 0,
    maxBytes: MAX_RESPONSE_BYTES,
    timeoutMs,
    description: `metadata from Kafka at ${address}`,
  });
  return parseMetadataResponse(response, 1);
}

/** Request header v1 (api key, version, correlation id, client id) and a Metadata v4 body asking for no topics. */
function metadataRequest(correlationId: number): Buffer {
  const clientId = Buffer.from(CLIENT_ID, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let offset = body.writeInt16BE(METADATA_API_KEY, 0);
  offset = body.writeInt16BE(METADATA_VERSION, offset);
  offset = body.writeInt32BE(correlationId, offset);
  offset = body.writeInt16BE(clientId.length, offset);
  offset += clientId.copy(body, offset);
  offset = body.writeInt32BE(0, offset); // an empty topic array: none (-1 would mean all)
  body.writeInt8(0, offset); // allow_auto_topic_creation: false
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Response header v0 (correlation id), throttle time, brokers [node id, host, port, rack], cluster id, controller id, topics. */
function parseMetadataResponse(response: Buffer, correlationId: number): BrokerView {
  let offset = 0;
  const int16 = (): number => {
    const value = response.readInt16BE(offset);
    offset += 2;
    return value;
  };
  const int32 = (): number => {
    const value = response.readInt32BE(offset);
    offset += 4;
    return value;
  };
  const nullableString = (): string | null => {
    const length = int16();
    if (length < 0) return null;
    const value = response.toString('utf8', offset, offset + length);
    offset += length;
    return value;
  };
  if (int32() !== correlationId) throw new Error('the answer does not match the metadata request');
  int32(); // throttle_time_ms
  const count = int32();
  if (count < 0 || count > 10_000) throw new Error(`an answer listing ${count} brokers is no Kafka metadata`);
  const brokerIds: number[] = [];
  for (let i = 0; i < count; i++) {
    brokerIds.push(int32());
    nullableString(); // host
    int32(); // port
    nullableString(); // rack
  }
  return { clusterId: nullableString(), brokerIds };
}
