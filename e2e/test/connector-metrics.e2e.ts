// The connector's per-domain request metrics against the FHIR servers' own record of what they were sent: a cohort
// query run directly on Trino moves `requests` of every domain (summed over catalogs and Trino nodes, as
// scrapeConnector reads them) by exactly the access-log lines the connector (User-Agent fhir-mesh-trino/...) caused
// at that domain meanwhile; the control plane's health checks (another User-Agent) are not counted. And every one
// of the query's requests carries its trace: a direct query's trace id is the first 32 hex of SHA-256(query id).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { TrinoAdmin, TrinoUnavailableError } from '../../control-plane/src/catalogs/trino-admin';
import { type ConnectorDomainSample, scrapeConnector } from '../../control-plane/src/metrics/connector-scrape';
import { httpsGet } from '../runtime/processes';
import { MESH_CA_CERT, SECRETS } from '../runtime/secrets';
import { meshDomains, paths, trinoUrl } from '../runtime/topology';
import { basicAuthHeader, meshCa } from '../runtime/trino-clients';
import { TRINO_USERS } from '../runtime/trino-security';
import { type AccessLine, fromConnector, linesSince, logLength } from './connector/access-log';
import { TrinoEngine } from './connector/engines';

/** Patients with diabetes per trust: reads patients and (pushed-down) conditions at every domain, with counts first. */
const COHORT_SQL = `SELECT p.domain, count(DISTINCT p.id) AS patients
FROM fhir.default.patient AS p JOIN fhir.default.condition AS c ON c.patient_id = p.id
WHERE c.code = '44054006'
GROUP BY p.domain ORDER BY p.domain`;

function controlPlaneTrino(url = trinoUrl()): TrinoAdmin {
  return new TrinoAdmin({ trinoUrl: url, trinoUser: TRINO_USERS.controlPlane, trinoPasswordFile: SECRETS.controlPlaneTrino, trinoCaFile: MESH_CA_CERT });
}

