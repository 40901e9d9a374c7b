import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Environment } from '../config/env-parsers';
import type { Logger } from '../logging/logger';
import { locateMaven } from './java-tools';
import { StackError } from './stack-error';

/** The first download is ~60 jars; a slow mirror gets this long before we give up. */
const DEFAULT_RESOLVE_TIMEOUT_MS = 10 * 60_000;
/** Unreferenced lib folders older than this come from crashed or lost concurrent resolutions, never from a running one. */
const STALE_LIB_AGE_MS = 2 * DEFAULT_RESOLVE_TIMEOUT_MS;
const MANIFEST_FILE = 'distribution.json';
/** Pinned so a resolution does not depend on the installed Maven's default plugin version. */
const DEPENDENCY_PLUGIN_VERSION = '3.6.1';

/** One Maven artifact, `group:artifact:version`. */
export interface MavenCoordinate {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
}

/** A set of jars the stack runs a JVM from, e.g. Kafka 4.4.0 with its logging backend. */
export interface JarSet {
  /** Names the cache folder (`<name>-<version>`) and the log lines, e.g. "kafka". */
  readonly name: string;
  readonly version: string;
  /** Resolved with their runtime dependencies. */
  readonly dependencies: readonly MavenCoordinate[];
  /** A jar whose file name starts with this must be among the result, or the resolution is refused as broken. */
  readonly requiredJarPrefix: string;
}

/** The jars of one JarSet on this machine, ready for `java -cp`. */
export interface JarDistribution {
  readonly name: string;
  readonly version: string;
  /** Absolute paths of every jar. */
  readonly classpath: readonly string[];
}

export interface ResolveJarsOptions {
  /** Root of the machine-wide cache (STACK_CACHE_DIR); one sub-folder per jar set and version. */
  readonly cacheDir: string;
  /** Where `mvn` is looked up, and what it runs with (proxies, MAVEN_OPTS, JAVA_HOME). */
  readonly env: Environment;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}

/** What the cache folder records about a completed resolution; written last, atomically, so its presence means "complete". */
interface Manifest {
  readonly pomSha256: string;
  readonly libDir: string;
  readonly jars: readonly string[];
}

/** `group:artifact:version` → a coordinate; the versions are pinned in one place (stack-versions.ts). */
export function maven(coordinate: string): MavenCoordinate {
  const [groupId, artifactId, version, ...rest] = coordinate.split(':');
  if (!groupId || !artifactId || !version || rest.length > 0) throw new Error(`not a group:artifact:version coordinate: ${coordinate}`);
  return { groupId, artifactId, version };
}

/**
 * The jars of `set`: from the cache when it is complete (no mvn run at all), else downloaded once with
 * `mvn dependency:copy-dependencies` into the cache. Concurrent first runs each fill a private folder and publish it
 * by renaming, so none sees a half-written cache. A change of the set's dependencies changes the pom's hash, which
 * makes the cache resolve again.
 */
