import { request } from 'undici';
import { waitForPositions } from '../fixtures';
import { benchKey } from '../keys';
import type { ClosedLoopResult, OperationSpec } from '../load/load-spec';
import { loadFigure } from '../report';
import { closedLoop, type Scenario } from './scenario';

const PEER_KEY_PREFIX = 'f';
const ABSENT_KEY_PREFIX = 'z';

/**
 * GETs that this node cannot answer alone, on the first node of three (FANOUT=always), in two cases:
 *  - peer hit: its consumer is paused (a node that lags, for real) and the keys are produced after the pause, so
 *    only the two peers hold them; every answer must come from a peer (`source: peer:<name>`), or the run fails;
 *  - absent everywhere: keys nobody wrote; each still costs the full round trip to both peers before the 404.
 * Keys are walked in order, so no two requests in flight share a key (concurrent misses of one key would share one
 * fan-out and flatter the figures).
 */
export const fanOutScenario: Scenario = {
  name: 'fan-out',
  fixtures: ['trio'],
  async run(context) {
    const { nodes, topic } = await context.fixtures.trio();
    const [asker, ...peers] = nodes;
    const count = context.options.fanOutKeys;
    await asker.ask({ type: 'pause' }, 'paused', 10_000);
    const fill = await context.fixtures.fill(topic, count, PEER_KEY_PREFIX);
    await Promise.all(peers.map((peer) => waitForPositions(peer.url, fill.endOffsets, 120_000)));
    await assertAnsweredByPeer(asker.url, benchKey(PEER_KEY_PREFIX, count - 1));

    const cases: { name: string; operation: OperationSpec }[] = [
      {
        name: 'peer hit',
        operation: { kind: 'http-get', urls: [asker.url], keys: { prefix: PEER_KEY_PREFIX, count, order: 'sequential' }, expectStatus: 200, expectSource: 'peer:' },
      },
      {
        name: 'absent everywhere',
        operation: { kind: 'http-get', urls: [asker.url], keys: { prefix: ABSENT_KEY_PREFIX, count: 1_000_000_000, order: 'sequential' }, expectStatus: 404 },
      },
    ];
    const runs: { name: string; run: ClosedLoopResult }[] = [];
    for (const { name, operation } of cases) {
      for (const concurrency of context.options.fanOutConcurrency) {
        context.log(`  ${name}:`);
        runs.push({ name, run: await closedLoop(context, operation, concurrency) });
      }
    }
    return {
      details: { keysOnPeersOnly: count, runs },
      figures: runs.map(({ name, run }) =>
        loadFigure(run, {
          scenario: 'fan-out',
          label: `GET ${name}, 2 peers asked, ${run.concurrency} concurrent`,
          unit: 'ops/s',
          system: 'bitacora',
          target: { field: 'p99Ms', op: '<=', value: 5, unit: 'ms' },
        }),
      ),
    };
  },
};

/** The setup is only honest if the asking node really lacks the keys: one is checked before the runs. */
async function assertAnsweredByPeer(url: string, key: string): Promise<void> {
  const { statusCode, body } = await request(`${url}/rpc?key=${key}`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  const json = (await body.json()) as { source?: string };
  if (statusCode !== 200 || !json.source?.startsWith('peer:')) {
    throw new Error(`the paused node answered ${key} with status ${statusCode} from ${json.source ?? 'nowhere'}, expected a peer: its consumer did not stay paused`);
  }
}
