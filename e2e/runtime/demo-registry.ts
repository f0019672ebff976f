// Registers the demo mesh through the control plane's own admin API, as an operator would: NHS England
// as a national domain, the three synthetic trusts with their HAPI endpoints, and the UK Core data
// products of sql-mappings/ published by NHS England over the trusts. Idempotent: what exists is kept.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { opsToken } from './control-plane';
import { say } from './processes';
import { readSecret, SECRETS, writeSecret } from './secrets';
import { controlPlaneUrl, fhirBaseUrl, meshDomains, ROOT } from './topology';

export const NATIONAL = { odsCode: 'X26', name: 'NHS England', kind: 'national', region: 'England', ownerContact: 'fhir-mesh@england.example.nhs.uk' };
const DEMO_VERSION = '1.0.0';

// biome-ignore lint/suspicious/noExplicitAny: the admin API's JSON answers, read by callers field by field
export async function api(method: string, route: string, body?: unknown, token = opsToken()): Promise<{ status: number; body: any }> {
  const response = await fetch(`${controlPlaneUrl()}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(300_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

// biome-ignore lint/suspicious/noExplicitAny: as api()
async function ensure(what: string, get: string, create: () => Promise<{ status: number; body: any }>): Promise<void> {
  if ((await api('GET', get)).status === 200) return;
  const created = await create();
  if (created.status >= 300) throw new Error(`registering ${what}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
}

export function demoPublications(): Record<string, unknown>[] {
  const dir = path.join(ROOT, 'sql-mappings');
  const { tags } = JSON.parse(fs.readFileSync(path.join(ROOT, 'control-plane', 'demo', 'privacy-tags.json'), 'utf8')) as {
    tags: Record<string, Record<string, string>>;
  };
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const mapping = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { table: string; description?: string; view: { name: string } };
      return {
        name: mapping.table,
        domain: NATIONAL.odsCode,
        version: DEMO_VERSION,
        description: mapping.description ?? '',
        sources: meshDomains().map((d) => d.odsCode),
        sla: { freshnessHours: 24, availabilityPercent: 99 },
        views: [mapping.view],
        privacy: { [mapping.view.name]: tags[mapping.table] ?? {} },
      };
    });
}

export async function registerDemo(): Promise<void> {
  const started = Date.now();
  await ensure(`domain ${NATIONAL.odsCode}`, `/domains/${NATIONAL.odsCode}`, () => api('POST', '/domains', NATIONAL));
  const endpoints = (await api('GET', '/endpoints')).body as { id: string; baseUrl: string; authSecretRef: string | null }[];
  for (const d of meshDomains()) {
    await ensure(`domain ${d.odsCode}`, `/domains/${d.odsCode}`, () =>
      api('POST', '/domains', {
        odsCode: d.odsCode,
        name: d.name,
        kind: d.kind,
        region: d.region,
        ownerContact: `data-protection@${d.id}.example.nhs.uk`,
      }),
    );
    // The trust's reader token, by reference: the connector reads the file, the registry never sees the value.
    const authSecretRef = `file:${SECRETS.fhirReaderToken(d.id)}`;
    const existing = endpoints.find((e) => e.baseUrl === fhirBaseUrl(d));
    const registered =
      existing === undefined
        ? await api('POST', '/endpoints', { domain: d.odsCode, baseUrl: fhirBaseUrl(d), authSecretRef })
        : existing.authSecretRef === authSecretRef
          ? undefined
          : await api('PATCH', `/endpoints/${existing.id}`, { authSecretRef });
    if (registered && registered.status >= 300)
      throw new Error(`registering the endpoint of ${d.odsCode}: HTTP ${registered.status} ${JSON.stringify(registered.body)}`);
  }
  let published = 0;
  for (const publication of demoPublications()) {
    const result = await api('POST', '/data-products', { ...publication, version: await demoVersionFor(publication) });
    if (result.status >= 300) throw new Error(`publishing demo product ${String(publication.name)}: HTTP ${result.status} ${JSON.stringify(result.body)}`);
    if (result.status === 201) published++;
  }
  await ensureDemoAnalyst();
  say('control-plane', `demo registry ready (${published} data products published now) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The version to publish a demo product as: the newest already published when it reads the same domains (a
 * no-op, as before), else the next patch, since a mesh started with another --domains reads other sources and
 * a published version never changes.
 */
async function demoVersionFor(publication: Record<string, unknown>): Promise<string> {
  const found = await api('GET', `/data-products/${String(publication.name)}`);
  if (found.status === 404) return String(publication.version);
  if (found.status !== 200) throw new Error(`reading demo product ${String(publication.name)}: HTTP ${found.status} ${JSON.stringify(found.body)}`);
  const versions = (found.body.versions as { version: string; sources: string[] }[]).filter((v) => v.version.split('.')[0] === DEMO_VERSION.split('.')[0]);
  const newest = versions.at(-1); // the API lists versions oldest first
  if (!newest) return String(publication.version);
  const sameSources = [...newest.sources].sort().join(',') === [...(publication.sources as string[])].sort().join(',');
  if (sameSources) return newest.version;
  const [major, minor, patch] = newest.version.split('.').map(Number) as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}

/** The README's analyst: queries through the gateway for research or planning in one project. */
export const DEMO_ANALYST = { name: 'alice', purposes: ['research', 'planning'], project: 'demo-cohort' } as const;

/** The demo analyst's API token: her password at the gateway (the registry keeps only its hash). */
export function demoAnalystToken(): string {
  return readSecret(SECRETS.gatewayToken(DEMO_ANALYST.name));
}

/**
 * The README's aggregate-only analyst (a stroke audit dashboard): differentially private answers only, ε ≤ 1 per
 * query from a monthly budget of 10 (issue 13).
 */
export const DEMO_DP_ANALYST = { name: 'dana', purposes: ['research'], project: 'stroke-audit' } as const;

/** A demo analyst's API token: their password at the gateway (the registry keeps only its hash). */
export function demoToken(name: string): string {
  return readSecret(SECRETS.gatewayToken(name));
}

async function ensureDemoAnalyst(): Promise<void> {
  await ensureDemoConsumer(DEMO_ANALYST.name, {
    roles: ['analyst'],
    allowedPurposes: [...DEMO_ANALYST.purposes],
    policies: { projects: [DEMO_ANALYST.project] },
  });
  await ensureDemoConsumer(DEMO_DP_ANALYST.name, {
    roles: ['researcher'],
    allowedPurposes: [...DEMO_DP_ANALYST.purposes],
    policies: { projects: [DEMO_DP_ANALYST.project], disclosure: { mode: 'differential-privacy' } },
    budget: { epsilon: 10, period: 'month' },
  });
}

async function ensureDemoConsumer(name: string, body: Record<string, unknown>): Promise<void> {
  await ensure(`consumer ${name}`, `/consumers/${name}`, () => api('POST', '/consumers', { name, kind: 'user', ...body }));
  // A token file left from an earlier registry (a rebuilt database) no longer works: issue a new one.
  if (fs.existsSync(SECRETS.gatewayToken(name)) && (await api('GET', '/me', undefined, demoToken(name))).status === 200) return;
  const issued = await api('POST', `/consumers/${name}/token`);
  if (issued.status >= 300) throw new Error(`issuing ${name}'s token: HTTP ${issued.status} ${JSON.stringify(issued.body)}`);
  writeSecret(SECRETS.gatewayToken(name), String(issued.body.token));
}
