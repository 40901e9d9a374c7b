import { existsSync } from 'node:fs';
import path from 'node:path';

/** The part of src/client/avro-client.ts the benchmark uses: (await) createAvroClient({ addresses, timeoutMs }). */
export interface AvroClientLike {
  get(key: string): Promise<{ readonly value: Buffer } | null>;
  set(key: string, value: Buffer): Promise<unknown>;
  close(): Promise<void>;
}

export type AvroClientFactory = (options: { addresses: string[]; timeoutMs: number }) => AvroClientLike | Promise<AvroClientLike>;

const AVRO_CLIENT_MODULE = path.join(__dirname, '../../src/client/avro-client');

/**
 * The Avro client's factory, loaded at run time so the benchmark builds and runs before src/client/ exists;
 * undefined while it does not (the avro scenarios then report themselves as not available).
 */
export function findAvroClientFactory(): AvroClientFactory | undefined {
  if (!['.ts', '.js'].some((extension) => existsSync(AVRO_CLIENT_MODULE + extension))) return undefined;
  const loaded = require(AVRO_CLIENT_MODULE) as { createAvroClient?: unknown };
  return typeof loaded.createAvroClient === 'function' ? (loaded.createAvroClient as AvroClientFactory) : undefined;
}

export function loadAvroClientFactory(): AvroClientFactory {
  const factory = findAvroClientFactory();
  if (!factory) throw new Error(`the Avro client is not there yet: ${AVRO_CLIENT_MODULE}.ts must export createAvroClient`);
  return factory;
}
