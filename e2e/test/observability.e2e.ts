// Observability of the running mesh, checked against what the FHIR servers themselves saw (HAPI's access log):
// the control plane's /metrics moves the connector's per-domain request counters by exactly the requests a
// cohort query sent, and one trace id per analyst statement, from the gateway through Trino, is on every FHIR
// request that statement caused. Other clients may use the shared mesh meanwhile: a measurement that caught a
// request of theirs (another trace id in the log, another gateway statement) is taken again.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { type Family, parsePrometheusText, sumOf } from '../../control-plane/test/prometheus-text';
import { opsToken } from '../runtime/control-plane';
import { api, demoAnalystToken } from '../runtime/demo-registry';
import { type GatewayRequest, type GatewayResult, gatewayQuery } from '../runtime/gateway-client';
import { controlPlaneUrl, meshDomains } from '../runtime/topology';
import { type AccessLine, fromConnector, linesSince, logLength } from './connector/access-log';

/** The catalog the gateway serves (control plane config catalogName). */
const CATALOG = 'fhir';
/** Patients with diabetes per trust: reads patients and (pushed-down) conditions at every domain. */
const COHORT_SQL = `SELECT p.domain, count(DISTINCT p.id) AS patients
FROM fhir.default.patient AS p JOIN fhir.default.condition AS c ON c.patient_id = p.id
WHERE c.code = '44054006'
GROUP BY p.domain ORDER BY p.domain`;
const AS_ALICE: GatewayRequest = { catalog: CATALOG, schema: 'default' };
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

interface Snapshot {
  families: Map<string, Family>;
  /** Length of the access log when the counters were read. */
  offset: number;
}