/** The `fhir` catalog's properties as the control plane stored them (Java properties: `\:` and `\=` escaped). */
function fhirCatalogProperties(): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(paths.trinoHome, 'catalog', 'fhir.properties'), 'utf8').split('\n')) {
    const m = /^((?:[^=\\#]|\\.)+)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) properties[m[1].replace(/\\(.)/g, '$1')] = m[2].replace(/\\(.)/g, '$1');
  }
  return properties;
}

/** The catalogs whose DomainRequests MBeans the coordinator's own /metrics (OpenMetrics) shows now. */
async function catalogsInTrinoMetrics(): Promise<Set<string>> {
  const response = await httpsGet(`${trinoUrl()}/metrics`, {
    ca: meshCa(),
    headers: { authorization: basicAuthHeader(TRINO_USERS.controlPlane) },
    timeoutMs: 30_000,
  });
  expect(response.status, 'GET /metrics on the coordinator').to.equal(200);
  return new Set([...response.body.matchAll(/^JMX_uk_nhs_fhirmesh_NAME_(\w+)_[A-Z0-9]+_TYPE_DomainRequests_ATTRIBUTE_Requests /gm)].map((m) => m[1] ?? ''));
}

/** Requests per ODS code, over every catalog and node. */
function requestsByDomain(samples: ConnectorDomainSample[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const s of samples) totals.set(s.domain, (totals.get(s.domain) ?? 0) + s.requests);
  return totals;
}

/** Runs `action`, then waits until the requests it caused have been logged (the valve writes a line once its response is done). */
async function quiet<T>(action: () => Promise<T>): Promise<T> {
  const result = await action();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return result;
}

describe('connector request metrics (Trino -> JMX -> scrapeConnector) against the FHIR access log', function () {
  this.timeout(300_000);
  const trino = new TrinoEngine();
  const admin = controlPlaneTrino();

  before(async function () {
    if (!(await trino.serving())) this.skip();
  });

  it('moves each domain by exactly the requests the connector sent it, every one in the query trace', async () => {
    // Exact only in a quiet window: a request another client's query (or a background load) has in flight when the
    // metrics are read is counted at once but logged when it ends. Such a window shows as a connector line of another
    // trace, or one appearing after the second reading; it is measured again, at most three times.
    let measured: { before: ConnectorDomainSample[]; after: ConnectorDomainSample[]; lines: AccessLine[]; traceId: string; rows: unknown[][] } | undefined;
    const noisy: string[] = [];
    for (let attempt = 1; attempt <= 3 && !measured; attempt++) {
      const before = await quiet(() => scrapeConnector(admin));
      const offset = logLength();
      const { queryId, rows } = await quiet(() => trino.query(COHORT_SQL));
      const lines: AccessLine[] = linesSince(offset);
      const after = await scrapeConnector(admin);
      const traceId = createHash('sha256')
        .update(queryId ?? '')
        .digest('hex')
        .slice(0, 32);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const later = linesSince(offset).filter(fromConnector);
      expect(
        later.filter((l) => l.traceparent === undefined).map((l) => l.raw),
        'connector requests without a traceparent',
      ).to.deep.equal([]);
      const foreign = later.filter((l) => l.traceId !== traceId).length;
      if (foreign === 0 && later.length === lines.filter(fromConnector).length) measured = { before, after, lines, traceId, rows };
      else noisy.push(`${foreign} connector requests of other traces, ${later.length - lines.filter(fromConnector).length} logged after the metrics were read`);
    }
    if (!measured) throw new Error(`the mesh was never quiet for one query in 3 tries: ${noisy.join('; ')}`);
    const { before, after, lines, traceId, rows } = measured;

    expect(rows.length, 'the cohort has patients').to.be.greaterThan(0);
    const connectorLines = lines.filter(fromConnector);
    const moved = requestsByDomain(after);
    const was = requestsByDomain(before);
    for (const domain of meshDomains()) {
      const logged = connectorLines.filter((l) => l.domain === domain.id);
      const delta = (moved.get(domain.odsCode) ?? 0) - (was.get(domain.odsCode) ?? 0);
      expect(delta, `${domain.odsCode}: requests moved by the access-log lines of ${domain.id} from fhir-mesh-trino`).to.equal(logged.length);
      expect(logged.length, `${domain.odsCode}: the query's own requests`).to.be.greaterThan(0);
    }
    for (const line of connectorLines) expect(line.traceparent, line.raw).to.match(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(new Set(connectorLines.map((l) => l.traceparent)).size, 'a fresh span id per request').to.equal(connectorLines.length);
    expect(
      connectorLines.some((l) => l.params.some(([name]) => name === '_summary')),
      'counts',
    ).to.equal(true);

    for (const sample of after) {
      expect(sample.latency.count, `${sample.catalog}/${sample.node}/${sample.domain}: every finished request is in the histogram`).to.be.at.most(
        sample.requests,
      );
      expect(sample.latency.cumulativeCounts.at(-1)).to.be.at.most(sample.latency.count);
    }
  });

  it('keeps the metrics of a catalog replaced under the same name, and leaves none behind once it is dropped', async () => {
    // As a catalog sync replaces a catalog: DROP and CREATE with other properties. Trino builds the new connector (in a
    // class loader of its own) before it shuts the old one down; the old one must not take the new one's MBeans along.
    const probe = 'metrics_probe';
    const properties = fhirCatalogProperties();
    try {
      await admin.replaceCatalog(probe, properties);
      await admin.query(`SELECT count(*) FROM ${probe}.default.patient`);
      await admin.replaceCatalog(probe, { ...properties, 'fhir.page-size': '499' });
      await new Promise((resolve) => setTimeout(resolve, 20_000)); // Trino shuts dropped connectors down in the background
      const samples = (await scrapeConnector(admin)).filter((s) => s.catalog === probe);
      const domains = (properties['fhir.domains'] ?? '').split(',').map((d) => d.trim());
      expect([...new Set(samples.map((s) => s.domain))].sort(), 'every domain of the replacement').to.deep.equal([...domains].sort());
      expect(
        samples.every((s) => s.requests === 0),
        'the replacement counts its own requests',
      ).to.equal(true);
      expect(await catalogsInTrinoMetrics()).to.include(probe);
    } finally {
      await admin.dropCatalog(probe);
    }
    const deadline = Date.now() + 120_000;
    while ((await catalogsInTrinoMetrics()).has(probe) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await catalogsInTrinoMetrics(), 'no MBean of a dropped catalog left behind').not.to.include(probe);
  });

  it('says Trino cannot be reached when it cannot', async () => {
    const error = await scrapeConnector(controlPlaneTrino('https://127.0.0.1:1')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TrinoUnavailableError);
    expect((error as Error).message).to.match(/^connector metrics: Trino at https:\/\/127\.0\.0\.1:1 is not reachable/);
  });
});
