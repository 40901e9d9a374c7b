// First of all, before anything loads kafkajs: its producer keeps the message grouping it finds then (see the patch).
import '../patches/kafkajs-message-grouping';
import { ConfigError } from '../config/config-error';
import { BitacoraError } from '../errors/bitacora-error';
import { EXIT_CODES } from '../errors/error-codes';
import { runClientCommand } from './client-commands';
import { runDigestCommand } from './digest-command';
import { runNodeCommand } from './node-command';
import { runStackCommand } from './stack-command';
import { runStartCommand } from './start-command';

const USAGE = `usage: bitacora <command>

  node                 run one cache node, configured by environment variables (see .env.example)
  start                the local stack (if not already up) plus a 3-node cluster, in the foreground
  stack up|down|status run, stop or inspect the local Kafka + ZooKeeper stack
  get KEY              print a key's value over Avro RPC (exit 1 when absent)
  set KEY VALUE        write a value (answers once the node has applied it)
  del KEY              delete a key
  mget KEY...          print several values, one line each (an empty line for an absent key)
  exists KEY...        print how many of the keys are present (exit 1 unless all are)
  mset KEY VALUE...    write several values (answers once the node has applied them all)
  digest [--nodes URL,...]  the topic's per-partition digest; with --nodes, whether those nodes converged to it
`;

/** The `bitacora` command. This is the one place that reads process.env; everything below gets typed config. */
export function main(args: string[]): void {
  run(args)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        if (error instanceof ConfigError) process.stderr.write(`bitacora: configuration error: ${error.message}\n`);
        else process.stderr.write(`bitacora: ${error instanceof Error ? error.message : String(error)}\n`);
        // Every command exits with the catalogue's codes (docs/api.md): a ConfigError is 2, a StackError 5.
        process.exitCode = error instanceof BitacoraError ? error.exitCode : EXIT_CODES.failed;
      },
    )
    .finally(() => exitIfLingering(args[0]));
}

/** How long a finished one-shot command may take to end by itself before it is ended. */
const LINGER_MS = 3_000;

/**
 * A one-shot command (everything but `node` and `start`) is done once it has answered. Something left open (a
 * socket a library did not close) must not keep it alive: `stack up` once hung for minutes after its summary. The
 * timer does not itself keep the process alive; it fires only if something else does, says what, and exits.
 */
function exitIfLingering(command: string | undefined): void {
  if (command === 'node' || command === 'start') return;
  setTimeout(() => {
    const resources = process.getActiveResourcesInfo().filter((resource) => resource !== 'Timeout');
    process.stderr.write(`bitacora: the command finished but ${resources.join(', ') || 'something'} kept the process alive; exiting\n`);
    process.exit();
  }, LINGER_MS).unref();
}

async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const env = { ...process.env };
  switch (command) {
    case 'node':
      return runNodeCommand(env);
    case 'stack':
      return runStackCommand(rest, env, process.stdout);
    case 'start':
      return runStartCommand(env, process.stdout);
    case 'digest':
      return runDigestCommand(rest, env, process.stdout);
    case 'get':
    case 'set':
    case 'del':
    case 'mget':
    case 'exists':
    case 'mset':
      return runClientCommand(command, rest, env, process.stdout, process.stderr);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
    default:
      process.stderr.write(`bitacora: unknown command "${command}"\n${USAGE}`);
      return EXIT_CODES.usage;
  }
}
