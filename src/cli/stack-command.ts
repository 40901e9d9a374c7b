import { readChoice, type Environment } from '../config/env-parsers';
import { loadStackConfig } from '../config/stack-config';
import { EXIT_CODES } from '../errors/error-codes';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type Logger } from '../logging/logger';
import { STACK_HOST } from '../stack/free-port';
import { DEFAULT_KAFKA_VERSION, KAFKA_VERSIONS } from '../stack/stack-versions';
import { stackDown, stackStatus, stackUp, startStack, type StackOptions, type StackStatus } from '../stack/stack';

const USAGE = `usage: bitacora stack <up [--brokers N] [--kafka-version V] [--sasl-plain] [--foreground] | down | status>

  up              start Kafka and ZooKeeper in the background (idempotent); they run until \`stack down\`
  up --brokers N  run N brokers (1 to 9, default STACK_BROKERS or 1), each a KRaft controller too; broker i
                  listens on KAFKA_PORT + 3(i-1) and KAFKA_CONTROLLER_PORT + 3(i-1); 3 or more give
                  replication factor 3 and min.insync.replicas 2
  up --kafka-version V
                  the Kafka release to run: ${KAFKA_VERSIONS.join(' or ')} (default STACK_KAFKA_VERSION or ${DEFAULT_KAFKA_VERSION})
  up --sasl-plain add a SASL_PLAINTEXT listener (PLAIN) on STACK_SASL_PORT + 3(i-1) to every broker, accepting the
                  one user STACK_SASL_USERNAME / STACK_SASL_PASSWORD
  up --foreground run them attached to this terminal; Ctrl-C stops them
  down            stop the stack this STACK_DIR started (every broker, then ZooKeeper)
  status          show what runs; exit code 0 when all of it answers, 3 otherwise

environment: ZK_PORT (2181), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), STACK_BROKERS (1),
             STACK_SASL_PORT (9094), STACK_SASL_USERNAME, STACK_SASL_PASSWORD, STACK_DIR (.stack),
             STACK_CACHE_DIR (~/.cache/bitacora), STACK_START_TIMEOUT_MS (90000), STACK_KAFKA_VERSION (${DEFAULT_KAFKA_VERSION}),
             LOG_LEVEL (warn)
`;

/** Exit code of `stack status` when anything is down: the catalogue's "unavailable" (docs/api.md, "Errors"). */
export const STACK_DOWN_EXIT_CODE = EXIT_CODES.unavailable;
const USAGE_EXIT_CODE = EXIT_CODES.usage;

/**
 * `bitacora stack ...`: prints for humans to `out`, logs to `logger` (stderr by default, LOG_LEVEL, default warn).
 * Resolves to the exit code; ConfigError and StackError are thrown for main to report.
 */
export async function runStackCommand(args: string[], env: Environment, out: NodeJS.WritableStream, logger?: Logger): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    out.write(USAGE);
    return subcommand === undefined ? USAGE_EXIT_CODE : 0;
  }
  const flags = ['up', 'down', 'status'].includes(subcommand) ? parseFlags(subcommand, rest) : undefined;
  if (!flags) {
    out.write(`bitacora stack: unknown arguments "${args.join(' ')}"\n${USAGE}`);
    return USAGE_EXIT_CODE;
  }
  if (flags.help) {
    out.write(USAGE);
    return 0;
  }

  const config = loadStackConfig(env, process.cwd(), { brokers: flags.brokers, saslPlain: flags.saslPlain, kafkaVersion: flags.kafkaVersion });
  const log =
    logger ??
    createLogger({ level: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'warn'), format: readChoice(env, 'LOG_FORMAT', LOG_FORMATS, 'auto'), name: 'bitacora-stack' });
  const options: StackOptions = { ...config, logger: log, env };
  switch (subcommand) {
    case 'up':
      return flags.foreground ? upInForeground(options, out) : up(options, out);
    case 'down':
      return down(options, out);
    default:
      return status(options, out);
  }
}

interface StackFlags {
  help: boolean;
  foreground: boolean;
  saslPlain: boolean;
  /** The raw --brokers and --kafka-version values; loadStackConfig validates them and names the flag when wrong. */
  brokers: string | undefined;
  kafkaVersion: string | undefined;
}

