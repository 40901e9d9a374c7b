import { type CommandSpec, command } from './command-spec';
import { error } from './reply';

/** Redis commands Bitacora does not have, each group with what to do instead. */
const UNSUPPORTED: ReadonlyArray<readonly [CommandSpec['group'], readonly string[], string]> = [
  [
    'transactions',
    ['multi', 'exec', 'discard', 'watch', 'unwatch'],
    'Bitacora has no transactions: each command is applied on its own through Kafka; send the commands without MULTI',
  ],
  ['scripting', ['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script', 'function', 'fcall', 'fcall_ro'], 'Bitacora runs no scripts: send the commands themselves'],
  [
    'server',
    ['flushdb', 'flushall'],
    "Bitacora does not flush: its contents are the Kafka topic's; delete keys with DEL, or start nodes on a new KAFKA_TOPIC",
  ],
  [
    'string',
    ['incr', 'decr', 'incrby', 'decrby', 'incrbyfloat', 'append', 'getset', 'getdel', 'getex', 'setnx', 'setex', 'psetex', 'msetnx', 'setrange', 'getrange', 'expire', 'pexpire', 'ttl', 'pttl', 'persist', 'rename', 'renamenx'],
    'Bitacora supports GET, SET (plain), MGET, MSET, DEL, UNLINK, EXISTS, STRLEN, TYPE (docs/resp.md)',
  ],
  [
    'generic',
    ['hset', 'hget', 'hgetall', 'hdel', 'lpush', 'rpush', 'lpop', 'rpop', 'lrange', 'sadd', 'srem', 'smembers', 'zadd', 'zrange', 'zrem', 'xadd', 'xread', 'publish', 'subscribe', 'psubscribe', 'pfadd'],
    'Bitacora stores strings only: encode the structure in a value, or use one key per field',
  ],
];

/** The commands that answer a clear refusal rather than "unknown command". */
export const UNSUPPORTED_COMMANDS: readonly CommandSpec[] = UNSUPPORTED.flatMap(([group, names, advice]) =>
  names.map((name) =>
    command({
      name,
      arity: -1,
      group,
      summary: `Not supported: ${advice}.`,
      run: () => error(`ERR ${name.toUpperCase()} is not supported: ${advice}`),
    }),
  ),
);
