import { describeCpu } from '../cpu-usage';
import { figure } from '../report';
import { asReplication, type Scenario } from './scenario';

/**
 * Writes at a steady rate to the first of three nodes; for each acknowledged write, the time until the other two
 * have applied it too (the writer serves it from its acknowledgement on: read-your-writes).
 */
export const replicationScenario: Scenario = {
  name: 'replication',
  fixtures: ['trio'],
  async run(context) {
    const { nodes } = await context.fixtures.trio();
    const { options } = context;
    const result = asReplication(
      await context.load({
        job: 'replication',
        writeUrl: nodes[0].url,
        observerUrls: [nodes[1].url, nodes[2].url],
        ratePerSecond: options.replicationRate,
        warmupMs: options.warmupMs,
        durationMs: options.replicationDurationMs,
        pollIntervalMs: options.pollIntervalMs,
        keyPrefix: 'p',
        requestTimeoutMs: 15_000,
        replicationTimeoutMs: 10_000,
        maxInFlight: 64,
        maxErrorRatio: options.maxErrorRatio,
      }),
    );
    context.log(
      `  ${result.writesMeasured} writes at ${result.achievedWritesPerSecond.toFixed(0)}/s: on all 3 nodes after p50 ${result.replication.p50Ms.toFixed(2)} ms, ` +
        `p99 ${result.replication.p99Ms.toFixed(2)} ms (poll period ${result.pollPeriodMs.toFixed(2)} ms, round trip ${result.pollRoundTripMs.toFixed(2)} ms)`,
    );
    if (result.cpu) context.log(`    cores used: ${describeCpu(result.cpu)}`);
    return {
      details: result,
      figures: [
        figure({
          scenario: 'replication',
          label: `acknowledged write on all 3 nodes, ${options.replicationRate} writes/s`,
          value: result.achievedWritesPerSecond,
          unit: 'writes/s',
          p50Ms: result.replication.p50Ms,
          p99Ms: result.replication.p99Ms,
          otherCores: result.cpu?.others,
          system: 'bitacora',
          target: { field: 'p99Ms', op: '<=', value: 20, unit: 'ms' },
          note:
            `from the acknowledgement at the client until a poll of both other nodes' applied positions shows the write: an upper bound, ` +
            `late by up to one poll period (${result.pollPeriodMs.toFixed(2)} ms measured) plus a round trip (${result.pollRoundTripMs.toFixed(2)} ms); ` +
            `the writes themselves took p50 ${result.ack.p50Ms.toFixed(2)} ms, p99 ${result.ack.p99Ms.toFixed(2)} ms`,
        }),
      ],
    };
  },
};
