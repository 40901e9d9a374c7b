import type { Service } from 'avsc';
import { COMMAND_SPECS, type CommandName } from '../commands/command-specs';
import { canRetry, isErrorCode } from '../errors/error-codes';
import { silentLogger, type Logger } from '../logging/logger';
import { Membership } from '../membership/membership';
import { clientService } from '../rpc/avro-protocol';
import { BitacoraClientError } from './client-error';
import { NodeConnection } from './node-connection';

/** A value as the `get` message returns it. */
export interface AvroEntry {
  readonly key: string;
  readonly value: Buffer;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  /** `local`, or `peer:<name>` when a peer answered the node's miss. */
  readonly source: string;
}

/** Where a write landed; the node had applied it when it answered. */
export interface WriteAck {
  readonly key: string;
  readonly partition: number;
  readonly offset: number;
}

export interface AvroClientOptions {
  /** Nodes' Avro addresses (host:port). Either these or `zookeeper`. */
  readonly addresses?: readonly string[];
  /** Discover nodes from the cluster's members in ZooKeeper, following joins and leaves. */
  readonly zookeeper?: { readonly connectString: string; readonly root: string; readonly sessionTimeoutMs?: number };
  /** Deadline of one call, fail-over included. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** The cluster's AUTH_TOKEN, sent in each connection's handshake; needed when the nodes set one. */
  readonly authToken?: string;
  readonly logger?: Logger;
}

export interface AvroClient {
  get(key: string): Promise<AvroEntry | null>;
  set(key: string, value: Buffer | string): Promise<WriteAck>;
  remove(key: string): Promise<WriteAck>;
  multiGet(keys: readonly string[]): Promise<Array<AvroEntry | null>>;
  /** How many of the keys are present (a key named twice counts twice). */
  exists(keys: readonly string[]): Promise<number>;
  /** Several writes; not atomic (on an error some may have been made, and retrying is safe). */
  multiSet(entries: ReadonlyArray<readonly [string, Buffer | string]>): Promise<WriteAck[]>;
  /** The nodes the client currently knows. */
  nodes(): string[];
  close(): Promise<void>;
}

/**
 * Connects to a Bitacora cluster over Avro RPC. Keeps one pipelined connection per node and spreads calls over the
 * nodes. A call is retried on another node, within the call's deadline, when the catalogue says its answer allows
 * it for that command (src/errors/error-codes.ts, canRetry): a node that died or cannot serve, and for the
 * idempotent commands (all of them here: writing the same value again leaves the same result) a write that may
 * have happened.
 */
export async function createAvroClient(options: AvroClientOptions): Promise<AvroClient> {
  const client = new PooledAvroClient(options);
  await client.start();
  return client;
}

/** The command each message runs on the node, for the catalogue's retry rule. */
const MESSAGE_COMMANDS: Readonly<Record<string, CommandName>> = {
  get: 'get',
  set: 'set',
  remove: 'delete',
  multiGet: 'mget',
  exists: 'exists',
  multiSet: 'mset',
};

const asBytes = (value: Buffer | string): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

const TRANSPORT_FAILURE = /timeout|no active channels|channel destroyed|interrupted|ECONN|EPIPE|socket|no connection|not connected|closed/i;

class PooledAvroClient implements AvroClient {
  private readonly service: Service = clientService();
  private readonly connections = new Map<string, NodeConnection>();
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private membership: Membership | undefined;
  private staticAddresses: string[];
  private cursor = 0;
  private closed = false;

  constructor(private readonly options: AvroClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.logger = options.logger ?? silentLogger();
    this.staticAddresses = [...(options.addresses ?? [])];
    if (this.staticAddresses.length === 0 && !options.zookeeper) {
      throw new TypeError('createAvroClient needs addresses or a zookeeper connect string');
    }
  }

  async start(): Promise<void> {
    const zk = this.options.zookeeper;
    if (!zk) return;
    this.membership = new Membership({
      connectString: zk.connectString,
      root: zk.root,
      sessionTimeoutMs: zk.sessionTimeoutMs ?? 10_000,
      connectTimeoutMs: this.timeoutMs,
      logger: this.logger,
    });
    await this.membership.start();
  }

  nodes(): string[] {
    const discovered = this.membership?.list().map((m) => m.avroAddress).filter(Boolean) ?? [];
    return [...new Set([...this.staticAddresses, ...discovered])];
  }

  async get(key: string): Promise<AvroEntry | null> {
    return (await this.call('get', { key })) as AvroEntry | null;
  }

  async set(key: string, value: Buffer | string): Promise<WriteAck> {
    return (await this.call('set', { key, value: asBytes(value) })) as WriteAck;
  }

