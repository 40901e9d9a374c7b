import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Environment } from '../config/env-parsers';
import { StackError } from './stack-error';

/** Kafka 3.9 runs on Java 11+, but 17 is what it is tested and documented with. */
const MINIMUM_JAVA_MAJOR = 11;
const VERSION_PROBE_TIMEOUT_MS = 15_000;

const JAVA_INSTALL_HINT = 'install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17)';
const MAVEN_INSTALL_HINT = 'install Apache Maven (Debian: apt-get install maven; macOS: brew install maven)';

/** A usable `java` executable and its major version. */
export interface JavaRuntime {
  readonly executable: string;
  readonly majorVersion: number;
}

/**
 * The first executable file called `name` on the PATH of `env` (not of this process, so callers and tests choose).
 * Undefined when none is found.
 */
export function findOnPath(name: string, env: Environment): string | undefined {
  for (const directory of (env.PATH ?? '').split(path.delimiter)) {
    if (!directory) continue;
    const candidate = path.join(directory, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Locates `java`: $JAVA_HOME/bin/java when JAVA_HOME is set, else the PATH of `env`; checks it runs and is new enough.
 * Throws StackError JAVA_NOT_FOUND naming what to install.
 */
export async function locateJava(env: Environment): Promise<JavaRuntime> {
  const fromHome = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : undefined;
  const executable = fromHome && isExecutableFile(fromHome) ? fromHome : findOnPath('java', env);
  if (!executable) throw new StackError('JAVA_NOT_FOUND', `java not found on PATH: ${JAVA_INSTALL_HINT}`);
  const majorVersion = await probeJavaMajorVersion(executable, env);
  if (majorVersion < MINIMUM_JAVA_MAJOR) {
    throw new StackError('JAVA_NOT_FOUND', `${executable} is Java ${majorVersion}, Kafka needs ${MINIMUM_JAVA_MAJOR} or newer: ${JAVA_INSTALL_HINT}`);
  }
  return { executable, majorVersion };
}

/** Locates `mvn` on the PATH of `env`; only needed the first time, to download Kafka. Throws StackError MAVEN_NOT_FOUND. */
export function locateMaven(env: Environment): string {
  const executable = findOnPath('mvn', env);
  if (!executable) {
    throw new StackError('MAVEN_NOT_FOUND', `mvn not found on PATH (needed once to download Kafka from Maven Central): ${MAVEN_INSTALL_HINT}`);
  }
  return executable;
}

/** Parses the major version from `java -version` output: "1.8.0_392" is 8, "17.0.15" is 17, "21" is 21. */
export function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

function probeJavaMajorVersion(executable: string, env: Environment): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(executable, ['-version'], { env: { ...env }, timeout: VERSION_PROBE_TIMEOUT_MS }, (error, stdout, stderr) => {
      // `java -version` writes to stderr; an exit code of 0 is all we need from it besides the text.
      const major = parseJavaMajorVersion(`${stderr}\n${stdout}`);
      if (error || major === undefined) {
        const reason = error ? error.message : `unrecognised output: ${stderr.trim().split('\n')[0] ?? ''}`;
        reject(new StackError('JAVA_NOT_FOUND', `${executable} -version failed (${reason}): ${JAVA_INSTALL_HINT}`, { cause: error }));
        return;
      }
      resolve(major);
    });
  });
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
