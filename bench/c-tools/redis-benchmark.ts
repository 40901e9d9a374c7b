import { execFile } from 'node:child_process';

/** One line of `redis-benchmark --csv`: a test's throughput and latency percentiles. */
export interface RedisBenchmarkLine {
  /** As redis-benchmark names it: GET, SET, "MSET (10 keys)", PING_INLINE, ... */
  readonly test: string;
  readonly rps: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface RedisBenchmarkRun {
  readonly command: string;
  readonly lines: readonly RedisBenchmarkLine[];
  /** The tool's whole output, kept in the JSON report. */
  readonly raw: string;
}

export interface RedisBenchmarkOptions {
  readonly port: number;
  /** -c: connections, each with one request (or `pipeline` requests) in flight. */
  readonly clients: number;
  /** -n: requests per test. */
  readonly requests: number;
  /** -P: requests pipelined per connection; 1 means none. */
  readonly pipeline: number;
  /** -t: tests, e.g. ['get', 'set']. */
  readonly tests: readonly string[];
  /** -r: keys are key:000000000000..key:<keyspace-1> (16 bytes, like every bench key). */
  readonly keyspace: number;
  /** -d: value size in bytes. */
  readonly dataSize: number;
  readonly timeoutMs: number;
}

/**
 * Parses `redis-benchmark --csv` (Redis 6.2+): a header line, then one quoted line per test. Throws on an output
 * that holds no test, so a benchmark that failed to connect is never read as zero.
 */
export function parseRedisBenchmarkCsv(output: string): RedisBenchmarkLine[] {
  const lines: RedisBenchmarkLine[] = [];
  for (const line of output.split('\n')) {
    const cells = [...line.matchAll(/"([^"]*)"/g)].map((match) => match[1]!);
    if (cells.length < 8 || cells[0] === 'test') continue;
    const [test, rps, avg, , p50, p95, p99, max] = cells;
    const numbers = [rps, avg, p50, p95, p99, max].map(Number);
    if (numbers.some((value) => !Number.isFinite(value))) continue;
    lines.push({ test: test!, rps: numbers[0]!, avgMs: numbers[1]!, p50Ms: numbers[2]!, p95Ms: numbers[3]!, p99Ms: numbers[4]!, maxMs: numbers[5]! });
  }
  if (lines.length === 0) throw new Error(`redis-benchmark printed no result:\n${output.slice(0, 2_000)}`);
  return lines;
}

/** Runs Debian's redis-benchmark (redis-tools) against 127.0.0.1:`port`; rejects when it fails or reports errors. */
export function runRedisBenchmark(executable: string, options: RedisBenchmarkOptions): Promise<RedisBenchmarkRun> {
  const args = [
    '-h', '127.0.0.1',
    '-p', String(options.port),
    '-c', String(options.clients),
    '-n', String(options.requests),
    '-P', String(options.pipeline),
    '-r', String(options.keyspace),
    '-d', String(options.dataSize),
    '-t', options.tests.join(','),
    '--csv',
  ];
  const command = `redis-benchmark ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    execFile(executable, args, { timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const raw = `${stdout}${stderr}`;
      if (error) return reject(new Error(`${command} failed (${error.message.split('\n')[0]}):\n${raw.slice(-2_000)}`));
      // redis-benchmark prints error replies it received (e.g. "ERR ...") and goes on; a figure made of errors is no figure.
      if (/^(ERR|WRONGTYPE|NOAUTH|-ERR)/m.test(stderr)) return reject(new Error(`${command} received error replies:\n${stderr.slice(0, 2_000)}`));
      try {
        resolve({ command, lines: parseRedisBenchmarkCsv(stdout), raw });
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}
