import { READ_KEY_PREFIX } from '../fixtures';
import type { ClosedLoopResult } from '../load/load-spec';
import { figure } from '../report';
import { closedLoop, type Scenario, TARGET_CONCURRENCY } from './scenario';

/** HTTP GET hits on one node, over its whole preloaded key space, at each concurrency. */
export const readsScenario: Scenario = {
  name: 'reads',
  fixtures: ['single'],
  async run(context) {
    const { node } = await context.fixtures.single();
    const runs: ClosedLoopResult[] = [];
    for (const concurrency of context.options.concurrency) {
      runs.push(
        await closedLoop(
          context,
          { kind: 'http-get', urls: [node.url], keys: { prefix: READ_KEY_PREFIX, count: context.options.keys, order: 'random' }, expectStatus: 200 },
          concurrency,
        ),
      );
    }
    return {
      details: { keys: context.options.keys, runs },
      figures: runs.map((run) =>
        figure({
          scenario: 'reads',
          label: `HTTP GET hit, ${run.concurrency} concurrent`,
          value: run.opsPerSecond,
          unit: 'ops/s',
          p50Ms: run.latency.p50Ms,
          p99Ms: run.latency.p99Ms,
          otherCores: run.cpu?.others,
          system: 'bitacora',
          operation: 'get',
          concurrency: run.concurrency,
          target: run.concurrency === TARGET_CONCURRENCY ? { field: 'value', op: '>=', value: 20_000, unit: 'ops/s' } : undefined,
        }),
      ),
    };
  },
};
