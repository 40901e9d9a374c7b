import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { TallyHistogram } from '../../src/metrics/tally-histogram';

/** Exposition lines as `name{sorted labels} value`, so label order (which Prometheus ignores) does not matter. */
function normalised(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^([a-z_]+)\{(.*)\} (.+)$/.exec(line);
      if (!match) return line;
      const labels = match[2]!.split(/,(?=[a-z_]+=")/).sort().join(',');
      return `${match[1]}{${labels}} ${match[3]}`;
    })
    .sort();
}

describe('TallyHistogram', () => {
  const bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1];

  it('is exposed exactly as prom-client exposes a Histogram fed the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    for (const registry of [ours, theirs]) registry.setDefaultLabels({ node: 'n1' });
    const tally = new TallyHistogram('t_seconds', 'Help text.', bounds, [ours]);
    const reference = new Histogram({ name: 't_seconds', help: 'Help text.', labelNames: ['interface', 'operation'], buckets: bounds, registers: [theirs] });
    let seed = 17;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const labelSets = [
      { interface: 'http', operation: 'get' },
      { interface: 'resp', operation: 'get' },
      { interface: 'resp', operation: 'set' },
    ];
    for (let i = 0; i < 5_000; i++) {
      const labels = labelSets[i % labelSets.length]!;
      // Edges included: a value equal to a bound falls in that bound's bucket (le), one above it in the next.
      const seconds = i % 97 === 0 ? bounds[i % bounds.length]! : i % 89 === 0 ? 5 : random() ** 4;
      tally.child(labels).observe(seconds);
      reference.observe(labels, seconds);
    }
    assert.deepEqual(normalised(await ours.metrics()), normalised(await theirs.metrics()));
    const json = (await ours.getMetricsAsJSON())[0]!;
    assert.equal(json.values.length, labelSets.length * (bounds.length + 3));
    assert.ok(json.values.every((value) => value.labels.node === 'n1'));
  });

  it('shows no series before a label set is first used, and zeros after reset', async () => {
    const registry = new Registry();
    const tally = new TallyHistogram('t_seconds', 'Help.', bounds, [registry]);
    assert.doesNotMatch(await registry.metrics(), /t_seconds_count/);
    tally.child({ operation: 'get' }).observe(0.002);
    assert.match(await registry.metrics(), /t_seconds_count\{operation="get"\} 1/);
    registry.resetMetrics();
    assert.match(await registry.metrics(), /t_seconds_count\{operation="get"\} 0/);
  });
});