interface AuditEntry {
  action: string;
  after: { traceId?: string; trino?: { cpuMs: number; processedRows: number; processedBytes: number; peakMemoryBytes: number } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scrape(token: string | undefined): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`${controlPlaneUrl()}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

async function metrics(): Promise<Map<string, Family>> {
  const response = await scrape(opsToken());
  expect(response.status, response.text.slice(0, 300)).to.equal(200);
  const families = parsePrometheusText(response.text);
  expect(sumOf(families, 'fhirmesh_trino_scrape_up'), "the connector's metrics could be read from Trino").to.equal(1);
  return families;
}

/** Requests the connector sent per domain (ODS code) for the gateway's catalog, summed over Trino nodes. */
function requestsPerDomain(families: Map<string, Family>): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of families.get('fhirmesh_fhir_requests_total')?.samples ?? []) {
    if (s.labels.catalog === CATALOG) out.set(s.labels.domain!, (out.get(s.labels.domain!) ?? 0) + s.value);
  }
  return out;
}

const gatewayStatements = (families: Map<string, Family>, labels: Record<string, string> = {}): number =>
  sumOf(families, 'fhirmesh_gateway_queries_total', labels);

/** Counters and log at rest: nothing in flight that would land between reading one and the other. */
async function atRest(): Promise<Snapshot> {
  const deadline = Date.now() + 60_000;
  let previous: Snapshot = { families: await metrics(), offset: logLength() };
  for (;;) {
    await sleep(1_500);
    const now: Snapshot = { families: await metrics(), offset: logLength() };
    const same =
      now.offset === previous.offset && JSON.stringify([...requestsPerDomain(now.families)]) === JSON.stringify([...requestsPerDomain(previous.families)]);
    if (same || Date.now() > deadline) return now;
    previous = now;
  }
}

/** The trace id the gateway answered the first POST with. */
function traceOf(result: GatewayResult): string {
  const header = result.responseHeaders[0]?.traceparent;
  const match = typeof header === 'string' ? TRACEPARENT.exec(header) : null;
  if (!match) throw new Error(`the gateway's first answer has no valid traceparent header: ${String(header)}`);
  return match[1]!;
}

async function auditOf(queryId: string): Promise<AuditEntry[]> {
  const listed = await api('GET', `/audit?entity=query&entityId=${encodeURIComponent(queryId)}&limit=10`);
  expect(listed.status).to.equal(200);
  return listed.body as AuditEntry[];
}

/**
 * Runs `statements` between two readings at rest, until a run is not disturbed by other clients: every
 * connector request in the interval carries a trace id of these statements, and the gateway counted exactly
 * `statementCount` statements.
 */
async function measured(
  statementCount: number,
  statements: () => Promise<GatewayResult[]>,
): Promise<{ results: GatewayResult[]; traces: string[]; before: Snapshot; after: Snapshot; lines: AccessLine[] }> {
  const disturbances: string[] = [];
  for (let attempt = 1; attempt <= 4; attempt++) {
    const before = await atRest();
    const results = await statements();
    for (const r of results) expect(r.error ?? r.httpText, JSON.stringify(r.error ?? r.httpText)).to.equal(undefined);
    const after = await atRest();
    const traces = results.map(traceOf);
    const lines = linesSince(before.offset, after.offset).filter(fromConnector);
    const foreign = lines.filter((l) => !traces.includes(l.traceId ?? ''));
    const counted = gatewayStatements(after.families) - gatewayStatements(before.families);
    if (foreign.length === 0 && counted === statementCount) return { results, traces, before, after, lines };
    const others = [...new Set(foreign.map((l) => l.traceId ?? '(none)'))].slice(0, 5).join(', ');
    disturbances.push(`attempt ${attempt}: ${foreign.length} connector requests under other trace ids (${others}), ${counted} gateway statements counted`);
  }
  // Persistent foreign ids on every attempt also mean the statements' own ids never reached the FHIR requests.
  throw new Error(`no undisturbed measurement; expected only the statements' trace ids on connector requests: ${disturbances.join('; ')}`);
}

describe('observability: /metrics and trace ids against the FHIR access log', function () {
  this.timeout(600_000);

  it('answers /metrics to ops only, in the Prometheus text format', async () => {
    const anonymous = await scrape(undefined);
    expect(anonymous.status).to.equal(401);
    expect(JSON.parse(anonymous.text).message).to.match(/missing bearer token/);
    const analyst = await scrape(demoAnalystToken());
    expect(analyst.status).to.equal(403);
    expect(JSON.parse(analyst.text).message).to.match(/requires role ops/);
    const ops = await scrape(opsToken());
    expect(ops.status).to.equal(200);
    expect(ops.contentType).to.match(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(ops.text);
    for (const name of [
      'fhirmesh_fhir_requests_total',
      'fhirmesh_fhir_request_failures_total',
      'fhirmesh_fhir_response_bytes_total',
      'fhirmesh_fhir_retries_total',
      'fhirmesh_fhir_request_duration_seconds',
      'fhirmesh_fhir_circuit_state',
      'fhirmesh_gateway_queries_total',
      'fhirmesh_gateway_query_duration_seconds',
      'fhirmesh_privacy_epsilon_spent',
      'fhirmesh_privacy_epsilon_budget',
      'fhirmesh_publish_runs_total',
      'fhirmesh_catalog_sync_runs_total',
      'fhirmesh_catalog_sync_duration_seconds',
      'fhirmesh_endpoint_up',
      'process_cpu_seconds_total',
    ]) {
      expect(families.has(name), name).to.equal(true);
    }
    // Every domain of the mesh has a circuit per Trino node, in exactly one state.
    for (const d of meshDomains()) {
      const states = families.get('fhirmesh_fhir_circuit_state')!.samples.filter((s) => s.labels.catalog === CATALOG && s.labels.domain === d.odsCode);
      const nodes = new Set(states.map((s) => s.labels.node));
      expect(nodes.size, `circuits of ${d.odsCode}`).to.be.at.least(1);
      expect(states.reduce((n, s) => n + s.value, 0)).to.equal(nodes.size);
    }
  });

  it("moves each domain's request counter by exactly the FHIR requests of a cohort query, and the gateway's by one statement", async () => {
    const { results, traces, before, after, lines } = await measured(1, async () => [await gatewayQuery(COHORT_SQL, AS_ALICE)]);
    expect(
      results[0]!.rows.map((r) => r[0]),
      'patients in every trust',
    ).to.include.members(meshDomains().map((d) => d.odsCode));
    const counted = requestsPerDomain(after.families);
    const earlier = requestsPerDomain(before.families);
    const perDomain: Record<string, { counted: number; logged: number }> = {};
    for (const d of meshDomains()) {
      perDomain[d.odsCode] = { counted: (counted.get(d.odsCode) ?? 0) - (earlier.get(d.odsCode) ?? 0), logged: lines.filter((l) => l.domain === d.id).length };
    }
    console.log(`      requests per domain (counter delta / access-log lines): ${JSON.stringify(perDomain)}`);
    for (const [domain, { counted: delta, logged }] of Object.entries(perDomain)) {
      expect(delta, `${domain}: counter delta vs access-log lines`).to.equal(logged);
      expect(logged, `${domain}: the query read it`).to.be.above(0);
    }
    expect(lines.every((l) => l.traceId === traces[0])).to.equal(true);
    expect(
      gatewayStatements(after.families, { outcome: 'finished', purpose: 'research' }) -
        gatewayStatements(before.families, { outcome: 'finished', purpose: 'research' }),
    ).to.equal(1);
    const durations = (f: Map<string, Family>) => sumOf(f, 'fhirmesh_gateway_query_duration_seconds_count', { outcome: 'finished' });
    expect(durations(after.families) - durations(before.families)).to.equal(1);

    // What the statement cost Trino is in its end record.
    const audit = await auditOf(results[0]!.queryId!);
    expect(audit.find((e) => e.action === 'query.started')?.after.traceId).to.equal(traces[0]);
    const cost = audit.find((e) => e.action === 'query.finished')?.after.trino;
    expect(cost, JSON.stringify(audit.map((e) => e.action))).to.not.equal(undefined);
    expect(cost!.processedRows).to.be.above(0);
    expect(cost!.processedBytes).to.be.at.least(0);
    expect(cost!.peakMemoryBytes).to.be.above(0);
    expect(cost!.cpuMs).to.be.at.least(0);
  });

  it("puts one trace id per statement on every FHIR request it caused, keeping a caller's traceparent", async () => {
    const callerTrace = randomBytes(16).toString('hex');
    const callerParent = `00-${callerTrace}-${randomBytes(8).toString('hex')}-01`;
    const { results, traces, lines } = await measured(2, () =>
      Promise.all([gatewayQuery(COHORT_SQL, AS_ALICE), gatewayQuery(COHORT_SQL, { ...AS_ALICE, headers: { traceparent: callerParent } })]),
    );
    const [own, callers] = traces as [string, string];
    expect(callers, "the caller's trace id is kept").to.equal(callerTrace);
    expect(own, 'each statement has its own').to.not.equal(callers);
    expect(results[1]!.responseHeaders[0]!.traceparent, 'the gateway answers with its own span').to.not.equal(callerParent);
    for (const [i, result] of results.entries()) {
      const started = (await auditOf(result.queryId!)).find((e) => e.action === 'query.started');
      expect(started?.after.traceId, `audit of statement ${i + 1}`).to.equal(traces[i]);
    }
    for (const trace of traces) {
      const reached = new Set(lines.filter((l) => l.traceId === trace).map((l) => l.domain));
      expect([...reached], `domains reached under ${trace}`).to.include.members(meshDomains().map((d) => d.id));
    }
    // W3C: a fresh span id per request, in a well-formed traceparent.
    const spans = lines.map((l) => TRACEPARENT.exec(l.traceparent ?? '')?.[2]);
    expect(
      spans.every((s) => s !== undefined),
      'well-formed traceparent on every request',
    ).to.equal(true);
    expect(new Set(spans).size, 'a span per request').to.equal(lines.length);
  });

  it('carries the trace id through statements the gateway runs itself (partial results), with their cost', async () => {
    const partial: GatewayRequest = { ...AS_ALICE, headers: { 'x-trino-extra-credential': 'purpose=research, project=demo-cohort, on_failure=partial' } };
    const { results, traces, lines } = await measured(1, async () => [await gatewayQuery(COHORT_SQL, partial)]);
    expect(results[0]!.rows.map((r) => r[0])).to.include.members(meshDomains().map((d) => d.odsCode));
    expect([...new Set(lines.map((l) => l.domain))]).to.include.members(meshDomains().map((d) => d.id));
    expect(lines.every((l) => l.traceId === traces[0])).to.equal(true);
    const audit = await auditOf(results[0]!.queryId!);
    expect(audit.find((e) => e.action === 'query.started')?.after.traceId).to.equal(traces[0]);
    expect(audit.find((e) => e.action === 'query.finished')?.after.trino?.processedRows).to.be.above(0);
  });
});
