import { spawn } from 'node:child_process';
import { ensureDebianPackage } from './debian-package';

/** Debian's redis-tools: the real redis-cli and redis-benchmark, as users run them. */
export const REDIS_CLI = '/usr/bin/redis-cli';
export const REDIS_BENCHMARK = '/usr/bin/redis-benchmark';

/** Makes sure redis-tools is installed: with apt-get when missing and running as root (CI), else a clear failure. */
export function ensureRedisTools(): Promise<void> {
  return ensureDebianPackage('redis-tools', [REDIS_CLI, REDIS_BENCHMARK]);
}

/** Runs a program with a timeout; resolves with its output and exit code whatever the code. */
export function runTool(
  file: string,
  args: readonly string[],
  options: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('latin1')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('latin1')));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') reject(new Error(`${file} ${args.join(' ')} timed out after ${timeoutMs} ms; output: ${stdout.slice(-2_000)} ${stderr.slice(-2_000)}`));
      else resolve({ stdout, stderr, code });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** redis-cli against a node's RESP port: its stdout, trimmed; rejects on a non-zero exit. */
export async function redisCli(port: number, args: readonly string[], options: { input?: string | Buffer; auth?: string } = {}): Promise<string> {
  await ensureRedisTools();
  const auth = options.auth ? ['-a', options.auth, '--no-auth-warning'] : [];
  const result = await runTool(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], { input: options.input });
  if (result.code !== 0) throw new Error(`redis-cli ${args.join(' ')} exited with ${result.code}: ${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

