import os from 'node:os';
import { type Call, type CommandSpec, command } from './command-spec';
import { REDIS_COMPATIBLE_VERSION } from './connection-commands';
import { globMatcher } from './glob-pattern';
import { array, bulk, integer, map, NULL_ARRAY, type Reply, simple, verbatim } from './reply';
import { redisErrors } from './resp-errors';

/** CONFIG GET answers these as redis-benchmark and clients ask; any other parameter is an empty answer. */
const CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['save', ''],
  ['appendonly', 'no'],
  ['databases', '1'],
];

const INFO_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'keyspace'] as const;
type InfoSection = (typeof INFO_SECTIONS)[number];

/** INFO's text: Redis's sections and field names, with this node's figures. */
function infoText(call: Call, sections: readonly InfoSection[]): string {
  const { server } = call;
  const info = server.backend.info();
  const uptime = Math.floor((Date.now() - server.startedAt) / 1000);
  const memory = process.memoryUsage();
  const lines: Record<InfoSection, string[]> = {
    server: [
      `redis_version:${REDIS_COMPATIBLE_VERSION}`,
      `bitacora_version:${server.version}`,
      'redis_mode:standalone',
      `os:${os.type()} ${os.release()} ${os.arch()}`,
      `process_id:${process.pid}`,
      `tcp_port:${server.port()}`,
      `uptime_in_seconds:${uptime}`,
      `uptime_in_days:${Math.floor(uptime / 86_400)}`,
      `node_name:${server.nodeName}`,
    ],
    clients: [`connected_clients:${[...server.sessions()].length}`],
    memory: [`used_memory:${memory.heapUsed}`, `used_memory_rss:${memory.rss}`, `used_memory_dataset:${info.approximateBytes}`],
    persistence: [`loading:${info.loading ? 1 : 0}`, 'rdb_bgsave_in_progress:0', 'aof_enabled:0'],
    stats: [
      `total_connections_received:${server.stats.connectionsReceived}`,
      `total_commands_processed:${server.stats.commands}`,
      `rejected_connections:${server.stats.rejectedConnections}`,
      `keyspace_hits:${info.hits}`,
      `keyspace_misses:${info.misses}`,
    ],
    replication: [
      'role:master',
      'connected_slaves:0',
      // Bitacora's replication is the Kafka log: this node's position and lag on each partition.
      ...info.partitions.map((p) => `partition_${p.partition}:position=${p.position},end=${p.end},lag=${p.lag}`),
    ],
    keyspace: info.keys > 0 ? [`db0:keys=${info.keys},expires=0,avg_ttl=0`] : [],
  };
  return sections.map((section) => [`# ${section[0]!.toUpperCase()}${section.slice(1)}`, ...lines[section]].join('\r\n')).join('\r\n\r\n') + '\r\n';
}

/** COMMAND's description of one command (Redis 7's ten fields). */
function commandInfo(spec: CommandSpec): Reply {
  const [first, last, step] = spec.keys;
  return array([
    bulk(spec.name),
    integer(spec.arity),
    { type: 'set', items: spec.flags.map((f) => simple(f)) },
    integer(first),
    integer(last),
    integer(step),
    { type: 'set', items: [simple(`@${spec.group}`)] },
    array([]),
    array([]),
    array([]),
  ]);
}

function commandDocs(spec: CommandSpec): Reply {
  return map([
    ['summary', bulk(spec.summary)],
    ['since', bulk('1.0.0')],
    ['group', bulk(spec.group)],
  ]);
}

/** INFO, CONFIG, COMMAND. */
export const SERVER_COMMANDS: readonly CommandSpec[] = [
  command({
    name: 'info',
    arity: -1,
    flags: ['loading'],
    group: 'server',
    summary: 'Server, clients, memory, persistence (loading), stats, replication (Kafka positions) and keyspace.',
    run: (call) => {
      const asked = call.args.map((a) => a.toString('latin1').toLowerCase());
      const all = asked.length === 0 || asked.some((s) => s === 'all' || s === 'everything' || s === 'default');
      const sections = all ? INFO_SECTIONS : INFO_SECTIONS.filter((s) => asked.includes(s));
      return verbatim(sections.length === 0 ? '' : infoText(call, sections));
    },
  }),
  command({
    name: 'config',
    arity: -2,
    flags: ['loading'],
    group: 'server',
    summary: 'CONFIG GET: save and appendonly as redis-benchmark asks; no other parameter.',
    run: ({ args }) => {
      const sub = args[0]!.toString('latin1').toLowerCase();
      if (sub !== 'get') {
        if (['set', 'rewrite', 'resetstat'].includes(sub)) {
          return { type: 'error', line: `ERR CONFIG ${sub.toUpperCase()} is not supported by Bitacora: nodes are configured by environment variables (docs/configuration.md)` };
        }
        return redisErrors.unknownSubcommand('config', args[0]!);
      }
      if (args.length < 2) return redisErrors.wrongArity('config|get');
      const matchers = args.slice(1).map((a) => globMatcher(a.toString('utf8').toLowerCase()));
      return map(CONFIG.filter(([name]) => matchers.some((m) => m(name))).map(([name, value]) => [name, bulk(value)] as const));
    },
  }),
  command({
    name: 'command',
    arity: -1,
    flags: ['loading'],
    group: 'server',
    summary: 'COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND DOCS, COMMAND LIST.',
    run: ({ args, server }) => {
      const specs = server.commands();
      if (args.length === 0) return array([...specs.values()].map(commandInfo));
      const sub = args[0]!.toString('latin1').toLowerCase();
      const named = (): CommandSpec[] =>
        args.length === 1 ? [...specs.values()] : args.slice(1).flatMap((a) => specs.get(a.toString('latin1').toLowerCase()) ?? []);
      switch (sub) {
        case 'count':
          return integer(specs.size);
        case 'list':
          return array([...specs.keys()].map((name) => bulk(name)));
        case 'info':
          return array(
            args.length === 1 ? [...specs.values()].map(commandInfo) : args.slice(1).map((a) => {
              const spec = specs.get(a.toString('latin1').toLowerCase());
              return spec ? commandInfo(spec) : NULL_ARRAY;
            }),
          );
        case 'docs':
          return map(named().map((spec) => [spec.name, commandDocs(spec)] as const));
        default:
          return redisErrors.unknownSubcommand('command', args[0]!);
      }
    },
  }),
];
