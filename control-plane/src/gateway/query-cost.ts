// What a statement cost Trino, for the audit record (ops see it per query): the figures of the `stats` object
// on the last page Trino sent for it. A statement the gateway answers with several Trino runs (partial results
// retried without a failing domain) costs the sum of its runs, and the highest peak memory among them. Pure.

export interface QueryCost {
  cpuMs: number;
  processedRows: number;
  processedBytes: number;
  peakMemoryBytes: number;
}

/** The cost in a protocol page's `stats`, or undefined when the page has none (an error page from a proxy). */
export function queryCostOf(stats: unknown): QueryCost | undefined {
  if (typeof stats !== 'object' || stats === null) return undefined;
  const s = stats as Record<string, unknown>;
  const figures = [s.cpuTimeMillis, s.processedRows, s.processedBytes, s.peakMemoryBytes];
  if (!figures.every((f) => typeof f === 'number' && Number.isFinite(f) && f >= 0)) return undefined;
  const [cpuMs, processedRows, processedBytes, peakMemoryBytes] = figures as number[];
  return { cpuMs: cpuMs!, processedRows: processedRows!, processedBytes: processedBytes!, peakMemoryBytes: peakMemoryBytes! };
}

/** The cost of the Trino runs of one statement, added up as each run ends. */
export class QueryCostTally {
  private sum?: QueryCost;

  add(cost: QueryCost | undefined): void {
    if (!cost) return;
    const s = this.sum;
    this.sum = s
      ? {
          cpuMs: s.cpuMs + cost.cpuMs,
          processedRows: s.processedRows + cost.processedRows,
          processedBytes: s.processedBytes + cost.processedBytes,
          peakMemoryBytes: Math.max(s.peakMemoryBytes, cost.peakMemoryBytes),
        }
      : { ...cost };
  }

  /** undefined while no run has reported a cost. */
  get total(): QueryCost | undefined {
    return this.sum && { ...this.sum };
  }
}
