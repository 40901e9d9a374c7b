import { READ_KEY_PREFIX } from '../fixtures';
import { findAvroClientFactory } from '../load/avro-hook';
import type { ClosedLoopResult } from '../load/load-spec';
import { loadFigure } from '../report';
import { closedLoop, type Scenario, ScenarioSkipped, TARGET_CONCURRENCY } from './scenario';

/**
 * get() hits and set() through the Avro client (src/client/avro-client.ts) on the same node as the HTTP reads and
 * writes. It runs as soon as that module exports createAvroClient; until then it reports itself skipped.
 */
export const avroScenario: Scenario = {
  name: 'avro',
  fixtures: ['single'],
  async run(context) {
    if (!findAvroClientFactory()) throw new ScenarioSkipped('src/client/avro-client.ts does not export createAvroClient yet');
    const { avroAddress } = await context.fixtures.single();
    const gets: ClosedLoopResult[] = [];
    const sets: ClosedLoopResult[] = [];
    for (const concurrency of context.options.concurrency) {
      gets.push(
        await closedLoop(
          context,
          { kind: 'avro-get', addresses: [avroAddress], keys: { prefix: READ_KEY_PREFIX, count: context.options.keys, order: 'random' } },
          concurrency,
        ),
      );
    }
    for (const concurrency of context.options.concurrency) {
      sets.push(await closedLoop(context, { kind: 'avro-set', addresses: [avroAddress], keyPrefix: 'a' }, concurrency));
    }
    const atTarget = (run: ClosedLoopResult): boolean => run.concurrency === TARGET_CONCURRENCY;
    return {
      details: { gets, sets },
      figures: [
        ...gets.map((run) =>
          loadFigure(run, {
            scenario: 'avro',
            label: `Avro get hit, ${run.concurrency} concurrent`,
            unit: 'ops/s',
            system: 'bitacora',
            operation: 'get',
            target: atTarget(run) ? { field: 'value', op: '>=', value: 100_000, unit: 'ops/s' } : undefined,
          }),
        ),
        ...sets.map((run) =>
          loadFigure(run, {
            scenario: 'avro',
            label: `Avro set, read-your-writes, ${run.concurrency} concurrent`,
            unit: 'writes/s',
            system: 'bitacora',
            operation: 'set',
            target: atTarget(run) ? { field: 'value', op: '>=', value: 20_000, unit: 'writes/s' } : undefined,
          }),
        ),
      ],
    };
  },
};
