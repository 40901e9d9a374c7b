import { READ_KEY_PREFIX } from '../fixtures';
import type { ClosedLoopResult } from '../load/load-spec';
import { loadFigure } from '../report';
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
        loadFigure(run, {
          scenario: 'reads',
          label: `HTTP GET hit, ${run.concurrency} concurrent`,
          unit: 'ops/s',
          system: 'bitacora',
          operation: 'get',
          target: run.concurrency === TARGET_CONCURRENCY ? { field: 'value', op: '>=', value: 20_000, unit: 'ops/s' } : undefined,
        }),
      ),
    };
  },
};
