import type { Metric, MetricObjectWithValues, MetricType, MetricValueWithName, Registry } from 'prom-client';

/** One label set's tallies: observing is a bucket search and three additions, nothing allocated. */
export class HistogramTally {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose per-label-set children are plain tallies, exposed through a prom-client registry
 * exactly as prom-client's own Histogram would expose the same observations (a unit test compares the two).
 *
 * Why not prom-client's Histogram: every observe() of a labelled child still validates and hashes the labels and
 * builds objects, about 7 % of a node's time on pipelined GETs (issue #17's profile); a request-path metric is
 * counted once per request, so it costs a few additions here and the work moves to the scrape.
 */
export class TallyHistogram {
  /** MetricType is a declared enum prom-client does not export at run time: its value is the string. */
  readonly type = 'histogram' as unknown as MetricType;
  readonly aggregator = 'sum';
  private readonly tallies = new Map<string, HistogramTally>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registers: readonly Registry[],
  ) {
    // The registry only reads name, help, type and get() (and reset() on resetMetrics): the contract of its metrics.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The tally of one label set; resolve it once and keep it (the key is built only here). */
  child(labels: Readonly<Record<string, string>>): HistogramTally {
    const key = JSON.stringify(labels);
    let tally = this.tallies.get(key);
    if (!tally) this.tallies.set(key, (tally = new HistogramTally(this.bounds, labels)));
    return tally;
  }

  reset(): void {
    for (const tally of this.tallies.values()) {
      tally.counts.fill(0);
      tally.sum = 0;
      tally.count = 0;
    }
  }

  /** The values prom-client's Histogram gives for the same observations: cumulative buckets with `le`, then +Inf, sum and count. */
  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: Array<MetricValueWithName<string>> = [];
    for (const tally of this.tallies.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += tally.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...tally.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...tally.labels }, value: tally.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...tally.labels }, value: tally.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...tally.labels }, value: tally.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, collect: () => undefined, values };
  }
}
