import { type Call, type CommandSpec, command } from './command-spec';
import { globMatcher } from './glob-pattern';
import { array, bulk, bulks, integer, NULL_BULK, OK, type Reply, simple } from './reply';
import { redisErrors } from './resp-errors';
import { error } from './reply';

/** SET's options, recognised so they get a clear refusal rather than a syntax error. */
const SET_OPTIONS = new Set(['ex', 'px', 'exat', 'pxat', 'nx', 'xx', 'keepttl', 'get']);

/** Most keys SCAN's COUNT may ask for in one page. */
const MAX_SCAN_COUNT = 100_000;

const then = <T>(value: T | Promise<T>, map: (settled: T) => Reply): Reply | Promise<Reply> => (value instanceof Promise ? value.then(map) : map(value));

/** The string and keyspace commands: thin calls into RespBackend. */
export const DATA_COMMANDS: readonly CommandSpec[] = [
  command({
    name: 'get',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    summary: 'Returns the string value of a key.',
    run: ({ args, server }) => then(server.backend.get(args[0]!), (value) => (value === null ? NULL_BULK : bulk(value))),
  }),
  command({
    name: 'set',
    arity: -3,
    flags: ['write'],
    concurrent: true,
    keys: [1, 1, 1],
    group: 'string',
    summary: 'Sets the string value of a key (plain: EX, PX, NX, XX, KEEPTTL and GET are not supported yet).',
    run: ({ args, server }) => {
      if (args.length > 2) {
        const option = args[2]!.toString('latin1').toLowerCase();
        if (!SET_OPTIONS.has(option)) return redisErrors.syntax();
        return error(`ERR SET ${option.toUpperCase()} is not supported by Bitacora yet: send a plain SET key value (see docs/resp.md)`);
      }
      return server.backend.set(args[0]!, args[1]!).then(() => OK);
    },
  }),
  command({
    name: 'mset',
    arity: -3,
    flags: ['write'],
    concurrent: true,
    keys: [1, -1, 2],
    group: 'string',
    summary: 'Sets several keys; not atomic for readers (each key is its own Kafka record).',
    run: ({ args, server }) => {
      if (args.length % 2 !== 0) return redisErrors.wrongArity('mset');
      const pairs: Array<[Buffer, Buffer]> = [];
      for (let i = 0; i < args.length; i += 2) pairs.push([args[i]!, args[i + 1]!]);
      return server.backend.mset(pairs).then(() => OK);
    },
  }),
  command({
    name: 'mget',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [1, -1, 1],
    group: 'string',
    summary: 'Returns the values of several keys.',
    run: ({ args, server }) => then(server.backend.mget(args), bulks),
  }),
  ...['del', 'unlink'].map((name) =>
    command({
      name,
      arity: -2,
      flags: ['write'],
      keys: [1, -1, 1],
      group: 'generic',
      summary: 'Deletes keys; answers how many of them this node held.',
      run: ({ args, server }: Call) => server.backend.del(args).then(integer),
    }),
  ),
  command({
    name: 'exists',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [1, -1, 1],
    group: 'generic',
    summary: 'Counts how many of the keys exist.',
    run: ({ args, server }) => then(server.backend.exists(args), integer),
  }),
  command({
    name: 'strlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    summary: "Returns the length of a key's value.",
    run: ({ args, server }) => then(server.backend.get(args[0]!), (value) => integer(value?.length ?? 0)),
  }),
  command({
    name: 'type',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    group: 'generic',
    summary: 'Returns the type of a key: string, or none.',
    run: ({ args, server }) => then(server.backend.get(args[0]!), (value) => simple(value === null ? 'none' : 'string')),
  }),
  command({
    name: 'dbsize',
    arity: 1,
    flags: ['readonly', 'fast', 'loading'],
    group: 'server',
    summary: 'Returns the number of keys this node holds.',
    run: ({ server }) => integer(server.backend.size()),
  }),
  command({
    name: 'scan',
    arity: -2,
    flags: ['readonly'],
    group: 'generic',
    summary: "Iterates over this node's keys (see docs/resp.md for the guarantee).",
    run: ({ args, server }) => {
      let count = 10;
      let match: ((key: string) => boolean) | undefined;
      let type: string | undefined;
      for (let i = 1; i < args.length; i += 2) {
        const option = args[i]!.toString('latin1').toLowerCase();
        const value = args[i + 1];
        if (value === undefined) return redisErrors.syntax();
        if (option === 'count') {
          const n = parseInteger(value);
          if (n === undefined) return redisErrors.notInteger();
          if (n < 1) return redisErrors.syntax();
          count = Math.min(n, MAX_SCAN_COUNT);
        } else if (option === 'match') match = globMatcher(value.toString('utf8'));
        else if (option === 'type') type = value.toString('latin1').toLowerCase();
        else return redisErrors.syntax();
      }
      const page = server.backend.scan(args[0]!.toString('latin1'), count);
      // Every value is a string: TYPE string keeps all, any other type none.
      const keys = type !== undefined && type !== 'string' ? [] : match ? page.keys.filter(match) : page.keys;
      return array([bulk(page.cursor), bulks(keys)]);
    },
  }),
  command({
    name: 'keys',
    arity: 2,
    flags: ['readonly'],
    group: 'generic',
    summary: "Returns this node's keys that match a pattern: O(n), the node serves nothing else meanwhile.",
    run: ({ args, server }) => {
      const match = globMatcher(args[0]!.toString('utf8'));
      const found: string[] = [];
      for (const key of server.backend.keys()) if (match(key)) found.push(key);
      return bulks(found);
    },
  }),
];

/** A whole decimal integer argument, or undefined (Redis's "value is not an integer or out of range"). */
export function parseInteger(arg: Buffer): number | undefined {
  const text = arg.toString('latin1');
  if (!/^-?\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
