import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What one wrk run measured, read from the JSON line the Lua script's done() prints. */
export interface WrkResult {
  readonly command: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Responses with a status outside 2xx/3xx, and socket errors of every kind. */
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly raw: string;
}

export interface WrkOptions {
  /** e.g. http://127.0.0.1:8081 */
  readonly baseUrl: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationSeconds: number;
  readonly script: 'get' | 'post';
  /** Keys are `prefix` + the index zero-padded to 16 bytes (bench/keys.ts), chosen at random below `keys`. */
  readonly keyPrefix: string;
  readonly keys: number;
  readonly valueBytes: number;
  readonly timeoutMs: number;
}

const JSON_MARK = 'BENCH_JSON ';

/**
 * The Lua side: random keys in the bench key format, a GET or a POST of a value, and a done() hook that prints the
 * figures as one JSON line (wrk's own text summary rounds latencies and changes units with their size).
 */
export function wrkScript(kind: 'get' | 'post'): string {
  const request =
    kind === 'get'
      ? 'return wrk.format("GET", "/rpc?key=" .. key)'
      : 'return wrk.format("POST", "/rpc?key=" .. key .. "&value=" .. value)';
  return `-- Written by bench/c-tools/wrk.ts for one run.
local prefix = os.getenv("BENCH_KEY_PREFIX")
local count = tonumber(os.getenv("BENCH_KEYS"))
local width = 16 - #prefix
local value = string.rep("v", tonumber(os.getenv("BENCH_VALUE_BYTES")))
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
end
init = function(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end
request = function()
  local key = prefix .. string.format("%0" .. width .. "d", math.random(0, count - 1))
  ${request}
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${JSON_MARK}{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;
}

/** Reads the JSON line of wrkScript's done(); throws when there is none (wrk failed before the end). */
export function parseWrkOutput(output: string, command: string): WrkResult {
  const line = output.split('\n').find((entry) => entry.startsWith(JSON_MARK));
  if (!line) throw new Error(`${command} printed no result:\n${output.slice(-2_000)}`);
  const parsed = JSON.parse(line.slice(JSON_MARK.length)) as Record<string, number>;
  const seconds = (parsed.duration_us ?? 0) / 1e6;
  const requests = parsed.requests ?? 0;
  return {
    command,
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    p50Ms: (parsed.p50_us ?? 0) / 1000,
    p99Ms: (parsed.p99_us ?? 0) / 1000,
    maxMs: (parsed.max_us ?? 0) / 1000,
    non2xx: parsed.non2xx ?? 0,
    socketErrors: parsed.socket_errors ?? 0,
    raw: output,
  };
}

/** Runs Debian's wrk with a script of wrkScript() against `baseUrl`; rejects when wrk fails. */
export async function runWrk(executable: string, options: WrkOptions): Promise<WrkResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-wrk-'));
  const scriptFile = path.join(dir, `${options.script}.lua`);
  await fs.writeFile(scriptFile, wrkScript(options.script));
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.durationSeconds}s`, '--timeout', '10s', '-s', scriptFile, options.baseUrl];
  const command = `wrk ${args.join(' ')}`;
  const env = { ...process.env, BENCH_KEY_PREFIX: options.keyPrefix, BENCH_KEYS: String(options.keys), BENCH_VALUE_BYTES: String(options.valueBytes) };
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(executable, args, { env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`${command} failed (${error.message.split('\n')[0]}):\n${stdout}${stderr}`.slice(0, 3_000)));
        resolve(`${stdout}${stderr}`);
      });
    });
    return parseWrkOutput(output, command);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
