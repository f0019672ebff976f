// The fhir connector's per-domain request metrics, read from Trino at the moment of the call.
//
// Route: each connector keeps them as JMX MBeans (`uk.nhs.fhirmesh:type=DomainRequests,name=<catalog>.<domain>`, platform
// MBean server of every node), and its system table `<catalog>.mesh.request_metrics` reads those MBeans on every node
// (ALL_NODES distribution). One statement per catalog, through the coordinator, authenticated as the control plane.
// Trino's own /metrics (openmetrics.jmx-object-names) carries the same MBeans, but only per node, and a worker answers
// it only on its internal plain-HTTP port; the metric name there is the only label (`JMX_uk_nhs_fhirmesh_NAME_<catalog>_<domain>_TYPE_DomainRequests_ATTRIBUTE_<attribute>`), so it stays for Prometheus users of Trino itself.
import { type TrinoAdmin, TrinoStatementError, TrinoUnavailableError } from '../catalogs/trino-admin';

export type CircuitStateName = 'closed' | 'open' | 'half_open';

export interface ConnectorDomainSample {
  /** Trino node id. */
  node: string;
  catalog: string;
  /** ODS code as in the catalog (e.g. RX1). */
  domain: string;
  /** HTTP requests sent, retries included (== access-log lines the connector caused). */
  requests: number;
  /** By kind: http_3xx, http_4xx, http_5xx, timeout, connection, bad_response, circuit_open. */
  failures: Record<string, number>;
  /** Response body bytes read. */
  bytes: number;
  retries: number;
  /** Seconds; counts cumulative per bound (the last bound is 60 s; `count` includes the slower ones). */
  latency: { bounds: number[]; cumulativeCounts: number[]; sum: number; count: number };
  circuit: CircuitStateName;
}

/** The fixed bucket bounds the connector uses (DomainRequestMetrics.LATENCY_BOUNDS_SECONDS). */
export const LATENCY_BOUNDS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const FAILURE_KINDS = ['http_3xx', 'http_4xx', 'http_5xx', 'timeout', 'connection', 'bad_response', 'circuit_open'] as const;
const CIRCUIT_STATES: readonly string[] = ['closed', 'open', 'half_open'];

/** The columns read, in this order (parseRequestMetricsRow relies on it). */
const COLUMNS = [
  'node',
  'domain',
  'requests',
  'retries',
  'response_bytes',
  ...FAILURE_KINDS.map((kind) => `failures_${kind}`),
  'latency_count',
  'latency_sum_seconds',
  'latency_bounds_seconds',
  'latency_cumulative_counts',
  'circuit_state',
];

/** Thrown when Trino answers, but not with the metrics (an old connector without mesh.request_metrics, say). */
export class ConnectorScrapeError extends Error {}

/**
 * Every fhir catalog's request metrics on every Trino node, as they stand now (no caching).
 * @throws TrinoUnavailableError naming Trino when it cannot be reached; ConnectorScrapeError when it answers otherwise
 */
export async function scrapeConnector(trino: TrinoAdmin): Promise<ConnectorDomainSample[]> {
  const catalogs = (
    await read(trino, "SELECT catalog_name FROM system.metadata.catalogs WHERE connector_name = 'fhir' ORDER BY catalog_name", 'the list of fhir catalogs')
  ).map((row) => String(row[0]));
  const samples: ConnectorDomainSample[] = [];
  for (const catalog of catalogs) {
    let rows: unknown[][];
    try {
      rows = await read(
        trino,
        `SELECT ${COLUMNS.join(', ')} FROM "${catalog.replace(/"/g, '""')}".mesh.request_metrics ORDER BY node, domain`,
        `catalog ${catalog}`,
      );
    } catch (e) {
      // Dropped since it was listed (a catalog sync replacing it): it has no metrics any more.
      if (e instanceof ConnectorScrapeError && (e.cause as TrinoStatementError | undefined)?.errorName === 'CATALOG_NOT_FOUND') continue;
      throw e;
    }
    samples.push(...rows.map((row) => parseRequestMetricsRow(catalog, row)));
  }
  return samples;
}

async function read(trino: TrinoAdmin, sql: string, what: string): Promise<unknown[][]> {
  try {
    return await trino.query(sql);
  } catch (e) {
    if (e instanceof TrinoUnavailableError) throw new TrinoUnavailableError(`connector metrics: ${e.message}`);
    if (e instanceof TrinoStatementError) {
      throw new ConnectorScrapeError(`connector metrics: Trino refused to read ${what}: ${e.errorName}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** One row of `<catalog>.mesh.request_metrics` (columns as COLUMNS lists them) as a sample; throws naming what is wrong. */
export function parseRequestMetricsRow(catalog: string, row: unknown[]): ConnectorDomainSample {
  if (row.length !== COLUMNS.length) {
    throw new ConnectorScrapeError(`connector metrics of catalog ${catalog}: a row has ${row.length} values, expected ${COLUMNS.length}`);
  }
  const at = (column: string): unknown => row[COLUMNS.indexOf(column)];
  const fail = (column: string, expected: string): never => {
    throw new ConnectorScrapeError(`connector metrics of catalog ${catalog}: ${column} is ${JSON.stringify(at(column))}, expected ${expected}`);
  };
  const text = (column: string): string => {
    const value = at(column);
    return typeof value === 'string' && value !== '' ? value : fail(column, 'a non-empty string');
  };
  const count = (column: string, value: unknown = at(column)): number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fail(column, 'a count');
  const node = text('node');
  const domain = text('domain');
  const bounds = at('latency_bounds_seconds');
  if (!Array.isArray(bounds) || bounds.length !== LATENCY_BOUNDS_SECONDS.length || bounds.some((b, i) => b !== LATENCY_BOUNDS_SECONDS[i])) {
    fail('latency_bounds_seconds', JSON.stringify(LATENCY_BOUNDS_SECONDS));
  }
  const cumulative = at('latency_cumulative_counts');
  if (!Array.isArray(cumulative) || cumulative.length !== LATENCY_BOUNDS_SECONDS.length)
    fail('latency_cumulative_counts', `${LATENCY_BOUNDS_SECONDS.length} counts`);
  const cumulativeCounts = (cumulative as unknown[]).map((value) => count('latency_cumulative_counts', value));
  const latencyCount = count('latency_count');
  if (cumulativeCounts.some((value, i) => value > latencyCount || (i > 0 && value < (cumulativeCounts[i - 1] ?? 0)))) {
    fail('latency_cumulative_counts', `counts rising to at most latency_count (${latencyCount})`);
  }
  const sum = at('latency_sum_seconds');
  if (typeof sum !== 'number' || !Number.isFinite(sum) || sum < 0) fail('latency_sum_seconds', 'seconds');
  const circuit = text('circuit_state');
  if (!CIRCUIT_STATES.includes(circuit)) fail('circuit_state', CIRCUIT_STATES.join(', '));
  return {
    node,
    catalog,
    domain,
    requests: count('requests'),
    failures: Object.fromEntries(FAILURE_KINDS.map((kind) => [kind, count(`failures_${kind}`)])),
    bytes: count('response_bytes'),
    retries: count('retries'),
    latency: { bounds: [...LATENCY_BOUNDS_SECONDS], cumulativeCounts, sum: sum as number, count: latencyCount },
    circuit: circuit as CircuitStateName,
  };
}
