// The control plane's /metrics registry over fake sources: what each family shows, read back with a strict
// parser of Prometheus's text format (what a scraper ingests), and that Trino being unreachable costs only
// the connector's figures.
import { expect } from 'chai';
import type { ConnectorDomainSample } from '../src/metrics/connector-scrape';
import { catalogSyncTrigger, MeshMetrics, type MetricSources } from '../src/metrics/mesh-metrics';
import { type Family, parsePrometheusText, sumOf } from './prometheus-text';

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function sample(node: string, domain: string, requests: number, overrides: Partial<ConnectorDomainSample> = {}): ConnectorDomainSample {
  return {
    node,
    catalog: 'fhir',
    domain,
    requests,
    failures: { http_5xx: 1, timeout: 0 },
    bytes: requests * 1000,
    retries: 1,
    latency: { bounds: BOUNDS, cumulativeCounts: BOUNDS.map((b) => (b < 0.05 ? 0 : b < 1 ? requests - 1 : requests)), sum: requests * 0.2, count: requests },
    circuit: 'closed',
    ...overrides,
  };
}

function sources(connector: () => Promise<ConnectorDomainSample[]>): MetricSources & { connectorCalls: number } {
  const s = {
    connectorCalls: 0,
    connector: async () => {
      s.connectorCalls++;
      return connector();
    },
    epsilonSpent: async () => [
      { consumer: 'carol', project: 'demo-cohort', periodStart: '2026-12-01T00:00:00.000Z', spent: 0.75 },
      { consumer: 'carol', project: '(all projects)', periodStart: '2026-12-01T00:00:00.000Z', spent: 1.25 },
    ],
    epsilonBudgets: async () => [{ consumer: 'carol', epsilon: 3 }],
    endpointHealth: async () => [
      { domain: 'RX1', endpoint: 'http://127.0.0.1:8190/fhir/rx1', up: true },
      { domain: 'ZZ9', endpoint: 'http://127.0.0.1:1/fhir', up: false },
    ],
  };
  return s;
}

async function scrape(metrics: MeshMetrics): Promise<Map<string, Family>> {
  return parsePrometheusText(await metrics.exposition());
}

