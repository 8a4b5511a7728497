import type { Metric, Registry } from 'prom-client';

type LabelValues<L extends string> = Readonly<Record<L, string | number>>;

/** What a label set's observer, bound once by labels(), does per observation. */
export interface BoundObserver {
  observe(value: number): void;
}

interface Series {
  readonly labels: Readonly<Record<string, string | number>>;
  // One count per bucket, not cumulative; the last is above every bound (+Inf).
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

type Sample = { labels: Record<string, string | number>; value: number; metricName: string };

/**
 * A histogram in prom-client's registry whose label sets are bound once: the observer that labels()
 * returns finds its bucket and adds. prom-client's own histogram validates, hashes and looks up the
 * labels again on every observation, bound or not (1–2.5 µs a call here, and a request makes four:
 * its duration, the pool's wait and hold times, the statement's duration). prom-client still owns the
 * registry and writes the exposition from get(), in the shape its own histograms give it.
 */
export class BoundHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    registry.registerMetric(this as unknown as Metric);
  }

  /** The observer of one label set: keep it, and call its observe() on the hot path. */
  labels(labels: LabelValues<L>): BoundObserver {
    const series = this.seriesOf(labels);
    const bounds = this.bounds;
    return {
      observe(value: number): void {
        if (!Number.isFinite(value)) return;
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i += 1;
        series.counts[i]! += 1;
        series.sum += value;
        series.count += 1;
      },
    };
  }

  /** One observation, binding the labels for it (for rare events). */
  observe(labels: LabelValues<L>, value: number): void {
    this.labels(labels).observe(value);
  }

  /** Makes the label set's series appear (zeros) before anything is observed. */
  zero(labels: LabelValues<L>): void {
    this.seriesOf(labels);
  }

  /** Back to zero; bound observers keep working. */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** What the registry writes: cumulative buckets with `le`, then _sum and _count, per label set. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let below = 0;
      this.bounds.forEach((le, i) => {
        below += s.counts[i]!;
        values.push({ labels: { le, ...s.labels }, value: below, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  private seriesOf(labels: LabelValues<L>): Series {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name as L)) throw new Error(`${this.name}: unknown label ${name}`);
    }
    const key = this.labelNames.map((name) => String(labels[name] ?? '')).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      const own: Record<string, string | number> = {};
      for (const name of this.labelNames) if (labels[name] !== undefined) own[name] = labels[name];
      series = { labels: own, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    return series;
  }
}
