import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Service } from 'avsc';
import { patchAvscDecoding } from '../patches/avsc-decoding';

/** The protocol's namespace, which prefixes the names of its declared errors. */
export const AVRO_NAMESPACE = 'com.grayscaleconsulting.bitacora.rpc.avro';

/** schemas/ sits two folders up from both src/rpc/ and dist/rpc/. */
const SCHEMAS = path.join(__dirname, '..', '..', 'schemas');

/** The protocol as written in schemas/bitacora.avpr (JSON). */
export function readProtocol(file = 'bitacora.avpr'): { messages: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(SCHEMAS, file), 'utf8'));
}

/** The full service a node serves: the original three messages and the richer ones. */
export function serverService(): Service {
  // Every reader of Bitacora's protocol, server and client, decodes with bounded blocks and strings as sent.
  patchAvscDecoding();
  return Service.forProtocol(readProtocol());
}

/**
 * The service the TypeScript client speaks: the same protocol without `delete`. avsc generates a method named after
 * each message, and `delete` is a reserved word; the standard handshake resolves this subset against the server's.
 */
export function clientService(): Service {
  patchAvscDecoding();
  const protocol = readProtocol();
  const { delete: _reserved, ...messages } = protocol.messages;
  return Service.forProtocol({ ...protocol, messages });
}
