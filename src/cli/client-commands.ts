import { BitacoraClientError } from '../client/client-error';
import { EXIT_CODES } from '../errors/error-codes';
import { createAvroClient } from '../client/avro-client';
import type { Environment } from '../config/env-parsers';
import { loadClientConfig } from '../config/client-config';


const USAGE = `usage: bitacora get KEY | set KEY VALUE | del KEY | mget KEY... | exists KEY... | mset KEY VALUE [KEY VALUE]...
  Finds nodes through ZooKeeper (ZOOKEEPER_HOST, ZK_ROOT or KAFKA_TOPIC), or uses AVRO_ADDRESSES=host:port,...
`;

/**
 * `bitacora get|set|del|mget|exists|mset` over the Avro RPC: a codec of the commands (parse the arguments, call,
 * print and exit with the catalogue's code). get prints the value (nothing, exit 1, when absent); mget prints one
 * line per key in order, an empty line for an absent key (exit 1 if any is absent); exists prints how many of the
 * keys are present (exit 1 if not all are); set, del and mset print nothing.
 */
export async function runClientCommand(command: string, args: string[], env: Environment, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const arity: Record<string, (n: number) => boolean> = {
    get: (n) => n === 1,
    set: (n) => n === 2,
    del: (n) => n === 1,
    mget: (n) => n >= 1,
    exists: (n) => n >= 1,
    mset: (n) => n >= 2 && n % 2 === 0,
  };
  if (!arity[command]?.(args.length)) {
    err.write(USAGE);
    return EXIT_CODES.usage;
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
    return EXIT_CODES.unavailable;
  }
  try {
    switch (command) {
      case 'get': {
        const entry = await client.get(args[0]);
        if (!entry) return EXIT_CODES.negative;
        out.write(entry.value);
        out.write('\n');
        return EXIT_CODES.ok;
      }
      case 'set':
        await client.set(args[0], args[1]);
        return EXIT_CODES.ok;
      case 'del':
        await client.remove(args[0]);
        return EXIT_CODES.ok;
      case 'exists': {
        const count = await client.exists(args);
        out.write(`${count}\n`);
        return count === args.length ? EXIT_CODES.ok : EXIT_CODES.negative;
      }
      case 'mset':
        await client.multiSet(args.flatMap((key, i) => (i % 2 === 0 ? [[key, args[i + 1]] as const] : [])));
        return EXIT_CODES.ok;
      default: {
        const entries = await client.multiGet(args);
        for (const entry of entries) out.write(entry ? Buffer.concat([entry.value, Buffer.from('\n')]) : '\n');
        return entries.every(Boolean) ? EXIT_CODES.ok : EXIT_CODES.negative;
      }
    }
  } catch (error) {
    if (error instanceof BitacoraClientError) {
      const hint = error.kind === 'transport' ? ' (check AVRO_ADDRESSES, or ZOOKEEPER_HOST and ZK_ROOT, and that a node runs)' : '';
      err.write(`bitacora: ${error.code}: ${error.message}${hint}\n`);
      // The catalogue's exit code: 2 bad input, 3 unavailable, 4 a write durable but unconfirmed, 5 anything else.
      return error.exitCode;
    }
    err.write(`bitacora: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_CODES.failed;
  } finally {
    await client.close();
  }
}
