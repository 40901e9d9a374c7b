import type { ClosedLoopResult } from '../load/load-spec';
import { figure } from '../report';
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
        figure({
          scenario: 'writes',
          label: `HTTP POST, read-your-writes, ${run.concurrency} concurrent`,
          value: run.opsPerSecond,
          unit: 'writes/s',
          p50Ms: run.latency.p50Ms,
          p99Ms: run.latency.p99Ms,
          otherCores: run.cpu?.others,
          system: 'bitacora',
          operation: 'set',
          concurrency: run.concurrency,
          target: run.concurrency === TARGET_CONCURRENCY ? { field: 'value', op: '>=', value: 20_000, unit: 'writes/s' } : undefined,
        }),
      ),
    };
  },
};
