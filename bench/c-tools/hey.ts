import { execFile } from 'node:child_process';

/**
 * What one hey run measured: every request's own time, read from hey's CSV (`-o csv`, one row per request).
 *
 * Why hey beside wrk: at one connection wrk's latency statistics disagree with its own throughput on this machine
 * (a bare node:http server answering a fixed body: 17,567 requests/s, so at most 57 µs each on average, while wrk
 * reports a 105 µs mean and a p99 of 1.14 ms), whereas a client that times each request itself and whose mean
 * times its rate comes to one second found p99 0.14–0.23 ms. hey (Debian's `hey`) times each request and prints
 * them all, so the percentiles below are computed from every request, at hey's resolution of 0.1 ms.
 */
export interface HeyResult {
  readonly command: string;
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Mean of the requests' times: times `rps`, about 1 at one connection (a check on the figures). */
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers with a status outside 2xx/3xx. */
  readonly non2xx: number;
  /** hey's CSV header and first rows, for the record (the whole CSV is megabytes). */
  readonly raw: string;
}

export interface HeyOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly timeoutMs: number;
}

/** The columns hey 0.1.4 writes with `-o csv`. */
const HEADER = 'response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset';

/** Reads hey's CSV: percentiles of the response times, the rate from the last request's end. */
export function parseHeyCsv(output: string, command: string): HeyResult {
  const lines = output.split('\n').filter((line) => line.length > 0);
  if (lines[0]?.trim() !== HEADER || lines.length < 2) throw new Error(`${command} printed no result:\n${output.slice(0, 2_000)}`);
  const times: number[] = [];
  let non2xx = 0;
  let end = 0;
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    const seconds = Number(fields[0]);
    const status = Number(fields[6]);
    const offset = Number(fields[7]);
    if (fields.length !== 8 || !Number.isFinite(seconds) || !Number.isFinite(status) || !Number.isFinite(offset)) throw new Error(`${command}: unreadable row ${JSON.stringify(line)}`);
    times.push(seconds * 1000);
    if (status < 200 || status >= 400) non2xx++;
    end = Math.max(end, offset + seconds);
  }
  times.sort((a, b) => a - b);
  const at = (fraction: number): number => times[Math.min(times.length - 1, Math.ceil(fraction * times.length) - 1)]!;
  const mean = times.reduce((sum, time) => sum + time, 0) / times.length;
  return {
    command,
    requests: times.length,
    seconds: end,
    rps: end > 0 ? times.length / end : 0,
    meanMs: mean,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: times[times.length - 1]!,
    non2xx,
    raw: lines.slice(0, 6).join('\n'),
  };
}

/** Runs Debian's hey against `url` for the duration; rejects when hey fails. */
export async function runHey(executable: string, options: HeyOptions): Promise<HeyResult> {
  const args = ['-c', String(options.connections), '-z', `${options.durationSeconds}s`, '-o', 'csv', options.url];
  const command = `hey ${args.join(' ')}`;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(executable, args, { timeout: options.timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${command} failed (${error.message.split('\n')[0]}):\n${stdout.slice(0, 1_000)}${stderr}`.slice(0, 3_000)));
      resolve(stdout);
    });
  });
  return parseHeyCsv(output, command);
}
