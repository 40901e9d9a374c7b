import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * reload4j settings shared by every JVM of the stack. Each JVM names its own file with -Dbitacora.log.file,
 * which log4j 1.x substitutes, so one file serves all. Rolling keeps a long-running stack from filling the disk.
 */
const LOG4J_PROPERTIES = `# Written by bitacora (src/stack/log4j-config.ts); rewritten on every start.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=\${bitacora.log.file}
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
# Per-request and per-partition state logging is noise for a local stack.
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
`;

/** Writes STACK_DIR/log4j.properties and returns its path. */
export async function writeLog4jConfig(stackDir: string): Promise<string> {
  const file = path.join(stackDir, 'log4j.properties');
  await fs.writeFile(file, LOG4J_PROPERTIES);
  return file;
}