/** The flags of `stack <subcommand>`, undefined when any is unknown; only `up` takes --brokers N (or =N), --sasl-plain, --foreground. */
function parseFlags(subcommand: string, args: readonly string[]): StackFlags | undefined {
  const flags: StackFlags = { help: false, foreground: false, saslPlain: false, brokers: undefined, kafkaVersion: undefined };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') flags.help = true;
    else if (subcommand !== 'up') return undefined;
    else if (arg === '--foreground') flags.foreground = true;
    else if (arg === '--sasl-plain') flags.saslPlain = true;
    else if (arg === '--brokers' && i + 1 < args.length) flags.brokers = args[++i];
    else if (arg.startsWith('--brokers=')) flags.brokers = arg.slice('--brokers='.length);
    else if (arg === '--kafka-version' && i + 1 < args.length) flags.kafkaVersion = args[++i];
    else if (arg.startsWith('--kafka-version=')) flags.kafkaVersion = arg.slice('--kafka-version='.length);
    else return undefined;
  }
  return flags;
}

function starting(options: StackOptions): string {
  const count = options.brokers ?? 1;
  const version = options.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
  const kafka = count === 1 ? `Kafka ${version}` : `${count} Kafka ${version} brokers`;
  return `starting ${kafka} and ZooKeeper in ${options.dir} (the first run downloads Kafka with mvn)...\n`;
}

async function up(options: StackOptions, out: NodeJS.WritableStream): Promise<number> {
  out.write(starting(options));
  const state = await stackUp(options);
  out.write(state.alreadyRunning ? 'stack already running\n' : 'stack started\n');
  const pids = [`zookeeper ${state.zookeeper.pid}`, ...state.kafka.map((broker) => `kafka-${broker.nodeId} ${broker.pid}`)].join(', ');
  out.write(
    where(state.zookeeperConnectString, state.kafkaBrokers, state.saslBrokers, state.dir, state.kafkaVersion) + `pids       ${pids}; stop with: npx bitacora stack down\n`,
  );
  return 0;
}

async function upInForeground(options: StackOptions, out: NodeJS.WritableStream): Promise<number> {
  out.write(starting(options));
  const stack = await startStack(options);
  out.write(`stack started\n${where(stack.zookeeperConnectString, stack.kafkaBrokers, stack.saslBrokers, stack.dir, stack.kafkaVersion)}press Ctrl-C to stop\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(received);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  out.write(`${signal}: stopping the stack...\n`);
  await stack.stop();
  out.write('stack stopped\n');
  return 0;
}

async function down(options: StackOptions, out: NodeJS.WritableStream): Promise<number> {
  const result = await stackDown(options);
  if (result.stopped.length === 0) out.write(`no stack running in ${result.dir}\n`);
  else out.write(`stopped ${result.stopped.map((entry) => `${entry.service} (pid ${entry.pid})`).join(', ')}\n`);
  return 0;
}

async function status(options: StackOptions, out: NodeJS.WritableStream): Promise<number> {
  const current = await stackStatus(options);
  out.write(describeStatus(current));
  return current.state === 'running' ? 0 : STACK_DOWN_EXIT_CODE;
}

/** The human-readable `stack status` report. */
export function describeStatus(current: StackStatus): string {
  const since = current.recorded && current.state !== 'down' ? ` since ${current.recorded.startedAt}` : '';
  const version = current.recorded?.kafkaVersion ? `, Kafka ${current.recorded.kafkaVersion}` : '';
  const lines = [`stack ${current.state}${since} (${current.dir}${version})`];
  for (const entry of current.processes) {
    const health = entry.alive ? (entry.answering ? 'alive, answering' : 'alive, NOT answering') : 'not running';
    lines.push(`${entry.service.padEnd(10)} ${STACK_HOST}:${entry.port}  pid ${entry.pid}  ${health}`);
  }
  for (const entry of current.untracked) {
    const note =
      entry.mode === 'detached'
        ? 'runs but is not in stack.json (npx bitacora stack down stops it)'
        : 'runs attached to another process (npm start or stack up --foreground)';
    lines.push(`${entry.service.padEnd(10)} pid ${entry.pid} ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Where the stack answers; the SASL user's password is never printed. */
function where(zookeeper: string, kafka: readonly string[], sasl: readonly string[] | undefined, dir: string, version: string | undefined): string {
  const saslLine = sasl ? `kafka sasl ${sasl.join(',')} (SASL_PLAINTEXT, PLAIN)\n` : '';
  const versionNote = version ? ` (Kafka ${version})` : '';
  return `zookeeper  ${zookeeper}\nkafka      ${kafka.join(',')}${versionNote}\n${saslLine}dir        ${dir}\n`;
}

