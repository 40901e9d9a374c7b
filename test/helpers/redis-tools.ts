import { ensureDebianPackage } from './debian-package';
import { runTool } from './run-tool';

/** Debian's redis-tools: the real redis-cli and redis-benchmark, as users run them. */
export const REDIS_CLI = '/usr/bin/redis-cli';
export const REDIS_BENCHMARK = '/usr/bin/redis-benchmark';

/** Makes sure redis-tools is installed: with apt-get when missing and running as root (CI), else a clear failure. */
export function ensureRedisTools(): Promise<void> {
  return ensureDebianPackage('redis-tools', [REDIS_CLI, REDIS_BENCHMARK]);
}

/** redis-cli against a node's RESP port: its stdout, trimmed; rejects on a non-zero exit. */
export async function redisCli(port: number, args: readonly string[], options: { input?: string | Buffer; auth?: string } = {}): Promise<string> {
  await ensureRedisTools();
  const auth = options.auth ? ['-a', options.auth, '--no-auth-warning'] : [];
  const result = await runTool(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], { input: options.input });
  if (result.code !== 0) throw new Error(`redis-cli ${args.join(' ')} exited with ${result.code}: ${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