  async remove(key: string): Promise<WriteAck> {
    return (await this.call('remove', { key })) as WriteAck;
  }

  async multiGet(keys: readonly string[]): Promise<Array<AvroEntry | null>> {
    return (await this.call('multiGet', { keys: [...keys] })) as Array<AvroEntry | null>;
  }

  async exists(keys: readonly string[]): Promise<number> {
    return (await this.call('exists', { keys: [...keys] })) as number;
  }

  async multiSet(entries: ReadonlyArray<readonly [string, Buffer | string]>): Promise<WriteAck[]> {
    return (await this.call('multiSet', { entries: entries.map(([key, value]) => ({ key, value: asBytes(value) })) })) as WriteAck[];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
    await this.membership?.stop();
  }

  /** Sends a call to one node after another (each at most once) until one answers or the deadline passes. */
  private async call(name: string, request: Record<string, unknown>): Promise<unknown> {
    if (this.closed) throw new BitacoraClientError('CLIENT_CLOSED', 'the client is closed');
    const deadline = Date.now() + this.timeoutMs;
    const tried = new Set<string>();
    let lastFailure: BitacoraClientError | undefined;
    for (;;) {
      const address = this.pick(tried);
      const left = deadline - Date.now();
      if (!address || left <= 0) {
        throw lastFailure ?? new BitacoraClientError('NO_NODE', this.nodes().length === 0 ? 'no Bitacora node is known: check the addresses or ZooKeeper' : `no node answered within ${this.timeoutMs} ms`);
      }
      tried.add(address);
      try {
        return await this.send(this.connection(address), name, request, left);
      } catch (error) {
        const failure = error as BitacoraClientError;
        // The catalogue says whether this command may be sent again after this answer (src/errors/error-codes.ts).
        if (!canRetry(failure.code, COMMAND_SPECS[MESSAGE_COMMANDS[name]])) throw failure;
        this.logger.debug({ node: address, code: failure.code }, 'call failed; trying another node');
        lastFailure = failure;
      }
    }
  }

  private pick(tried: ReadonlySet<string>): string | undefined {
    const candidates = this.nodes().filter((address) => !tried.has(address));
    if (candidates.length === 0) return undefined;
    this.cursor = (this.cursor + 1) % candidates.length;
    return candidates[this.cursor];
  }

  private connection(address: string): NodeConnection {
    let connection = this.connections.get(address);
    if (!connection || !connection.isAlive) {
      connection = new NodeConnection(address, this.service, Math.min(this.timeoutMs, 3_000), this.options.authToken, (dead) => {
        if (this.connections.get(address) === dead) this.connections.delete(address);
      });
      this.connections.set(address, connection);
    }
    return connection;
  }

  private send(connection: NodeConnection, name: string, request: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      connection.call(name, request, timeoutMs, (error, response) => (error ? reject(classify(error, connection.address)) : resolve(response)));
    });
  }
}

/** Turns what avsc reports into a BitacoraClientError: a declared error, a server's system error, or transport. */
function classify(error: unknown, address: string): BitacoraClientError {
  if (error instanceof BitacoraClientError) return error;
  if (error && typeof error === 'object' && !(error instanceof Error)) {
    const [branch, record] = Object.entries(error as Record<string, Record<string, unknown>>)[0] ?? [];
    if (branch === 'string') return fromSystemMessage(String(record));
    const message = String(record?.message ?? 'the server reported an error');
    const unwrap = (v: unknown): unknown => (v && typeof v === 'object' ? Object.values(v)[0] : v);
    const details = record && 'partition' in record ? { partition: unwrap(record.partition), offset: unwrap(record.offset) } : {};
    return fromServer(record?.code, message, details);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (TRANSPORT_FAILURE.test(message) || (error as { rpcCode?: string })?.rpcCode) {
    return new BitacoraClientError('TRANSPORT', `node ${address}: ${message}`);
  }
  return fromSystemMessage(message);
}

/** The server's system errors read `CODE: message` (see src/rpc/avro-errors.ts). */
function fromSystemMessage(text: string): BitacoraClientError {
  const match = /^([A-Z_]+): (.*)$/s.exec(text);
  return fromServer(match?.[1], match?.[2] ?? text, {});
}

/** A code the server sent; one this client does not know (a newer server) is SERVER_ERROR, keeping it as `serverCode`. */
function fromServer(code: unknown, message: string, details: Record<string, unknown>): BitacoraClientError {
  if (isErrorCode(code)) return new BitacoraClientError(code, message, details);
  return new BitacoraClientError('SERVER_ERROR', message, { ...details, serverCode: code });
}
