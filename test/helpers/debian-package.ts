import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** apt-get update and install together may take minutes on a fresh machine, but never forever. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

const installs = new Map<string, Promise<void>>();

/**
 * Makes sure Debian's `pkg` is installed, judged by the programs it must provide: with apt-get when one is missing
 * and the tests run as root (as in CI), else a failure that says what to install. One install per package per run.
 */
export function ensureDebianPackage(pkg: string, programs: readonly string[]): Promise<void> {
  let install = installs.get(pkg);
  if (!install) {
    install = (async () => {
      if (programs.every((program) => existsSync(program))) return;
      if (process.getuid?.() !== 0) throw new Error(`${programs.join(', ')} missing: install Debian's ${pkg} package (sudo apt-get install ${pkg})`);
      await aptGetInstall(pkg);
      const still = programs.filter((program) => !existsSync(program));
      if (still.length > 0) throw new Error(`apt-get installed ${pkg} but ${still.join(', ')} is still missing`);
    })().catch((error: unknown) => {
      installs.delete(pkg);
      throw error;
    });
    installs.set(pkg, install);
  }
  return install;
}

function aptGetInstall(pkg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkg}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`apt-get install ${pkg} failed (${signal ? `killed after ${INSTALL_TIMEOUT_MS} ms` : `exit ${code}`}): ${output}`));
    });
  });
}
