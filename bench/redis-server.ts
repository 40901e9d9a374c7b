import { spawn } from 'node:child_process';
import { constants, createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../src/retry/retry';
import { findFreePort } from '../src/stack/free-port';
import { benchKey, benchValue } from './keys';
import { RespConnection } from './load/resp-client';
import type { Resources } from './resources';

/** What to tell someone whose machine has no redis-server. */
export const REDIS_INSTALL_HINT =
  'redis-server is not on the PATH: install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), or leave Redis out with --skip redis';

/** The redis-server executable on the PATH (the Debian package puts it in /usr/bin), or undefined. */
export async function findRedisServer(searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of [...searchPath.split(path.delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    const candidate = path.join(dir, 'redis-server');
    try {
      await fs.access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RunningRedis {
  readonly port: number;
  readonly version: string;
  /** SETs `count` keys `benchKey(prefix, i)` = benchValue(key), pipelined. */
  preload(prefix: string, count: number): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/**
 * Starts redis-server on a free loopback port with nothing persisted (`--save '' --appendonly no`, its own
 * temporary folder), and waits until it answers PING.
 */
export async function startRedis(executable: string, resources: Resources, logDir: string): Promise<RunningRedis> {
  const port = await findFreePort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bitacora-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  resources.track(child, 'redis-server');
  const log = createWriteStream(path.join(logDir, 'redis.log'));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = resources.add('redis-server', async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  const version = await waitFor(
    async () => {
      if (exited) throw new Error(`redis-server exited while starting; see ${path.join(logDir, 'redis.log')}`);
      const connection = new RespConnection(port, '127.0.0.1', 2_000);
      try {
        await connection.ready();
        if ((await connection.command(['PING'])) !== 'PONG') return undefined;
        const info = await connection.command(['INFO', 'server']);
        return /redis_version:(\S+)/.exec(String(info))?.[1] ?? 'unknown';
      } finally {
        await connection.close();
      }
    },
    { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, description: `redis-server to answer PING on 127.0.0.1:${port}` },
  ).catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  return {
    port,
    version,
    async preload(prefix, count) {
      const connection = new RespConnection(port, '127.0.0.1', 30_000);
      try {
        await connection.ready();
        for (let from = 0; from < count; from += 1_000) {
          const sets: Promise<unknown>[] = [];
          for (let i = from; i < Math.min(count, from + 1_000); i++) {
            const key = benchKey(prefix, i);
            sets.push(connection.command(['SET', key, benchValue(key)]));
          }
          await Promise.all(sets);
        }
      } finally {
        await connection.close();
      }
    },
    stop,
  };
}
