import path from 'node:path';
import type { Environment } from '../config/env-parsers';
import type { Logger } from '../logging/logger';
import { JvmProcess } from './jvm-process';
import { type StackMode, type StackRole, stackProcessMarkers } from './stack-state';

/** What every server of the local stack is given. */
export interface StackJvmOptions {
  /** STACK_DIR, absolute. */
  readonly stackDir: string;
  readonly port: number;
  readonly java: string;
  readonly classpath: readonly string[];
  readonly log4jConfig: string;
  readonly mode: StackMode;
  readonly env: Environment;
  readonly logger: Logger;
}

/**
 * The JVM of one stack server: named after its role, marked with STACK_DIR on its command line (so `stack down`
 * signals only its own processes), logging to STACK_DIR/logs/<role>.log and .out, detached for `stack up`.
 */
export function createStackJvm(
  options: StackJvmOptions,
  role: StackRole,
  program: { readonly mainClass: string; readonly args: readonly string[]; readonly jvmOptions: readonly string[] },
): JvmProcess {
  const logs = path.join(options.stackDir, 'logs');
  return new JvmProcess({
    name: role,
    java: options.java,
    classpath: options.classpath,
    mainClass: program.mainClass,
    args: program.args,
    jvmOptions: program.jvmOptions,
    markers: stackProcessMarkers(options.stackDir, role, options.mode),
    log4jConfig: options.log4jConfig,
    logFile: path.join(logs, `${role}.log`),
    outFile: path.join(logs, `${role}.out`),
    cwd: options.stackDir,
    detached: options.mode === 'detached',
    env: options.env,
    logger: options.logger,
  });
}
