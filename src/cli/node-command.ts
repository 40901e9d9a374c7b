import { loadNodeConfig } from '../config/node-config';
import type { Environment } from '../config/env-parsers';
import { BitacoraError } from '../errors/bitacora-error';
import { EXIT_CODES } from '../errors/error-codes';
import { createLogger } from '../logging/logger';
import { createNode } from '../node/create-node';

/**
 * `bitacora node`: runs one node in the foreground until SIGTERM or SIGINT, then stops it gracefully;
 * a second signal exits at once. Resolves with the process exit code: 0 after a signal, the catalogue's "failed"
 * (5, or a configuration error's 2) when the node failed to start or failed for good while running.
 */
export async function runNodeCommand(env: Environment): Promise<number> {
  const config = loadNodeConfig(env);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name: 'bitacora' });
  const node = createNode(config, logger);
  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without finishing the graceful stop');
        process.exit(130);
      }
      logger.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful stop overran SHUTDOWN_TIMEOUT_MS; exiting');
        process.exit(EXIT_CODES.failed);
      }, config.shutdownTimeoutMs + 1_000);
      force.unref();
      node.stop().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error({ err: error }, 'stop failed');
          resolve(EXIT_CODES.failed);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await node.start();
  } catch (error) {
    logger.fatal({ err: error }, 'node failed to start');
    return error instanceof BitacoraError ? error.exitCode : EXIT_CODES.failed;
  }
  // A node whose apply path cannot follow the log (APPLY_RESTARTS spent) stops and exits non-zero, so that its
  // supervisor starts it again with an empty map, loaded from the log.
  const failed = node.whenFailed().then(async (error) => {
    logger.fatal({ err: error }, `node failed; stopping it and exiting with status ${EXIT_CODES.failed}`);
    await node.stop().catch((stopError: unknown) => logger.error({ err: stopError }, 'stop failed'));
    return EXIT_CODES.failed;
  });
  return Promise.race([stopped, failed]);
}