export async function resolveJars(set: JarSet, options: ResolveJarsOptions): Promise<JarDistribution> {
  const pom = pomOf(set);
  const pomSha256 = createHash('sha256').update(pom).digest('hex');
  const versionDir = path.join(options.cacheDir, `${set.name}-${set.version}`);
  const described = { jars: set.name, version: set.version };

  const cached = await readValidManifest(versionDir, pomSha256, options.logger);
  if (cached) return { name: set.name, version: set.version, classpath: cached };

  const mvn = locateMaven(options.env);
  options.logger.info({ ...described, cacheDir: versionDir }, 'downloading jars with mvn (first run only)');
  const started = Date.now();
  await fs.mkdir(versionDir, { recursive: true });
  const libDir = `lib-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const workDir = path.join(versionDir, `tmp-${libDir}`);
  try {
    await fs.mkdir(workDir);
    await fs.writeFile(path.join(workDir, 'pom.xml'), pom);
    const jarsDir = path.join(workDir, 'jars');
    await runMaven(mvn, workDir, jarsDir, set, options);
    const jars = (await fs.readdir(jarsDir)).filter((name) => name.endsWith('.jar')).sort();
    // prependGroupId puts "group." before each name.
    if (!jars.some((name) => name.includes(set.requiredJarPrefix))) {
      throw new StackError('KAFKA_RESOLVE_FAILED', `mvn finished but ${jarsDir} holds no ${set.requiredJarPrefix} jar`);
    }
    await fs.rename(jarsDir, path.join(versionDir, libDir));
    await writeFileAtomically(path.join(versionDir, MANIFEST_FILE), JSON.stringify({ ...described, pomSha256, libDir, jars }, null, 2));
    options.logger.info({ ...described, count: jars.length, durationMs: Date.now() - started }, 'jars cached');
    await pruneStaleLibDirs(versionDir, libDir, options.logger);
    return { name: set.name, version: set.version, classpath: jars.map((jar) => path.join(versionDir, libDir, jar)) };
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** A pom with nothing but the set's dependencies, written into the cache folder, never next to the sources. */
export function pomOf(set: JarSet): string {
  const dependencies = set.dependencies.map(
    ({ groupId, artifactId, version }) =>
      `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- Written by bitacora (src/stack/jar-distribution.ts): the jars of ${set.name} ${set.version} for the local stack. -->`,
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>dev.bitacora</groupId>',
    `  <artifactId>bitacora-stack-${set.name}</artifactId>`,
    `  <version>${set.version}</version>`,
    '  <packaging>pom</packaging>',
    '  <properties><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>',
    '  <dependencies>',
    ...dependencies,
    '  </dependencies>',
    '  <build><plugins><plugin>',
    `    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>${DEPENDENCY_PLUGIN_VERSION}</version>`,
    '  </plugin></plugins></build>',
    '</project>',
    '',
  ].join('\n');
}

/** The cached classpath, or undefined when there is none, it came from another pom, or a jar has since disappeared. */
async function readValidManifest(versionDir: string, pomSha256: string, logger: Logger): Promise<string[] | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(versionDir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.pomSha256 !== pomSha256 || !Array.isArray(manifest.jars) || manifest.jars.length === 0) {
    logger.info({ versionDir }, 'cached jars come from another dependency list; resolving again');
    return undefined;
  }
  const classpath = manifest.jars.map((jar) => path.join(versionDir, manifest.libDir, jar));
  const missing = classpath.find((jar) => !existsSync(jar));
  if (missing) {
    logger.warn({ missing }, 'a cached jar is gone; resolving again');
    return undefined;
  }
  return classpath;
}

function runMaven(mvn: string, workDir: string, outputDir: string, set: JarSet, options: ResolveJarsOptions): Promise<void> {
  const args = [
    '-B',
    '-q',
    '-f',
    path.join(workDir, 'pom.xml'),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${outputDir}`,
    '-DincludeScope=runtime',
    // Two artifacts may share a name across groups; the group prefix keeps both.
    '-Dmdep.prependGroupId=true',
  ];
  const timeoutMs = options.timeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(mvn, args, { cwd: workDir, env: { ...options.env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
      const reason = error.killed ? `timed out after ${timeoutMs} ms` : `failed (${error.message.split('\n')[0]})`;
      reject(
        new StackError(
          'KAFKA_RESOLVE_FAILED',
          `mvn ${reason} downloading ${set.name} ${set.version} from Maven Central; check network access to repo.maven.apache.org (or ~/.m2/settings.xml mirrors):\n${output}`,
          { cause: error },
        ),
      );
    });
  });
}

async function writeFileAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temporary, content);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

/** Removes old lib/tmp folders left by lost races or crashes; best effort, never fails the resolution. */
async function pruneStaleLibDirs(versionDir: string, keep: string, logger: Logger): Promise<void> {
  try {
    for (const entry of await fs.readdir(versionDir)) {
      if (entry === keep || !(entry.startsWith('lib-') || entry.startsWith('tmp-'))) continue;
      const full = path.join(versionDir, entry);
      const stat = await fs.stat(full);
      if (Date.now() - stat.mtimeMs > STALE_LIB_AGE_MS) await fs.rm(full, { recursive: true, force: true });
    }
  } catch (error) {
    logger.debug({ err: error, versionDir }, 'could not prune old lib folders');
  }
}
