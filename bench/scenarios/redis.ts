import { READ_KEY_PREFIX } from '../fixtures';
import type { ClosedLoopResult } from '../load/load-spec';
import { findRedisServer, REDIS_INSTALL_HINT, startRedis } from '../redis-server';
import { loadFigure } from '../report';
import { closedLoop, type Scenario, ScenarioSkipped } from './scenario';

/**
 * redis-server on this machine, measured by the same load generator at the same concurrencies (one connection per
 * request in flight, as for HTTP): the yardstick for the reads and writes rows. Run while no cache node runs.
 */
export const redisScenario: Scenario = {
  name: 'redis',
  fixtures: [],
  async run(context) {
    const executable = await findRedisServer();
    if (!executable) throw new ScenarioSkipped(REDIS_INSTALL_HINT);
    const redis = await startRedis(executable, context.resources, context.logDir);
    try {
      context.log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}; preloading ${context.options.keys} keys`);
      await redis.preload(READ_KEY_PREFIX, context.options.keys);
      const gets: ClosedLoopResult[] = [];
      const sets: ClosedLoopResult[] = [];
      for (const concurrency of context.options.concurrency) {
        gets.push(
          await closedLoop(context, { kind: 'redis-get', port: redis.port, keys: { prefix: READ_KEY_PREFIX, count: context.options.keys, order: 'random' } }, concurrency),
        );
      }
      for (const concurrency of context.options.concurrency) {
        sets.push(await closedLoop(context, { kind: 'redis-set', port: redis.port, keyPrefix: 'w' }, concurrency));
      }
      const row = (run: ClosedLoopResult, operation: 'get' | 'set') =>
        loadFigure(run, {
          scenario: 'redis',
          label: `Redis ${operation.toUpperCase()}, ${run.concurrency} concurrent`,
          unit: 'ops/s',
          system: 'redis',
          operation,
        });
      return {
        details: { version: redis.version, gets, sets },
        figures: [...gets.map((run) => row(run, 'get')), ...sets.map((run) => row(run, 'set'))],
      };
    } finally {
      await redis.stop();
    }
  },
};
