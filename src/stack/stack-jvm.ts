import path from 'node:path';
import type { Environment } from '../config/env-parsers';
import type { Logger } from '../logging/logger';
import { JvmProcess } from './jvm-process';
import type { StackLoggingConfig } from './log4j-config';
import { type StackMode, type StackServiceName, stackProcessMarkers } from './stack-state';

/** What every server of the local stack is given. */
export interface StackJvmOptions {
  /** STACK_DIR, absolute. */
  readonly stackDir: string;
  readonly port: number;
  readonly java: string;
  readonly classpath: readonly string[];
  readonly logging: StackLoggingConfig;
  readonly mode: StackMode;
  readonly env: Environment;
  readonly logger: Logger;
  /** How long a start waits for the server to answer when the caller names no timeout. */
  readonly startTimeoutMs: number;
}

/** The program one stack server runs. */
export interface StackJvmProgram {
  readonly mainClass: string;
  readonly args: readonly string[];
  readonly jvmOptions: readonly string[];
}

/**
 * One run of the JVM of a stack server: named after its service, marked with STACK_DIR and the service on its
 * command line (so `stack down` signals only its own processes), logging to STACK_DIR/logs/<service>.log and .out,
 * detached for `stack up`.
 */
export function createStackJvm(options: StackJvmOptions, service: StackServiceName, program: StackJvmProgram): JvmProcess {
  const logs = path.join(options.stackDir, 'logs');
  return new JvmProcess({
    name: service,
    java: options.java,
    classpath: options.classpath,
    mainClass: program.mainClass,
    args: program.args,
    jvmOptions: program.jvmOptions,
    markers: stackProcessMarkers(options.stackDir, service, options.mode),
    logging: options.logging,
    logFile: path.join(logs, `${service}.log`),
    outFile: path.join(logs, `${service}.out`),
    cwd: options.stackDir,
    detached: options.mode === 'detached',
    env: options.env,
    logger: options.logger,
  });
}
