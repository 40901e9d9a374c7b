import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { onTeardown } from './teardown';

/** Debian's chromium package; playwright-core drives it, so no browser is downloaded. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** apt-get update and install together may take minutes on a fresh machine, but never forever. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

// The flags keep Chromium off the network: without them it tries to reach update and sync services, which on a
// closed network stalls its start.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let found: Promise<string> | undefined;

/**
 * The path of Debian's Chromium. When it is missing and this process runs as root (CI does), it is installed with
 * apt-get; otherwise this fails with a message saying what to install.
 */
export function findChromium(): Promise<string> {
  found ??= locate().catch((error: unknown) => {
    found = undefined;
    throw error;
  });
  return found;
}

async function locate(): Promise<string> {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() !== 0) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}: install Debian's chromium package (sudo apt-get install chromium)`);
  }
  await run('apt-get update && apt-get install -y --no-install-recommends chromium', INSTALL_TIMEOUT_MS);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  return CHROMIUM_PATH;
}

/** Runs a shell command within `timeoutMs`; on failure the error carries the end of its output. */
function run(command: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run "${command}": ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
        reject(new Error(`"${command}" ${why}; install Debian's chromium package by hand. Its output ended with:\n${output}`));
      }
    });
  });
}

/**
 * A headless Chromium with a fresh profile in a temporary folder; the browser is closed and the folder removed
 * after the test.
 */
export async function launchChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  const executablePath = await findChromium();
  const profile = await mkdtemp(path.join(os.tmpdir(), 'bitacora-chromium-'));
  // Registered first so it runs last: the folder goes once the browser has let go of it.
  onTeardown(`chromium profile ${profile}`, () => rm(profile, { recursive: true, force: true }));
  // launchPersistentContext is how playwright takes a --user-data-dir of our own.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timeout: 30_000,
  });
  onTeardown('chromium', () => context.close());
  return context;
}
