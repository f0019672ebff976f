// A histogram whose observations were counted elsewhere (the connector's request latencies, scraped from Trino):
// its buckets are handed to prom-client as they stand at scrape time, in the shape prom-client's own histograms
// give it, so the registry writes the exposition (escaping, `le`, `_bucket`/`_sum`/`_count`) exactly as for them.
import type { Metric, Registry } from 'prom-client';

export interface HistogramSample<L extends string> {
  labels: Record<L, string>;
  /** Upper bounds (seconds), ascending; +Inf is implied. */
  bounds: number[];
  /** Observations at or below each bound. */
  cumulativeCounts: number[];
  sum: number;
  count: number;
}

interface ExportedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Why a sample cannot be a Prometheus histogram, or undefined when it can. */
export function histogramSampleProblem(sample: HistogramSample<string>): string | undefined {
  const { bounds, cumulativeCounts: counts, sum, count } = sample;
  if (bounds.length !== counts.length) return `${bounds.length} bounds but ${counts.length} counts`;
  if (!bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds[i - 1]!))) return 'bounds are not finite and ascending';
  if (!counts.every((c, i) => Number.isFinite(c) && c >= 0 && (i === 0 || c >= counts[i - 1]!))) return 'counts are not cumulative';
  if (!Number.isFinite(count) || count < (counts.at(-1) ?? 0)) return `count ${count} is below the last bucket's`;
  if (!Number.isFinite(sum)) return `sum ${sum} is not a number`;
  return undefined;
}

export class SampledHistogram<L extends string> {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;

  /**
   * @param samples read afresh at every scrape; a malformed sample is left out and reported to `onProblem`
   * rather than written as a histogram Prometheus would reject.
   */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly samples: () => Promise<HistogramSample<L>[]>,
    private readonly onProblem: (labels: Record<L, string>, problem: string) => void = () => undefined,
  ) {}

  /** What the registry formats: the same object prom-client's Histogram.get() returns. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    for (const sample of await this.samples()) {
      const problem = histogramSampleProblem(sample);
      if (problem) {
        this.onProblem(sample.labels, problem);
        continue;
      }
      const labels: Record<string, string> = { ...sample.labels };
      sample.bounds.forEach((le, i) => {
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: sample.cumulativeCounts[i]! });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: sample.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: sample.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: sample.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Nothing is held between scrapes (the registry calls this on resetMetrics). */
  reset(): void {}

  register(registry: Registry): void {
    // prom-client's Metric type lists its own classes; the registry needs only name, get() and reset().
    registry.registerMetric(this as unknown as Metric);
  }
}
