import { Pool } from 'undici';
import { loadAvroClientFactory, type AvroClientLike } from './avro-hook';
import { KeyPicker, WriteKeys } from './key-picker';
import type { OperationSpec } from './load-spec';
import { RespConnection } from './resp-client';

/**
 * One kind of request the closed loop repeats. execute() resolves only when the answer is what the benchmark
 * expects (a hit, an acknowledged write); anything else rejects, and the loop counts it as a failure.
 */
export interface Operation {
  execute(worker: number): Promise<void>;
  /** Checks after the run, e.g. that acknowledged writes read back (read-your-writes); rejects when they do not. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

export interface OperationOptions {
  /** Requests in flight at once: one connection each. */
  readonly concurrency: number;
  readonly requestTimeoutMs: number;
}

/** Builds the operation an OperationSpec describes. */
export async function createOperation(spec: OperationSpec, options: OperationOptions): Promise<Operation> {
  switch (spec.kind) {
    case 'http-get':
      return new HttpGet(spec, options);
    case 'http-set':
      return new HttpSet(spec, options);
    case 'redis-get':
    case 'redis-set':
      return RedisOperation.open(spec, options);
    case 'avro-get':
    case 'avro-set':
      return AvroOperation.open(spec, options);
  }
}

/** One keep-alive pool per base URL, `concurrency` connections in all, spread over the URLs; no pipelining. */
class HttpPools {
  private readonly pools: Pool[];

  constructor(urls: readonly string[], options: OperationOptions) {
    if (urls.length === 0) throw new RangeError('an HTTP operation needs at least one URL');
    const perUrl = Math.max(1, Math.ceil(options.concurrency / urls.length));
    this.pools = urls.map(
      (url) =>
        new Pool(url, {
          connections: perUrl,
          pipelining: 1,
          keepAliveTimeout: 60_000,
          connect: { timeout: options.requestTimeoutMs },
          headersTimeout: options.requestTimeoutMs,
          bodyTimeout: options.requestTimeoutMs,
        }),
    );
  }

  forWorker(worker: number): Pool {
    return this.pools[worker % this.pools.length]!;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }
}

class HttpGet implements Operation {
  private readonly pools: HttpPools;
  private readonly keys: KeyPicker;

  constructor(
    private readonly spec: Extract<OperationSpec, { kind: 'http-get' }>,
    options: OperationOptions,
  ) {
    this.pools = new HttpPools(spec.urls, options);
    this.keys = new KeyPicker(spec.keys);
  }

  async execute(worker: number): Promise<void> {
    const path = `/rpc?key=${this.keys.pick()}`;
    const { statusCode, body } = await this.pools.forWorker(worker).request({ method: 'GET', path });
    if (statusCode !== this.spec.expectStatus) {
      throw new Error(`GET ${path} answered ${statusCode}, expected ${this.spec.expectStatus}: ${(await body.text()).slice(0, 200)}`);
    }
    if (this.spec.expectSource === undefined) {
      await body.dump();
      return;
    }
    const text = await body.text();
    if (this.spec.expectStatus !== 200) return;
    const source = (JSON.parse(text) as { source?: unknown }).source;
    if (typeof source !== 'string' || !source.startsWith(this.spec.expectSource)) {
      throw new Error(`GET ${path} was answered by source ${String(source)}, expected ${this.spec.expectSource}*`);
    }
  }

  async verify(): Promise<void> {}

  close(): Promise<void> {
    return this.pools.close();
  }
}

class HttpSet implements Operation {
  private readonly pools: HttpPools;
  private readonly writes: WriteKeys;

  constructor(spec: Extract<OperationSpec, { kind: 'http-set' }>, options: OperationOptions) {
    this.pools = new HttpPools(spec.urls, options);
    this.writes = new WriteKeys(spec.keyPrefix);
  }

  async execute(worker: number): Promise<void> {
    const write = this.writes.next(worker);
    const path = `/rpc?key=${write.key}&value=${write.value}`;
    const { statusCode, body } = await this.pools.forWorker(worker).request({ method: 'POST', path });
    const text = await body.text();
    if (statusCode !== 200) throw new Error(`POST /rpc?key=${write.key} answered ${statusCode}: ${text.slice(0, 200)}`);
    this.writes.acknowledged(worker, write);
  }

