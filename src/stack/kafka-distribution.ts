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
const POM_FILE = 'kafka-pom.xml';

/** The Kafka jars on this machine, ready for `java -cp`. */
export interface KafkaDistribution {
  readonly kafkaVersion: string;
  /** Absolute paths of every jar Kafka and ZooKeeper need, the logging backend included. */
  readonly classpath: readonly string[];
}

export interface ResolveKafkaOptions {
  /** Root of the machine-wide cache (STACK_CACHE_DIR); one sub-folder per Kafka version. */
  readonly cacheDir: string;
  /** Where `mvn` is looked up, and what it runs with (proxies, MAVEN_OPTS, JAVA_HOME). */
  readonly env: Environment;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}

/** What the cache folder records about a completed resolution; written last, atomically, so its presence means "complete". */
interface Manifest {
  readonly kafkaVersion: string;
  readonly pomSha256: string;
  readonly libDir: string;
  readonly jars: readonly string[];
}

/**
 * The jars of the Kafka version in kafka-pom.xml: from the cache when it is complete (no mvn run at all),
 * else downloaded once with `mvn dependency:copy-dependencies` into the cache.
 * Concurrent first runs each fill a private folder and publish it by renaming, so none sees a half-written cache.
 */
export async function resolveKafkaDistribution(options: ResolveKafkaOptions): Promise<KafkaDistribution> {
  const pomFile = locatePom();
  const pom = await fs.readFile(pomFile, 'utf8');
  const kafkaVersion = kafkaVersionOf(pom, pomFile);
  const pomSha256 = createHash('sha256').update(pom).digest('hex');
  const versionDir = path.join(options.cacheDir, `kafka-${kafkaVersion}`);

  const cached = await readValidManifest(versionDir, pomSha256, options.logger);
  if (cached) return { kafkaVersion, classpath: cached };

  const mvn = locateMaven(options.env);
  options.logger.info({ kafkaVersion, cacheDir: versionDir }, 'downloading Kafka jars with mvn (first run only)');
  const started = Date.now();
  await fs.mkdir(versionDir, { recursive: true });
  const libDir = `lib-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const workDir = path.join(versionDir, `tmp-${libDir}`);
  try {
    await fs.mkdir(workDir);
    // The pom is copied so mvn writes nothing next to the sources (which may be read-only once installed).
    await fs.writeFile(path.join(workDir, 'pom.xml'), pom);
    const jarsDir = path.join(workDir, 'jars');
    await runMaven(mvn, workDir, jarsDir, options);
    const jars = (await fs.readdir(jarsDir)).filter((name) => name.endsWith('.jar')).sort();
    if (!jars.some((name) => name.includes(`kafka_2.13-${kafkaVersion}`))) {
      throw new StackError('KAFKA_RESOLVE_FAILED', `mvn finished but ${jarsDir} holds no kafka_2.13-${kafkaVersion} jar`);
    }
    await fs.rename(jarsDir, path.join(versionDir, libDir));
    await writeFileAtomically(path.join(versionDir, MANIFEST_FILE), JSON.stringify({ kafkaVersion, pomSha256, libDir, jars }, null, 2));
    options.logger.info({ kafkaVersion, jars: jars.length, durationMs: Date.now() - started }, 'Kafka jars cached');
    await pruneStaleLibDirs(versionDir, libDir, options.logger);
    return { kafkaVersion, classpath: jars.map((jar) => path.join(versionDir, libDir, jar)) };
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** The `<kafka.version>` property of the pom: the pom is the one place the version is written. */
export function kafkaVersionOf(pom: string, pomFile = POM_FILE): string {
  const match = /<kafka\.version>\s*([\w.-]+)\s*<\/kafka\.version>/.exec(pom);
  if (!match?.[1]) throw new Error(`${pomFile} has no <kafka.version> property`);
  return match[1];
}

/** The pom sits next to this file in the sources; compiled code (dist/stack) finds it back in src/stack. */
function locatePom(): string {
  const candidates = [path.join(__dirname, POM_FILE), path.resolve(__dirname, '..', '..', 'src', 'stack', POM_FILE)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${POM_FILE} not found; looked in ${candidates.join(', ')}`);
  return found;
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
    logger.info({ versionDir }, 'cached Kafka jars come from another kafka-pom.xml; resolving again');
    return undefined;
  }
  const classpath = manifest.jars.map((jar) => path.join(versionDir, manifest.libDir, jar));
  const missing = classpath.find((jar) => !existsSync(jar));
  if (missing) {
    logger.warn({ missing }, 'a cached Kafka jar is gone; resolving again');
    return undefined;
  }
  return classpath;
}

function runMaven(mvn: string, workDir: string, outputDir: string, options: ResolveKafkaOptions): Promise<void> {
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
          `mvn ${reason} downloading Kafka from Maven Central; check network access to repo.maven.apache.org (or ~/.m2/settings.xml mirrors):\n${output}`,
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
    logger.debug({ err: error, versionDir }, 'could not prune old Kafka lib folders');
  }
}
