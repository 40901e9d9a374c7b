import type { ClosedLoopResult } from '../load/load-spec';
import { loadFigure } from '../report';
import { closedLoop, type Scenario, TARGET_CONCURRENCY } from './scenario';

/**
 * HTTP POST of fresh keys on one node, at each concurrency. A write is answered only once Kafka acknowledged it
 * (acks=all) and the node applied it; after each run the last write of every connection is read back.
 */
export const writesScenario: Scenario = {
  name: 'writes',
  fixtures: ['single'],
  async run(context) {
    const { node } = await context.fixtures.single();
    const runs: ClosedLoopResult[] = [];
    for (const concurrency of context.options.concurrency) {
      runs.push(await closedLoop(context, { kind: 'http-set', urls: [node.url], keyPrefix: 'w' }, concurrency));
    }
    return {
      details: { runs },
      figures: runs.map((run) =>
        loadFigure(run, {
          scenario: 'writes',
          label: `HTTP POST, read-your-writes, ${run.concurrency} concurrent`,
          unit: 'writes/s',
          system: 'bitacora',
          operation: 'set',
          target: run.concurrency === TARGET_CONCURRENCY ? { field: 'value', op: '>=', value: 20_000, unit: 'writes/s' } : undefined,
        }),
      ),
    };
  },
};
