// scrapeConnector over a stand-in for TrinoAdmin: the rows of <catalog>.mesh.request_metrics as trino-client hands
// them over, turned into samples; every catalog and node; Trino's failures named as Trino's.
import { expect } from 'chai';
import { type TrinoAdmin, TrinoStatementError, TrinoUnavailableError } from '../src/catalogs/trino-admin';
import { ConnectorScrapeError, LATENCY_BOUNDS_SECONDS, parseRequestMetricsRow, scrapeConnector } from '../src/metrics/connector-scrape';

/** A row as Trino returns it: node, domain, requests, retries, bytes, 7 failure kinds, latency count, sum, bounds, cumulative, circuit. */
function row(node: string, domain: string, requests: number, overrides: Record<number, unknown> = {}): unknown[] {
  const cumulative = LATENCY_BOUNDS_SECONDS.map((b) => (b < 0.05 ? 0 : b < 1 ? Math.max(0, requests - 1) : requests));
  const values: unknown[] = [
    node,
    domain,
    requests,
    1,
    requests * 1000,
    0,
    2,
    1,
    0,
    3,
    0,
    4,
    requests,
    requests * 0.2,
    [...LATENCY_BOUNDS_SECONDS],
    cumulative,
    'closed',
  ];
  for (const [index, value] of Object.entries(overrides)) values[Number(index)] = value;
  return values;
}

function trinoAnswering(answer: (sql: string) => unknown[][] | Error): { trino: TrinoAdmin; statements: string[] } {
  const statements: string[] = [];
  const trino = {
    query: async (sql: string): Promise<unknown[][]> => {
      statements.push(sql);
      const result = answer(sql);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as TrinoAdmin;
  return { trino, statements };
}

describe('scrapeConnector', () => {
  it('reads every fhir catalog on every node into samples', async () => {
    const { trino, statements } = trinoAnswering((sql) => {
      if (sql.includes('system.metadata.catalogs')) return [['fhir'], ['fhir_b']];
      if (sql.includes('"fhir".mesh.request_metrics')) return [row('coordinator', 'RX1', 7), row('worker-1', 'RX1', 3), row('worker-1', 'RTH', 0)];
      return [row('coordinator', 'RR8', 2, { 16: 'half_open' })];
    });
    const samples = await scrapeConnector(trino);
    expect(statements).to.have.length(3);
    expect(statements[0]).to.contain("connector_name = 'fhir'");
    expect(samples.map((s) => `${s.catalog}/${s.node}/${s.domain}=${s.requests}`)).to.deep.equal([
      'fhir/coordinator/RX1=7',
      'fhir/worker-1/RX1=3',
      'fhir/worker-1/RTH=0',
      'fhir_b/coordinator/RR8=2',
    ]);
    expect(samples[0]).to.deep.equal({
      node: 'coordinator',
      catalog: 'fhir',
      domain: 'RX1',
      requests: 7,
      failures: { http_3xx: 0, http_4xx: 2, http_5xx: 1, timeout: 0, connection: 3, bad_response: 0, circuit_open: 4 },
      bytes: 7000,
      retries: 1,
      latency: { bounds: LATENCY_BOUNDS_SECONDS, cumulativeCounts: [0, 0, 0, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7], sum: 7 * 0.2, count: 7 },
      circuit: 'closed',
    });
    expect(samples[3]?.circuit).to.equal('half_open');
  });

  it('names Trino when it cannot be reached', async () => {
    const { trino } = trinoAnswering(() => new TrinoUnavailableError('Trino at https://127.0.0.1:8180 is not reachable: connect ECONNREFUSED'));
    const error = await scrapeConnector(trino).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TrinoUnavailableError);
    expect((error as Error).message).to.equal('connector metrics: Trino at https://127.0.0.1:8180 is not reachable: connect ECONNREFUSED');
  });

  it('fails naming the catalog when its connector has no metrics table, and skips a catalog dropped meanwhile', async () => {
    const { trino } = trinoAnswering((sql) =>
      sql.includes('system.metadata.catalogs')
        ? [['fhir'], ['gone']]
        : sql.includes('"gone"')
          ? new TrinoStatementError('CATALOG_NOT_FOUND', "Catalog 'gone' not found")
          : new TrinoStatementError('TABLE_NOT_FOUND', "Table 'fhir.mesh.request_metrics' does not exist"),
    );
    const error = await scrapeConnector(trino).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ConnectorScrapeError);
    expect((error as Error).message).to.equal(
      "connector metrics: Trino refused to read catalog fhir: TABLE_NOT_FOUND: Table 'fhir.mesh.request_metrics' does not exist",
    );

    const { trino: dropping } = trinoAnswering((sql) =>
      sql.includes('system.metadata.catalogs')
        ? [['fhir'], ['gone']]
        : sql.includes('"gone"')
          ? new TrinoStatementError('CATALOG_NOT_FOUND', "Catalog 'gone' not found")
          : [row('n', 'RX1', 1)],
    );
    expect((await scrapeConnector(dropping)).map((s) => s.catalog)).to.deep.equal(['fhir']);
  });
});

describe('parseRequestMetricsRow', () => {
  const refusals: [string, unknown[], string][] = [
    ['a short row', row('n', 'RX1', 1).slice(0, 16), 'a row has 16 values, expected 17'],
    ['an empty node', row('n', 'RX1', 1, { 0: '' }), 'node is "", expected a non-empty string'],
    ['a fractional count', row('n', 'RX1', 1, { 2: 1.5 }), 'requests is 1.5, expected a count'],
    ['a negative count', row('n', 'RX1', 1, { 9: -1 }), 'failures_connection is -1, expected a count'],
    ['other bounds', row('n', 'RX1', 1, { 14: [0.1, 1] }), 'latency_bounds_seconds is [0.1,1], expected [0.005,'],
    ['counts that fall', row('n', 'RX1', 5, { 15: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }), 'expected counts rising to at most latency_count (5)'],
    ['counts past the count', row('n', 'RX1', 5, { 12: 4 }), 'expected counts rising to at most latency_count (4)'],
    ['an unknown circuit state', row('n', 'RX1', 1, { 16: 'ajar' }), 'circuit_state is "ajar", expected closed, open, half_open'],
  ];
  for (const [what, values, message] of refusals) {
    it(`refuses ${what}, naming the catalog and column`, () => {
      expect(() => parseRequestMetricsRow('fhir', values))
        .to.throw(ConnectorScrapeError)
        .with.property('message')
        .that.contains(`connector metrics of catalog fhir: `)
        .and.contains(message);
    });
  }
});
