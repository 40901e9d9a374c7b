import { existsSync } from 'node:fs';
import { runTool } from './run-tool';

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

async function aptGetInstall(pkg: string): Promise<void> {
  const { code, stdout, stderr } = await runTool('sh', ['-c', `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkg}`], {
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  if (code !== 0) throw new Error(`apt-get install ${pkg} failed (exit ${code}): ${(stdout + stderr).slice(-4_000)}`);
}
