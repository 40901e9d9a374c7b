import pino from 'pino';
import pinoPretty from 'pino-pretty';

/** The structured logger every component receives; values are never passed to it. */
export type Logger = pino.Logger;

/** Log levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * LOG_FORMAT: `json` writes one JSON object a line (for machines: unchanged whatever the terminal); `pretty` writes
 * one readable line an entry; `auto` (the default) is pretty when stderr is a terminal and JSON otherwise.
 */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly name?: string;
  readonly format?: LogFormat;
}

/** Creates the root logger, written to stderr so stdout stays free for command output. */
export function createLogger(options: LoggerOptions): Logger {
  const settings = { level: options.level, name: options.name, base: { pid: process.pid } };
  if (!isPretty(options.format ?? 'auto')) return pino(settings, pino.destination(2));
  // In this thread and synchronous, so the last lines before an exit are never lost to a worker.
  const pretty = pinoPretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino(settings, pretty);
}

function isPretty(format: LogFormat): boolean {
  return format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
}

/** A logger that drops everything: for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