  /** Each worker's last acknowledged write must read back from the node that acknowledged it. */
  async verify(): Promise<void> {
    for (const [worker, write] of this.writes.lastWrites().entries()) {
      const { statusCode, body } = await this.pools.forWorker(worker).request({ method: 'GET', path: `/rpc?key=${write.key}` });
      const text = await body.text();
      const value = statusCode === 200 ? (JSON.parse(text) as { value?: unknown }).value : undefined;
      if (value !== write.value) {
        throw new Error(`read-your-writes failed: GET ${write.key} after its acknowledged write answered ${statusCode} ${text.slice(0, 200)}`);
      }
    }
  }

  close(): Promise<void> {
    return this.pools.close();
  }
}

/** GET or SET on redis-server, one connection per worker, so one command in flight per connection (as HTTP). */
class RedisOperation implements Operation {
  private readonly keys: KeyPicker | undefined;
  private readonly writes: WriteKeys | undefined;

  private constructor(
    spec: Extract<OperationSpec, { kind: 'redis-get' | 'redis-set' }>,
    private readonly connections: RespConnection[],
  ) {
    this.keys = spec.kind === 'redis-get' ? new KeyPicker(spec.keys) : undefined;
    this.writes = spec.kind === 'redis-set' ? new WriteKeys(spec.keyPrefix) : undefined;
  }

  static async open(spec: Extract<OperationSpec, { kind: 'redis-get' | 'redis-set' }>, options: OperationOptions): Promise<RedisOperation> {
    const connections = Array.from({ length: options.concurrency }, () => new RespConnection(spec.port, '127.0.0.1', options.requestTimeoutMs));
    try {
      await Promise.all(connections.map((connection) => connection.ready()));
    } catch (error) {
      await Promise.all(connections.map((connection) => connection.close()));
      throw error;
    }
    return new RedisOperation(spec, connections);
  }

  async execute(worker: number): Promise<void> {
    const connection = this.connections[worker % this.connections.length]!;
    if (this.keys) {
      const key = this.keys.pick();
      const reply = await connection.command(['GET', key]);
      if (!Buffer.isBuffer(reply)) throw new Error(`redis GET ${key} answered ${String(reply)}, expected a value`);
      return;
    }
    const write = this.writes!.next(worker);
    const reply = await connection.command(['SET', write.key, write.value]);
    if (reply !== 'OK') throw new Error(`redis SET ${write.key} answered ${String(reply)}`);
    this.writes!.acknowledged(worker, write);
  }

  async verify(): Promise<void> {
    if (!this.writes) return;
    const connection = this.connections[0]!;
    for (const write of this.writes.lastWrites()) {
      const reply = await connection.command(['GET', write.key]);
      if (!Buffer.isBuffer(reply) || reply.toString() !== write.value) throw new Error(`redis GET ${write.key} does not read back its SET`);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
  }
}

/** get()/set() through the project's Avro client (src/client/avro-client.ts), once it exists. */
class AvroOperation implements Operation {
  private readonly keys: KeyPicker | undefined;
  private readonly writes: WriteKeys | undefined;

  private constructor(
    spec: Extract<OperationSpec, { kind: 'avro-get' | 'avro-set' }>,
    private readonly client: AvroClientLike,
  ) {
    this.keys = spec.kind === 'avro-get' ? new KeyPicker(spec.keys) : undefined;
    this.writes = spec.kind === 'avro-set' ? new WriteKeys(spec.keyPrefix) : undefined;
  }

  static async open(spec: Extract<OperationSpec, { kind: 'avro-get' | 'avro-set' }>, options: OperationOptions): Promise<AvroOperation> {
    const createAvroClient = loadAvroClientFactory();
    return new AvroOperation(spec, await createAvroClient({ addresses: [...spec.addresses], timeoutMs: options.requestTimeoutMs }));
  }

  async execute(worker: number): Promise<void> {
    if (this.keys) {
      const key = this.keys.pick();
      if ((await this.client.get(key)) === null) throw new Error(`avro get ${key} found nothing, expected a hit`);
      return;
    }
    const write = this.writes!.next(worker);
    await this.client.set(write.key, Buffer.from(write.value));
    this.writes!.acknowledged(worker, write);
  }

  async verify(): Promise<void> {
    if (!this.writes) return;
    for (const write of this.writes.lastWrites()) {
      const entry = await this.client.get(write.key);
      if (!entry || !entry.value.equals(Buffer.from(write.value))) throw new Error(`avro get ${write.key} does not read back its set`);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
