import { BitacoraClientError } from '../client/client-error';
import { createAvroClient } from '../client/avro-client';
import type { Environment } from '../config/env-parsers';
import { loadClientConfig } from '../config/client-config';

/** Exit codes of the client commands. */
export const CLIENT_EXIT = { ok: 0, absent: 1, usage: 2, failed: 3 } as const;

const USAGE = `usage: bitacora get KEY | set KEY VALUE | del KEY | mget KEY...
  Finds nodes through ZooKeeper (ZOOKEEPER_HOST, ZK_ROOT or KAFKA_TOPIC), or uses AVRO_ADDRESSES=host:port,...
`;

/**
 * `bitacora get|set|del|mget` over the Avro RPC. get prints the value (nothing, exit 1, when absent); mget prints
 * one line per key in order, an empty line for an absent key (exit 1 if any is absent); set and del print nothing.
 */
export async function runClientCommand(command: string, args: string[], env: Environment, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const arity: Record<string, (n: number) => boolean> = { get: (n) => n === 1, set: (n) => n === 2, del: (n) => n === 1, mget: (n) => n >= 1 };
  if (!arity[command]?.(args.length)) {
    err.write(USAGE);
    return CLIENT_EXIT.usage;
  }
  const config = loadClientConfig(env);
  let client;
  try {
    client = await createAvroClient({
      addresses: config.addresses.length > 0 ? config.addresses : undefined,
      zookeeper: config.addresses.length > 0 ? undefined : config.zookeeper,
      timeoutMs: config.timeoutMs,
      authToken: config.authToken,
    });
  } catch (error) {
    err.write(`bitacora: cannot reach the cluster: ${error instanceof Error ? error.message : String(error)}\n`);
    return CLIENT_EXIT.failed;
  }
  try {
    switch (command) {
      case 'get': {
        const entry = await client.get(args[0]);
        if (!entry) return CLIENT_EXIT.absent;
        out.write(entry.value);
        out.write('\n');
        return CLIENT_EXIT.ok;
      }
      case 'set':
        await client.set(args[0], args[1]);
        return CLIENT_EXIT.ok;
      case 'del':
        await client.remove(args[0]);
        return CLIENT_EXIT.ok;
      default: {
        const entries = await client.multiGet(args);
        for (const entry of entries) out.write(entry ? Buffer.concat([entry.value, Buffer.from('\n')]) : '\n');
        return entries.every(Boolean) ? CLIENT_EXIT.ok : CLIENT_EXIT.absent;
      }
    }
  } catch (error) {
    if (error instanceof BitacoraClientError) {
      const hint = error.kind === 'transport' ? ' (check AVRO_ADDRESSES, or ZOOKEEPER_HOST and ZK_ROOT, and that a node runs)' : '';
      err.write(`bitacora: ${error.code}: ${error.message}${hint}\n`);
    } else {
      err.write(`bitacora: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    return CLIENT_EXIT.failed;
  } finally {
    await client.close();
  }
}
