import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * The logging settings of every JVM of the stack. Kafka 3.9 logs through log4j 1.x (reload4j); Kafka 4 and
 * ZooKeeper 3.9 through log4j2. Each JVM is given both files (each backend ignores the other's property) and names
 * its own log file with -Dbitacora.log.file, which both substitute, so one pair of files serves all. Rolling keeps a
 * long-running stack from filling the disk; per-request and per-partition state logging is noise for a local stack.
 */
const LOG4J_PROPERTIES = `# Written by bitacora (src/stack/log4j-config.ts); rewritten on every start. For Kafka 3.x (log4j 1.x).
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=\${bitacora.log.file}
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients.NetworkClient=WARN
`;

// The same layout as the log4j 1.x file, so log-tail.ts reads both alike.
const LOG4J2_XML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by bitacora (src/stack/log4j-config.ts); rewritten on every start. For Kafka 4.x and ZooKeeper (log4j2). -->
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <RollingFile name="file" fileName="\${sys:bitacora.log.file}" filePattern="\${sys:bitacora.log.file}.%i">
      <PatternLayout pattern="[%d{yyyy-MM-dd HH:mm:ss,SSS}] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="2"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients.NetworkClient" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
`;

/** Both logging configurations of a stack, written into STACK_DIR. */
export interface StackLoggingConfig {
  readonly log4jProperties: string;
  readonly log4j2Xml: string;
}

/** Writes STACK_DIR/log4j.properties and STACK_DIR/log4j2.xml. */
export async function writeLoggingConfig(stackDir: string): Promise<StackLoggingConfig> {
  const config = { log4jProperties: path.join(stackDir, 'log4j.properties'), log4j2Xml: path.join(stackDir, 'log4j2.xml') };
  await fs.writeFile(config.log4jProperties, LOG4J_PROPERTIES);
  await fs.writeFile(config.log4j2Xml, LOG4J2_XML);
  return config;
}

/** The JVM flags that point both logging backends at their file and name the JVM's own log file. */
export function loggingJvmOptions(config: StackLoggingConfig, logFile: string): string[] {
  return [`-Dlog4j.configuration=file:${config.log4jProperties}`, `-Dlog4j2.configurationFile=${config.log4j2Xml}`, `-Dbitacora.log.file=${logFile}`];
}