describe('metrics: the control plane registry', () => {
  it("re-exports the connector's figures per catalog, domain and node, as Trino has them at each scrape", async () => {
    let requests = 5;
    const src = sources(async () => [
      sample('node-a', 'RX1', requests),
      sample('node-b', 'RX1', 2, { circuit: 'open', failures: { circuit_open: 4 } }),
      sample('node-a', 'RYJ', 0, { latency: { bounds: BOUNDS, cumulativeCounts: BOUNDS.map(() => 0), sum: 0, count: 0 } }),
    ]);
    const metrics = new MeshMetrics(src, { processMetrics: false });
    let families = await scrape(metrics);
    expect(src.connectorCalls, 'one Trino read per scrape, shared by the families').to.equal(1);
    expect(families.get('fhirmesh_fhir_requests_total')?.type).to.equal('counter');
    expect(sumOf(families, 'fhirmesh_fhir_requests_total', { domain: 'RX1' })).to.equal(7);
    expect(sumOf(families, 'fhirmesh_fhir_requests_total', { domain: 'RX1', node: 'node-a', catalog: 'fhir' })).to.equal(5);
    expect(sumOf(families, 'fhirmesh_fhir_requests_total', { domain: 'RYJ' })).to.equal(0);
    expect(families.get('fhirmesh_fhir_requests_total')!.samples).to.have.length(3);
    expect(sumOf(families, 'fhirmesh_fhir_response_bytes_total', { domain: 'RX1', node: 'node-a' })).to.equal(5000);
    expect(sumOf(families, 'fhirmesh_fhir_retries_total')).to.equal(3);
    expect(sumOf(families, 'fhirmesh_fhir_request_failures_total', { domain: 'RX1', node: 'node-a', kind: 'http_5xx' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_fhir_request_failures_total', { node: 'node-b', kind: 'circuit_open' })).to.equal(4);
    expect(sumOf(families, 'fhirmesh_fhir_circuit_state', { node: 'node-b', state: 'open' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_fhir_circuit_state', { node: 'node-b', state: 'closed' })).to.equal(0);
    expect(sumOf(families, 'fhirmesh_fhir_circuit_state', { node: 'node-a', domain: 'RX1', state: 'closed' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_trino_scrape_up')).to.equal(1);

    const histogram = families.get('fhirmesh_fhir_request_duration_seconds')!;
    expect(histogram.type).to.equal('histogram');
    const rx1a = { domain: 'RX1', node: 'node-a' };
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_bucket', { ...rx1a, le: '0.025' })).to.equal(0);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_bucket', { ...rx1a, le: '0.05' })).to.equal(4);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_bucket', { ...rx1a, le: '60' })).to.equal(5);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_bucket', { ...rx1a, le: '+Inf' })).to.equal(5);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_sum', rx1a)).to.equal(1);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_count', rx1a)).to.equal(5);
    // 13 bounds + +Inf + sum + count per series
    expect(histogram.samples).to.have.length(3 * 16);

    requests = 9;
    families = await scrape(metrics);
    expect(src.connectorCalls).to.equal(2);
    expect(sumOf(families, 'fhirmesh_fhir_requests_total', { domain: 'RX1', node: 'node-a' }), 'read afresh, not cached').to.equal(9);
  });

  it('answers without the connector figures when Trino cannot be read, and with them again when it can', async () => {
    let up = false;
    const src = sources(async () => {
      if (!up) throw new Error('Trino at https://127.0.0.1:8180 is not reachable: ECONNREFUSED');
      return [sample('node-a', 'RX1', 3)];
    });
    const metrics = new MeshMetrics(src, { processMetrics: false });
    metrics.queryEnded('finished', 'research', 1200);
    let families = await scrape(metrics);
    expect(sumOf(families, 'fhirmesh_trino_scrape_up')).to.equal(0);
    expect(families.get('fhirmesh_fhir_requests_total')!.samples).to.deep.equal([]);
    expect(families.get('fhirmesh_fhir_request_duration_seconds')!.samples).to.deep.equal([]);
    expect(sumOf(families, 'fhirmesh_gateway_queries_total', { outcome: 'finished', purpose: 'research' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_privacy_epsilon_budget', { consumer: 'carol' })).to.equal(3);
    up = true;
    families = await scrape(metrics);
    expect(sumOf(families, 'fhirmesh_trino_scrape_up')).to.equal(1);
    expect(sumOf(families, 'fhirmesh_fhir_requests_total')).to.equal(3);
  });

  it('leaves out a latency histogram Prometheus would reject', async () => {
    const broken = sample('node-a', 'RX1', 5, { latency: { bounds: BOUNDS, cumulativeCounts: [...BOUNDS.map(() => 3).slice(1), 1], sum: 1, count: 5 } });
    const metrics = new MeshMetrics(
      sources(async () => [broken, sample('node-a', 'RYJ', 2)]),
      { processMetrics: false },
    );
    const families = await scrape(metrics);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_count', { domain: 'RX1' })).to.equal(0);
    expect(sumOf(families, 'fhirmesh_fhir_request_duration_seconds_count', { domain: 'RYJ' })).to.equal(2);
    expect(sumOf(families, 'fhirmesh_fhir_requests_total', { domain: 'RX1' }), 'its counters stay').to.equal(5);
  });

  it('counts gateway statements by outcome and purpose, publishes and catalog syncs', async () => {
    const metrics = new MeshMetrics(
      sources(async () => []),
      { processMetrics: false },
    );
    metrics.queryEnded('finished', 'research', 250);
    metrics.queryEnded('finished', 'research', 4000);
    metrics.queryEnded('refused', undefined, 3);
    metrics.queryEnded('failed', 'planning', 700);
    metrics.publishRun('created');
    metrics.publishRun('refused');
    metrics.publishRun('refused');
    await metrics.catalogSync('reconcile', async () => ({ problems: [] }));
    await metrics.catalogSync('publish demo-cohort 2.0.0', async () => ({ problems: ['table x: source domain ZZ9 has no active endpoint'] }));
    const failed = await metrics.catalogSync('endpoint http://x', async () => Promise.reject(new Error('Trino down'))).catch((e: Error) => e.message);
    expect(failed).to.equal('Trino down');

    const families = await scrape(metrics);
    expect(sumOf(families, 'fhirmesh_gateway_queries_total', { outcome: 'finished', purpose: 'research' })).to.equal(2);
    expect(sumOf(families, 'fhirmesh_gateway_queries_total', { outcome: 'refused', purpose: 'none' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_gateway_queries_total', { outcome: 'failed', purpose: 'planning' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_gateway_query_duration_seconds_count', { outcome: 'finished' })).to.equal(2);
    expect(sumOf(families, 'fhirmesh_gateway_query_duration_seconds_sum', { outcome: 'finished' })).to.be.closeTo(4.25, 1e-9);
    expect(sumOf(families, 'fhirmesh_gateway_query_duration_seconds_bucket', { outcome: 'finished', le: '0.25' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_publish_runs_total', { outcome: 'created' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_publish_runs_total', { outcome: 'refused' })).to.equal(2);
    expect(sumOf(families, 'fhirmesh_catalog_sync_runs_total', { trigger: 'reconcile', outcome: 'ok' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_catalog_sync_runs_total', { trigger: 'publish', outcome: 'problems' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_catalog_sync_runs_total', { trigger: 'registry', outcome: 'failed' })).to.equal(1);
    expect(sumOf(families, 'fhirmesh_catalog_sync_duration_seconds_count')).to.equal(3);
  });

  it('reads privacy budgets and endpoint health at scrape time', async () => {
    const families = await scrape(
      new MeshMetrics(
        sources(async () => []),
        { processMetrics: false },
      ),
    );
    expect(sumOf(families, 'fhirmesh_privacy_epsilon_spent', { consumer: 'carol', project: 'demo-cohort', period_start: '2026-12-01T00:00:00.000Z' })).to.equal(
      0.75,
    );
    expect(sumOf(families, 'fhirmesh_privacy_epsilon_spent', { project: '(all projects)' })).to.equal(1.25);
    expect(sumOf(families, 'fhirmesh_endpoint_up', { domain: 'RX1', endpoint: 'http://127.0.0.1:8190/fhir/rx1' })).to.equal(1);
    expect(families.get('fhirmesh_endpoint_up')!.samples.find((s) => s.labels.domain === 'ZZ9')?.value).to.equal(0);
  });

  it('includes the process metrics and writes the Prometheus content type', async () => {
    const metrics = new MeshMetrics(sources(async () => []));
    const families = await scrape(metrics);
    expect(families.has('process_cpu_seconds_total')).to.equal(true);
    expect(families.has('nodejs_heap_size_used_bytes')).to.equal(true);
    expect(metrics.contentType).to.match(/^text\/plain; version=0\.0\.4/);
  });

  it('maps sync reasons to a few triggers', () => {
    expect(catalogSyncTrigger('start-up')).to.equal('start-up');
    expect(catalogSyncTrigger('reconcile')).to.equal('reconcile');
    expect(catalogSyncTrigger('requested by ops')).to.equal('ops-request');
    expect(catalogSyncTrigger('publish demo-cohort 1.2.0')).to.equal('publish');
    expect(catalogSyncTrigger('demo-cohort 1.2.0 deprecated')).to.equal('lifecycle');
    expect(catalogSyncTrigger('domain RX1')).to.equal('registry');
    expect(catalogSyncTrigger('endpoint http://127.0.0.1:8190/fhir/rx1')).to.equal('registry');
    expect(catalogSyncTrigger('something new')).to.equal('other');
  });
});
