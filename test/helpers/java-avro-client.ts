import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { locateJava, locateMaven } from '../../src/stack/java-tools';
import { onTeardown } from './teardown';

/**
 * The Java client of test/interop/java: Avro's own NettyTransceiver and GenericRequestor speaking the original
 * protocol (schemas/original-bitacora.avpr), as a client generated from it would. Built with mvn once per test run.
 */

const PROJECT_DIR = path.resolve(__dirname, '..', 'interop', 'java');
const PROTOCOL_FILE = path.resolve(__dirname, '..', '..', 'schemas', 'original-bitacora.avpr');
const MAIN_CLASS = 'com.grayscaleconsulting.bitacora.interop.BitacoraAvroClient';
/**
 * A first build downloads ~50 MB (Avro, Netty, three Maven plugins): about 15 s on a good link. This stays under the
 * 300 s the test's before hook allows, so the build fails with its own output rather than a bare hook timeout.
 */
const BUILD_TIMEOUT_MS = 280_000;
/** Under mocha's default 60 s test timeout, so a hung exchange fails with the client's output. */
const RUN_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_LINES = 40;
/** A short-lived client: start fast and small rather than peak throughput. */
const JVM_OPTIONS = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx256m'];

interface BuiltClient {
  readonly java: string;
  readonly classpath: string;
}

let build: Promise<BuiltClient> | undefined;

/**
 * Builds the client (`mvn compile` into test/interop/java/target) the first time it is called in this process; later
 * calls share that build, its failure included. Throws naming what to install when java or mvn is missing.
 * Call it from a before hook with a long timeout; runJavaAvroClient builds on demand too.
 */
export async function buildJavaAvroClient(): Promise<void> {
  await builtClient();
}

/**
 * Runs the Java client against `address` ("host:port") with `commands` (["set", K, V], ["get", K], ["del", K]) on one
 * connection, in order, and resolves with one line per command: `OK`, `NULL`, `VALUE <JSON string>` or
 * `ERROR <Java class>: <message>` (an error the server sent back). Rejects, with the client's stderr, when the
 * exchange itself failed (connection, handshake, transport) or `timeoutMs` passed; the build has its own timeout.
 */
export async function runJavaAvroClient(
  address: string,
  commands: readonly (readonly string[])[],
  timeoutMs = RUN_TIMEOUT_MS,
  options: { authToken?: string } = {},
): Promise<string[]> {
  const client = await builtClient();
  const { host, port } = splitAddress(address);
  // Commands go through stdin as JSON: the JVM decodes program arguments with the locale's charset, stdin as UTF-8.
  const input = commands.map((command) => `${JSON.stringify(command)}\n`).join('');
  const run = await runBounded(
    'java Avro client',
    client.java,
    [...JVM_OPTIONS, '-cp', client.classpath, MAIN_CLASS, PROTOCOL_FILE, host, port],
    { cwd: PROJECT_DIR, input, timeoutMs, env: options.authToken ? { ...process.env, BITACORA_AUTH_TOKEN: options.authToken } : process.env },
  );
  const lines = run.stdout === '' ? [] : run.stdout.replace(/\n$/, '').split('\n');
  if (run.outcome !== 'exited' || run.code !== 0 || lines.length !== commands.length) {
    throw new Error(
      `the Java Avro client against ${address} ${describeEnd(run, timeoutMs)} after ${lines.length} of ${commands.length} answers:\n` +
        `stdout:\n${lines.join('\n')}\nstderr:\n${tail(run.stderr)}`,
    );
  }
  return lines;
}

function builtClient(): Promise<BuiltClient> {
  build ??= buildOnce();
  return build;
}

async function buildOnce(): Promise<BuiltClient> {
  let java: string;
  let mvn: string;
  try {
    java = (await locateJava(process.env)).executable;
    mvn = locateMaven(process.env);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `the Avro Java interop test builds ${PROJECT_DIR} with Maven and a JDK 11+, not only a JRE ` +
        `(Debian: apt-get install maven openjdk-17-jdk-headless): ${reason}`,
      { cause: error },
    );
  }
  // -q keeps a warm build silent; -B and style.color keep a failure's output free of progress bars and colour codes.
  const run = await runBounded('mvn (Avro Java client)', mvn, ['-B', '-q', '-Dstyle.color=never', '-f', path.join(PROJECT_DIR, 'pom.xml'), 'compile'], {
    cwd: PROJECT_DIR,
    input: '',
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  if (run.outcome !== 'exited' || run.code !== 0) {
    throw new Error(
      `building the Avro Java client (mvn compile in ${PROJECT_DIR}) ${describeEnd(run, BUILD_TIMEOUT_MS)} (a first build also ` +
        `downloads from Maven Central: repo.maven.apache.org, or a mirror in ~/.m2/settings.xml):\n${tail(`${run.stdout}\n${run.stderr}`)}`,
    );
  }
  // The pom writes the runtime classpath next to the classes; see its maven-dependency-plugin execution.
  const dependencies = (await fs.readFile(path.join(PROJECT_DIR, 'target', 'classpath.txt'), 'utf8')).trim();
  return { java, classpath: [path.join(PROJECT_DIR, 'target', 'classes'), dependencies].join(path.delimiter) };
}

interface BoundedRun {
  /** killed: by the timeout or by teardown, before it exited on its own. */
  readonly outcome: 'exited' | 'killed' | 'spawn-failed';
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly spawnError?: Error;
}

/** Runs a process to its end, killed after `timeoutMs` or when the current test is torn down, whichever comes first. */
function runBounded(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; input: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<BoundedRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let killed = false;
    let spawnError: Error | undefined;
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, options.timeoutMs);
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    onTeardown(name, async () => {
      kill();
      await exited;
    });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A process that exits before reading all its input makes the write fail; its exit code and stderr tell why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        outcome: spawnError ? 'spawn-failed' : killed ? 'killed' : 'exited',
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        spawnError,
      });
    });
  });
}

function describeEnd(run: BoundedRun, timeoutMs: number): string {
  if (run.outcome === 'spawn-failed') return `could not start (${run.spawnError?.message})`;
  if (run.outcome === 'killed') return `was killed after ${timeoutMs} ms or at teardown`;
  return run.signal ? `died of ${run.signal}` : `exited with code ${run.code}`;
}

function splitAddress(address: string): { host: string; port: string } {
  const match = /^\[?(.+?)\]?:(\d+)$/.exec(address);
  if (!match) throw new TypeError(`expected an Avro address as host:port, got ${JSON.stringify(address)}`);
  return { host: match[1]!, port: match[2]! };
}

function tail(text: string): string {
  // Some Maven builds (Debian's 3.8) print colour resets even in batch mode.
  return text.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}
