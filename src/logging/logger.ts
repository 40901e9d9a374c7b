import pino from 'pino';

/** The structured logger every component receives; values are never passed to it. */
export type Logger = pino.Logger;

/** Log levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Creates the root JSON-lines logger, written to stderr so stdout stays free for command output. */
export function createLogger(options: { level: LogLevel; name?: string }): Logger {
  return pino({ level: options.level, name: options.name, base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that drops everything: for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
