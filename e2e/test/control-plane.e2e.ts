// The control plane over the real mesh: onboarding a domain and publishing a data product through the
// admin API makes a Trino table without restarting Trino; versions serve side by side; breaking changes,
// bad input and other domains' owners are refused with nothing half-written; the registry survives
// restarts of the control plane and of PostgreSQL; the audit log is append-only and chained.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES } from '../../control-plane/src/database/data-source';
import { applyRetention } from '../../control-plane/src/scheduler/jobs';
import { ControlPlane, OPS_TOKEN_FILE, opsToken } from '../runtime/control-plane';
import { api } from '../runtime/demo-registry';
import { loaderAuthorization } from '../runtime/load';
import { connectionString, Postgres } from '../runtime/postgres';
import { readPid, runCaptured } from '../runtime/processes';
import { readSecret, SECRETS } from '../runtime/secrets';
import { controlPlaneUrl, MESH_HOME, ONBOARDING_TENANT, postgres, tenantBaseUrl } from '../runtime/topology';
import { closedPort } from './closed-port';
import { TrinoEngine } from './connector/engines';

const trino = new TrinoEngine();
const DOMAIN = 'GPF01';
const OTHER = 'GPF02';
const ONBOARDING = tenantBaseUrl(ONBOARDING_TENANT);
const GENERATED = path.join(MESH_HOME, 'generated');
/** The new domain's bearer token, in a file the connector reads (HAPI here accepts any token). */
/** The onboarding tenant's reader token, in the folder the connector takes token files from. */
const TOKEN_FILE = SECRETS.fhirReaderToken(ONBOARDING_TENANT);
const TOKEN_VALUE = readSecret(TOKEN_FILE);
const TEST_CONSUMERS = ['e2e-analyst', 'gpf01-owner', 'gpf02-owner'];

/**
 * Removes what an earlier run of this suite registered, so `npm test` can run again on the same mesh.
 * Direct SQL: the API deliberately has no way to delete published data products. Audit entries stay.
 */
async function removeEarlierRuns(): Promise<void> {
  const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
  await client.connect();
  try {
    await client.query('begin');
    const domains = "(select id from domains where ods_code in ('GPF01', 'GPF02'))";
    await client.query(`delete from data_products where domain_id in ${domains}`);
    await client.query(`delete from consumers where name = any($1)`, [TEST_CONSUMERS]);
    await client.query(`delete from endpoints where domain_id in ${domains}`);
    await client.query(`delete from domains where ods_code in ('GPF01', 'GPF02')`);
    await client.query('commit');
  } finally {
    await client.end();
  }
  await api('POST', '/catalogs/reconcile');
}

/** A few encounters at the onboarding server: what the new domain brings to the mesh. */
const ENCOUNTERS = [
  { id: 'gpf-enc-1', class: 'AMB', start: '2024-03-01T09:00:00Z', status: 'finished' },
  { id: 'gpf-enc-2', class: 'AMB', start: '2024-03-02T10:30:00Z', status: 'finished' },
  { id: 'gpf-enc-3', class: 'VR', start: '2024-03-03T11:15:00Z', status: 'in-progress' },
];

async function loadOnboardingServer(): Promise<void> {
  const entry = [
    { resource: { resourceType: 'Patient', id: 'gpf-pat-1', gender: 'female' }, request: { method: 'PUT', url: 'Patient/gpf-pat-1' } },
    ...ENCOUNTERS.map((e) => ({
      resource: {
        resourceType: 'Encounter',
        id: e.id,
        status: e.status,
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: e.class },
        subject: { reference: 'Patient/gpf-pat-1' },
        period: { start: e.start },
      },
      request: { method: 'PUT', url: `Encounter/${e.id}` },
    })),
  ];
  const response = await fetch(ONBOARDING, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...loaderAuthorization() },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }),
  });
  expect(response.status, await response.clone().text()).to.equal(200);
}

function encountersView(name: string, extra: { name: string; path: string; type: string }[] = []): Record<string, unknown> {
  return {
    resourceType: 'ViewDefinition',
    url: `https://gpf01.example.nhs.uk/ViewDefinition/${name}`,
    name,
    status: 'active',
    fhirVersion: ['4.0.1'],
    resource: 'Encounter',
    select: [
      {
        column: [
          { name: 'id', path: 'getResourceKey()', type: 'id' },
          { name: 'patient_id', path: 'subject.getReferenceKey(Patient)', type: 'id' },
          { name: 'class_code', path: 'class.code', type: 'code' },
          { name: 'start', path: 'period.start', type: 'dateTime' },
          ...extra,
        ],
      },
    ],
  };
}

const TAGS = { id: 'quasi-identifier', patient_id: 'direct-identifier', class_code: 'none', start: 'quasi-identifier', status: 'none' };

function publication(version: string, view: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const columns = (view.select as { column: { name: string }[] }[])[0]!.column.map((c) => c.name);
  return {
    name: 'gp_encounters',
    domain: DOMAIN,
    version,
    description: 'Encounters at the GP federation.',
    views: [view],
    privacy: { [String(view.name)]: Object.fromEntries(columns.map((c) => [c, TAGS[c as keyof typeof TAGS] ?? 'none'])) },
    ...overrides,
  };
}

/** Polls until the SQL answers; returns the rows and how long it took. */
async function whenServed(sql: string, timeoutMs = 30_000): Promise<{ rows: unknown[][]; ms: number }> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      return { rows: (await trino.query(sql)).rows, ms: Date.now() - started };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`not served within ${timeoutMs} ms: ${sql}: ${(last as Error).message}`);
}

async function columnsOf(table: string): Promise<string[]> {
  return (await trino.query(`DESCRIBE fhir.default.${table}`)).rows.map((r) => String(r[0]));
}

async function registry<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function snapshot(): Promise<string> {
  const [domains, endpoints, products, consumers] = await Promise.all(['/domains', '/endpoints', '/data-products', '/consumers'].map((r) => api('GET', r)));
  const strip = (rows: Record<string, unknown>[]) =>
    rows.map(({ health: _h, lastCheckedAt: _c, lastLatencyMs: _l, lastError: _e, updatedAt: _u, ...rest }) => rest);
  return JSON.stringify([domains!.body, strip(endpoints!.body), products!.body, consumers!.body]);
}

describe('control plane: registry, publishing and generation over the real mesh', function () {
  this.timeout(300_000);
  let ownerToken = '';
  let analystToken = '';
  let otherOwnerToken = '';

  before(async () => {
    await removeEarlierRuns();
    await loadOnboardingServer();
  });

  // The test domains' endpoints include a closed port: left registered, every later patient query would
  // fail closed (the connector must read each domain's opted-out patients).
  after(async () => {
    await removeEarlierRuns();
  });

  it('serves its OpenAPI document and refuses calls without a valid token or role', async () => {
    const doc = (await (await fetch(`${controlPlaneUrl()}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).to.equal('3.1.0');
    expect(Object.keys(doc.paths)).to.include.members(['/api/v1/domains', '/api/v1/data-products', '/api/v1/webhooks/publish']);
    expect(doc.components.schemas).to.have.keys(
      'domain',
      'endpoint',
      'consumer',
      'data-product',
      'lifecycle-change',
      'break-glass',
      'budget',
      'view-definition',
    );
    expect((await fetch(`${controlPlaneUrl()}/api/v1/domains`)).status).to.equal(401);
    expect((await api('GET', '/domains', undefined, 'mesh_not-a-token')).status).to.equal(401);

    const analyst = await api('POST', '/consumers', {
      name: 'e2e-analyst',
      kind: 'user',
      roles: ['analyst'],
      allowedPurposes: ['service-evaluation'],
      budget: { epsilon: 3, period: 'month' },
    });
    expect(analyst.status, JSON.stringify(analyst.body)).to.equal(201);
    analystToken = analyst.body.token;
    const refused = await api('POST', '/domains', { odsCode: 'ZZZ', name: 'x', kind: 'trust', region: 'x', ownerContact: 'a@b.nhs.uk' }, analystToken);
    expect(refused.status).to.equal(403);
    expect(refused.body.message).to.match(/requires role ops/);
    // Tokens are stored hashed: the database never holds the token itself.
    const stored = await registry<{ token_hash: string }>('select token_hash from consumers where name = $1', ['e2e-analyst']);
    expect(stored[0]!.token_hash)
      .to.match(/^[0-9a-f]{64}$/)
      .and.not.include(analystToken);
  });

  it('onboards a new domain and its data product: queryable within seconds, Trino not restarted', async () => {
    const trinoPid = readPid('trino');
    expect(
      (
        await api('POST', '/domains', {
          odsCode: DOMAIN,
          name: 'Example GP Federation',
          kind: 'gp-federation',
          region: 'Midlands',
          ownerContact: 'dpo@gpf01.example.nhs.uk',
        })
      ).status,
    ).to.equal(201);
    expect(
      (
        await api('POST', '/domains', {
          odsCode: OTHER,
          name: 'Another GP Federation',
          kind: 'gp-federation',
          region: 'London',
          ownerContact: 'dpo@gpf02.example.nhs.uk',
        })
      ).status,
    ).to.equal(201);
    const endpoint = await api('POST', '/endpoints', { domain: DOMAIN, baseUrl: ONBOARDING, authSecretRef: `file:${TOKEN_FILE}` });
    expect(endpoint.status, JSON.stringify(endpoint.body)).to.equal(201);
    const owner = await api('POST', '/consumers', { name: 'gpf01-owner', kind: 'user', roles: ['data-product-owner'], domain: DOMAIN });
    ownerToken = owner.body.token;
    otherOwnerToken = (await api('POST', '/consumers', { name: 'gpf02-owner', kind: 'user', roles: ['data-product-owner'], domain: OTHER })).body.token;

    const started = Date.now();
    const published = await api('POST', '/data-products', publication('1.0.0', encountersView('gp_encounters')), ownerToken);
    expect(published.status, JSON.stringify(published.body)).to.equal(201);
    expect(published.body.tables).to.deep.equal(['gp_encounters', 'gp_encounters_v1']);
    expect(published.body.dryRun).to.deep.equal([{ view: 'gp_encounters', rows: ENCOUNTERS.length }]);
    const served = await whenServed('SELECT id, class_code, domain FROM fhir.default.gp_encounters_v1 ORDER BY id');
    console.log(`      published and queryable in ${((Date.now() - started) / 1000).toFixed(1)} s (publish call included)`);
    expect(served.rows).to.deep.equal(ENCOUNTERS.map((e) => [e.id, e.class, DOMAIN]));
    // The binding was derived from the endpoint: class_code pushes down as a token search.
    const version = await api('GET', '/data-products/gp_encounters/versions/1.0.0');
    expect(version.body.bindings.gp_encounters.class_code).to.include({ param: 'class', type: 'token' });
    expect(readPid('trino'), 'Trino pid').to.equal(trinoPid);
    // The secret is referenced by name in the generated catalog, never by value.
    const catalog = fs.readFileSync(path.join(GENERATED, 'catalogs', 'fhir.properties'), 'utf8');
    expect(catalog).to.include(`fhir.domain.${DOMAIN}.base-url=${ONBOARDING}`).and.include(`fhir.domain.${DOMAIN}.auth.bearer-token-file=${TOKEN_FILE}`);
    for (const file of [
      path.join(GENERATED, 'catalogs', 'fhir.properties'),
      ...fs.readdirSync(path.join(GENERATED, 'sql-mappings')).map((f) => path.join(GENERATED, 'sql-mappings', f)),
    ]) {
      expect(fs.readFileSync(file, 'utf8'), file).to.not.include(TOKEN_VALUE);
    }
  });

  it('publishing v2 with an added column serves v1 and v2 side by side', async () => {
    const v2 = await api(
      'POST',
      '/data-products',
      publication('2.0.0', encountersView('gp_encounters', [{ name: 'status', path: 'status', type: 'code' }])),
      ownerToken,
    );
    expect(v2.status, JSON.stringify(v2.body)).to.equal(201);
    await whenServed('SELECT status FROM fhir.default.gp_encounters_v2');
    expect(await columnsOf('gp_encounters_v1')).to.not.include('status');
    expect(await columnsOf('gp_encounters_v2')).to.include('status');
    expect(await columnsOf('gp_encounters'), 'the plain name follows the newest major').to.include('status');
    const both = await trino.query('SELECT (SELECT count(*) FROM fhir.default.gp_encounters_v1), (SELECT count(*) FROM fhir.default.gp_encounters_v2)');
    expect(both.rows).to.deep.equal([[ENCOUNTERS.length, ENCOUNTERS.length]]);
    // Republishing identical content is a no-op; the same version with other content is a conflict.
    expect(
      (
        await api(
          'POST',
          '/data-products',
          publication('2.0.0', encountersView('gp_encounters', [{ name: 'status', path: 'status', type: 'code' }])),
          ownerToken,
        )
      ).status,
    ).to.equal(200);
    const changed = await api('POST', '/data-products', publication('2.0.0', encountersView('gp_encounters')), ownerToken);
    expect(changed.status).to.equal(409);
  });

  it('refuses a breaking change without a major version bump, naming the column', async () => {
    const removed = await api('POST', '/data-products', publication('2.1.0', encountersView('gp_encounters', [])), ownerToken);
    expect(removed.status).to.equal(409);
    expect(removed.body.message).to.include("'status'").and.include('3.0.0');
    const view = encountersView('gp_encounters', [{ name: 'status', path: 'status', type: 'code' }]);
    (view.select as { column: { name: string; type: string }[] }[])[0]!.column.find((c) => c.name === 'start')!.type = 'string';
    const retyped = await api('POST', '/data-products', publication('2.1.0', view), ownerToken);
    expect(retyped.status).to.equal(409);
    expect(retyped.body.message)
      .to.include("'start'")
      .and.match(/dateTime/);
    expect((await api('GET', '/data-products/gp_encounters')).body.versions.map((v: { version: string }) => v.version)).to.deep.equal(['1.0.0', '2.0.0']);
  });

  it('a data product owner cannot publish for another domain', async () => {
    const response = await api(
      'POST',
      '/data-products',
      publication('1.0.0', encountersView('gpf02_encounters'), { name: 'gpf02_take', domain: DOMAIN }),
      otherOwnerToken,
    );
    expect(response.status).to.equal(403);
    expect(response.body.message).to.include(OTHER).and.include(DOMAIN);
    expect((await api('GET', '/data-products/gpf02_take')).status).to.equal(404);
  });

  describe('bad input: a clear error and nothing written', () => {
    // Registry changes stay as they were; the refusal itself is audited (entity 'request').
    const counts = async () =>
      (
        await registry<{ changes: number; refusals: number }>(
          `select count(*) filter (where entity <> 'request')::int as changes, count(*) filter (where entity = 'request')::int as refusals from audit_log`,
        )
      )[0]!;
    let auditBefore = { changes: 0, refusals: 0 };
    beforeEach(async () => {
      auditBefore = await counts();
    });
    afterEach(async () => {
      const after = await counts();
      expect(after.changes, 'audit entries of registry changes').to.equal(auditBefore.changes);
      expect(after.refusals, 'audit entries of refused requests').to.be.greaterThan(auditBefore.refusals);
    });

    it('malformed ViewDefinitions name the column and the problem', async () => {
      const view = encountersView('gp_bad', [{ name: 'oops', path: 'period.start.frobnicate()', type: 'dateTime' }]);
      const response = await api('POST', '/data-products', publication('1.0.0', view, { name: 'gp_bad' }), ownerToken);
      expect(response.status).to.equal(422);
      expect(response.body.message).to.include('oops').and.include('frobnicate');
      const noName = await api('POST', '/data-products', { ...publication('1.0.0', encountersView('gp_bad'), { name: 'gp_bad' }), version: 'one' }, ownerToken);
      expect(noName.status).to.equal(400);
      expect(noName.body.message).to.include('/version');
      // Structure is checked against connector-spec/view-definition.schema.json before anything else.
      const misspelt = await api('POST', '/data-products', publication('1.0.0', { ...encountersView('gp_bad'), selct: [] }, { name: 'gp_bad' }), ownerToken);
      expect(misspelt.status).to.equal(400);
      expect(misspelt.body.message).to.include('/views/0/selct is not a known field');
    });

    it('unknown resource types are refused', async () => {
      const response = await api(
        'POST',
        '/data-products',
        publication('1.0.0', { ...encountersView('gp_bad'), resource: 'Encountre' }, { name: 'gp_bad' }),
        ownerToken,
      );
      expect(response.status).to.equal(422);
      expect(response.body.message).to.include('Encountre');
    });

    it('columns without a privacy tag are refused', async () => {
      const response = await api(
        'POST',
        '/data-products',
        { ...publication('1.0.0', encountersView('gp_bad'), { name: 'gp_bad' }), privacy: { gp_bad: { id: 'none' } } },
        ownerToken,
      );
      expect(response.status).to.equal(422);
      expect(response.body.message).to.include("'patient_id'");
    });

    it('duplicate domains and endpoints are conflicts', async () => {
      const domain = await api('POST', '/domains', { odsCode: DOMAIN, name: 'again', kind: 'trust', region: 'x', ownerContact: 'a@b.nhs.uk' });
      expect(domain.status).to.equal(409);
      expect(domain.body.message).to.include(DOMAIN);
      const endpoint = await api('POST', '/endpoints', { domain: OTHER, baseUrl: ONBOARDING });
      expect(endpoint.status).to.equal(409);
      expect(endpoint.body.message).to.include(ONBOARDING);
    });

    it('a publication failing midway (a table name another product owns) leaves nothing behind', async () => {
      const tablesBefore = await registry('select * from product_tables order by table_name');
      // gp_more is claimed first, then `condition` (the demo product's table) conflicts: the whole
      // transaction (product, version, tables, audit) rolls back.
      const views = [encountersView('gp_more'), { ...encountersView('condition') }];
      const response = await api(
        'POST',
        '/data-products',
        {
          ...publication('1.0.0', views[0]!, { name: 'gp_clash' }),
          views,
          privacy: Object.fromEntries(views.map((v) => [v.name, { id: 'none', patient_id: 'direct-identifier', class_code: 'none', start: 'none' }])),
        },
        ownerToken,
      );
      expect(response.status).to.equal(409);
      expect(response.body.message).to.include('condition');
      expect((await api('GET', '/data-products/gp_clash')).status).to.equal(404);
      expect(await registry('select * from product_tables order by table_name')).to.deep.equal(tablesBefore);
    });
  });

  it('an unreachable endpoint is refused at publication, naming the domain', async () => {
    const port = await closedPort();
    const down = `http://127.0.0.1:${port}/fhir/gpf02`;
    expect((await api('POST', '/endpoints', { domain: OTHER, baseUrl: down })).status).to.equal(201);
    const response = await api(
      'POST',
      '/data-products',
      publication('1.0.0', encountersView('gpf02_encounters'), { name: 'gpf02_encounters', domain: OTHER }),
      otherOwnerToken,
    );
    expect(response.status).to.equal(422);
    expect(response.body.message).to.include(OTHER).and.include(down);
    expect((await api('GET', '/data-products/gpf02_encounters')).status).to.equal(404);
  });

  it('the scheduler health-checks endpoints and keeps their status history', async () => {
    const endpoints = (await api('GET', '/endpoints')).body as { id: string; domain: string; baseUrl: string; health: string }[];
    const down = endpoints.find((e) => e.domain === OTHER)!;
    const up = endpoints.find((e) => e.domain === DOMAIN)!;
    const deadline = Date.now() + 75_000;
    let history: { ok: boolean; error: string | null; latencyMs: number | null }[] = [];
    while (Date.now() < deadline) {
      history = (await api('GET', `/endpoints/${down.id}/health`)).body;
      if (history.length > 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(history.length, 'health checks of the unreachable endpoint').to.be.greaterThan(0);
    expect(history[0]!.ok).to.equal(false);
    expect(history[0]!.error).to.match(/unreachable|ECONNREFUSED/);
    const upHistory = (await api('GET', `/endpoints/${up.id}/health`)).body as { ok: boolean; latencyMs: number }[];
    expect(upHistory[0]!.ok).to.equal(true);
    expect(upHistory[0]!.latencyMs).to.be.a('number');
    expect((await api('GET', `/endpoints/${down.id}`)).body.health).to.equal('down');
  });

  it('reconcile repairs drift: a dropped catalog and a deleted mapping file come back', async () => {
    const mapping = path.join(GENERATED, 'sql-mappings', 'gp_encounters_v1.json');
    const content = fs.readFileSync(mapping, 'utf8');
    await trino.query('DROP CATALOG fhir');
    fs.rmSync(mapping);
    // The scheduled reconcile may get there first; either way the outcome is the same.
    const report = await api('POST', '/catalogs/reconcile');
    expect(report.status).to.equal(201);
    expect(report.body.problems).to.deep.equal([]);
    expect(report.body.trinoTables).to.include.members(['gp_encounters_v1', 'gp_encounters_v2', 'condition']);
    expect(fs.readFileSync(mapping, 'utf8')).to.equal(content);
    expect((await whenServed('SELECT count(*) FROM fhir.default.gp_encounters_v1')).rows).to.deep.equal([[ENCOUNTERS.length]]);
    // Generation is deterministic: another run changes no file.
    const again = await api('POST', '/catalogs/reconcile');
    expect(again.body.changedFiles).to.deep.equal([]);
    expect(again.body.catalogApplied).to.equal(false);
  });

  it('a catalog the connector refuses (a token file outside its folder) leaves the serving catalog in place', async () => {
    const endpoints = (await api('GET', '/endpoints')).body as { id: string; domain: string; authSecretRef: string | null }[];
    const rx1 = endpoints.find((e) => e.domain === 'RX1')!;
    const patched = await api('PATCH', `/endpoints/${rx1.id}`, { authSecretRef: `file:${OPS_TOKEN_FILE}` });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    try {
      const report = await api('POST', '/catalogs/reconcile');
      expect(report.body.catalogApplied).to.equal(false);
      expect(report.body.problems.join(' ')).to.include('fhir.domain.RX1.auth.bearer-token-file').and.include('outside the secrets directory');
      expect(report.body.problems.join(' ')).not.to.include(fs.readFileSync(OPS_TOKEN_FILE, 'utf8').trim());
      // Still served, with the properties it had: RX1's rows are read with RX1's own token.
      const { rows } = await trino.query("SELECT count(*) FROM fhir.default.patient WHERE domain = 'RX1'");
      expect(Number(rows[0]![0])).to.be.greaterThan(0);
    } finally {
      expect((await api('PATCH', `/endpoints/${rx1.id}`, { authSecretRef: rx1.authSecretRef })).status).to.equal(200);
      const repaired = await api('POST', '/catalogs/reconcile');
      expect(repaired.body.problems).to.deep.equal([]);
    }
  });

  it('retiring a version stops serving its tables, the others keep serving', async () => {
    const retired = await api('PATCH', '/data-products/gp_encounters/versions/1.0.0', { lifecycle: 'retired' }, ownerToken);
    expect(retired.status, JSON.stringify(retired.body)).to.equal(200);
    const tables = (await trino.query("SELECT table_name FROM fhir.information_schema.tables WHERE table_name LIKE 'gp_encounters%' ORDER BY 1")).rows.flat();
    expect(tables).to.deep.equal(['gp_encounters', 'gp_encounters_v2']);
  });

  it('the audit log holds every change, refuses edits and keeps an intact hash chain', async () => {
    const entries = (await api('GET', `/audit?entity=data-product&limit=50`)).body as { action: string; entityId: string; actor: string }[];
    expect(entries.map((e) => `${e.actor} ${e.action} ${e.entityId}`)).to.include.members([
      'gpf01-owner publish (api) gp_encounters@1.0.0',
      'gpf01-owner publish (api) gp_encounters@2.0.0',
      'gpf01-owner lifecycle published -> retired gp_encounters@1.0.0',
    ]);
    let refused = '';
    try {
      await registry(`update audit_log set actor = 'someone else' where entity = 'data-product'`);
    } catch (e) {
      refused = (e as Error).message;
    }
    expect(refused).to.match(/append-only/);
    let deleteRefused = '';
    try {
      await registry(`delete from audit_log where entity = 'data-product'`);
    } catch (e) {
      deleteRefused = (e as Error).message;
    }
    expect(deleteRefused).to.match(/append-only/);
    // Only the retention job may delete, and only past the retention period: nothing here is that old.
    const db = await new DataSource({
      type: 'postgres',
      url: connectionString(postgres.registryDatabase, postgres.roles.auditRetention),
      entities: ENTITIES,
    }).initialize();
    try {
      expect(await applyRetention(db, 365)).to.deep.equal({ audit: 0, health: 0 });
    } finally {
      await db.destroy();
    }
    expect((await api('GET', '/audit/verify')).body)
      .to.deep.include({ ok: true, problems: [] })
      .and.not.have.property('brokenAt');
  });

  it('the registry survives a control-plane restart and a PostgreSQL restart with nothing lost', async () => {
    const before = await snapshot();
    const controlPlane = new ControlPlane();
    await controlPlane.stop();
    await controlPlane.start();
    expect(await snapshot()).to.equal(before);

    const pg = new Postgres();
    await pg.stop();
    await pg.start();
    // The control plane's pool reconnects on its own.
    let after = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        after = await snapshot();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    expect(after).to.equal(before);
    expect((await whenServed('SELECT count(*) FROM fhir.default.gp_encounters_v2')).rows).to.deep.equal([[ENCOUNTERS.length]]);
    expect((await api('GET', '/audit/verify')).body)
      .to.deep.include({ ok: true, problems: [] })
      .and.not.have.property('brokenAt');
  });

  it('`mesh publish` publishes a product file for its owner', async () => {
    const file = path.join(MESH_HOME, 'tmp-gp-encounters-2.1.0.json');
    const view = encountersView('gp_encounters', [
      { name: 'status', path: 'status', type: 'code' },
      { name: 'end', path: 'period.end', type: 'dateTime' },
    ]);
    fs.writeFileSync(file, JSON.stringify(publication('2.1.0', view, { privacy: { gp_encounters: { ...TAGS, end: 'quasi-identifier' } } })));
    const cli = await runCaptured('node', [path.join('control-plane', 'bin', 'mesh.js'), 'publish', file], { env: { ...process.env, MESH_TOKEN: ownerToken } });
    fs.rmSync(file);
    expect(cli.status, cli.stderr).to.equal(0);
    expect(cli.stdout).to.include('published: gp_encounters 2.1.0').and.include('gp_encounters_v2');
    // A domain's CI publishes through the webhook with the same body and its owner's token.
    const hook = await api(
      'POST',
      '/webhooks/publish',
      publication('2.2.0', view, { privacy: { gp_encounters: { ...TAGS, end: 'quasi-identifier' } } }),
      ownerToken,
    );
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    expect(hook.body).to.deep.include({ product: 'gp_encounters', version: '2.2.0', created: true, problems: [] });
    const hookForOther = await api(
      'POST',
      '/webhooks/publish',
      publication('2.3.0', view, { privacy: { gp_encounters: { ...TAGS, end: 'quasi-identifier' } } }),
      otherOwnerToken,
    );
    expect(hookForOther.status).to.equal(403);
    const denied = await runCaptured('node', [path.join('control-plane', 'bin', 'mesh.js'), 'publish', '/nonexistent.json'], {
      env: { ...process.env, MESH_TOKEN: ownerToken },
    });
    expect(denied.status).to.equal(1);
    expect(denied.stderr).to.include('/nonexistent.json');
  });
});

describe('control plane hardening (issue 16): names, table claims, hostile requests, audit anchors', function () {
  this.timeout(300_000);
  // Two ICSs: an ICS may publish products over other domains' endpoints, so both read the RX1 trust.
  const A = 'ICS01';
  const B = 'ICS02';
  const OWNERS = ['ics01-owner', 'ics02-owner', 'ics-analyst'];
  let ownerA = '';
  let ownerB = '';
  let analyst = '';

  const patientView = (name: string, columns: { name: string; path: string; type: string }[]): Record<string, unknown> => ({
    resourceType: 'ViewDefinition',
    name,
    status: 'active',
    resource: 'Patient',
    select: [{ column: [{ name: 'id', path: 'getResourceKey()', type: 'id' }, ...columns] }],
  });
  const product = (name: string, domain: string, version: string, views: Record<string, unknown>[], privacy: unknown, lifecycle = 'published') => ({
    name,
    domain,
    version,
    lifecycle,
    sources: ['RX1'],
    views,
    privacy,
  });
  const _allNone = (...views: Record<string, unknown>[]) =>
    Object.fromEntries(views.map((v) => [v.name, Object.fromEntries((v.select as { column: { name: string }[] }[])[0]!.column.map((c) => [c.name, 'none']))]));
  const claimsOf = async (productName: string) =>
    (
      await registry<{ table_name: string }>(
        'select t.table_name from product_tables t join data_products p on p.id = t.product_id where p.name = $1 order by 1',
        [productName],
      )
    ).map((r) => r.table_name);

  before(async () => {
    const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
    await client.connect();
    try {
      await client.query(`delete from data_products where domain_id in (select id from domains where ods_code = any($1))`, [[A, B]]);
      await client.query(`delete from consumers where name = any($1)`, [OWNERS]);
      await client.query(`delete from domains where ods_code = any($1)`, [[A, B]]);
    } finally {
      await client.end();
    }
    for (const [code, region] of [
      [A, 'East of England'],
      [B, 'South West'],
    ] as const) {
      const created = await api('POST', '/domains', {
        odsCode: code,
        name: `Integrated care system ${code}`,
        kind: 'ics',
        region,
        ownerContact: `dpo@${code.toLowerCase()}.example.nhs.uk`,
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
    }
    ownerA = (await api('POST', '/consumers', { name: 'ics01-owner', kind: 'user', roles: ['data-product-owner'], domain: A })).body.token;
    ownerB = (await api('POST', '/consumers', { name: 'ics02-owner', kind: 'user', roles: ['data-product-owner'], domain: B })).body.token;
    analyst = (await api('POST', '/consumers', { name: 'ics-analyst', kind: 'user', roles: ['analyst'] })).body.token;
    await api('POST', '/catalogs/reconcile');
  });

  describe('a view or column named `constructor` / `__proto__` needs its privacy tag like any other (item 5)', () => {
    it('untagged, they are refused, naming the missing tags', async () => {
      // `name` is also a property of Object.prototype.constructor: the old lookup found it "tagged".
      const byView = await api(
        'POST',
        '/data-products',
        product('ics_proto', A, '1.0.0', [patientView('constructor', [{ name: 'name', path: 'name.family.first()', type: 'string' }])], {}),
        ownerA,
      );
      expect(byView.status, JSON.stringify(byView.body)).to.equal(422);
      expect(byView.body.message).to.include("view 'constructor': column(s) 'id', 'name' have no privacy tag");
      const byColumn = await api(
        'POST',
        '/data-products',
        product('ics_proto', A, '1.0.0', [patientView('ics_patients', [{ name: 'constructor', path: 'name.given.first()', type: 'string' }])], {
          ics_patients: { id: 'none' },
        }),
        ownerA,
      );
      expect(byColumn.status, JSON.stringify(byColumn.body)).to.equal(422);
      expect(byColumn.body.message).to.include("view 'ics_patients': column(s) 'constructor' have no privacy tag");
      // `__proto__` as JSON sends it (an own key): an ordinary, unknown name, not the tags' prototype.
      const privacy = JSON.parse('{"ics_patients": {"id": "none", "__proto__": "direct-identifier"}, "__proto__": {"id": "none"}}');
      const byProto = await api(
        'POST',
        '/data-products',
        product('ics_proto', A, '1.0.0', [patientView('ics_patients', [{ name: 'constructor', path: 'name.given.first()', type: 'string' }])], privacy),
        ownerA,
      );
      expect(byProto.status, JSON.stringify(byProto.body)).to.equal(422);
      expect(byProto.body.message)
        .to.include("column(s) 'constructor' have no privacy tag")
        .and.include("no column(s) '__proto__' to tag")
        .and.include("privacy tags for '__proto__', which is not a view");
      const protoColumn = await api(
        'POST',
        '/data-products',
        product('ics_proto', A, '1.0.0', [patientView('ics_patients', [{ name: '__proto__', path: 'name.given.first()', type: 'string' }])], privacy),
        ownerA,
      );
      expect(protoColumn.status).to.equal(400);
      expect(protoColumn.body.message).to.include('/views/0/select/0/column/1/name');
      expect((await api('GET', '/data-products/ics_proto')).status).to.equal(404);
    });

    it('tagged, they publish and are served', async () => {
      const views = [
        patientView('constructor', [{ name: 'name', path: 'name.family.first()', type: 'string' }]),
        patientView('ics_patients', [{ name: 'constructor', path: 'name.given.first()', type: 'string' }]),
      ];
      const published = await api(
        'POST',
        '/data-products',
        product('ics_proto', A, '1.0.0', views, {
          constructor: { id: 'quasi-identifier', name: 'direct-identifier' },
          ics_patients: { id: 'quasi-identifier', constructor: 'direct-identifier' },
        }),
        ownerA,
      );
      expect(published.status, JSON.stringify(published.body)).to.equal(201);
      expect(published.body.tables).to.deep.equal(['constructor', 'constructor_v1', 'ics_patients', 'ics_patients_v1']);
      const version = await api('GET', '/data-products/ics_proto/versions/1.0.0');
      expect(version.body.columnTags.constructor).to.deep.equal({ id: 'quasi-identifier', name: 'direct-identifier' });
      expect((await whenServed('SELECT count(*) FROM fhir.default."constructor"')).rows[0]![0]).to.be.greaterThan(0);
    });
  });

  describe('table names: <view>_v<N> belongs to the product owning <view> (item 6)', () => {
    const encounters = (name: string) => encountersView(name);
    const tags = (name: string) => ({ [name]: { id: 'none', patient_id: 'direct-identifier', class_code: 'none', start: 'quasi-identifier' } });

    it("another owner cannot take the next major's name, not even as a draft", async () => {
      const first = await api('POST', '/data-products', product('ics_encounters', A, '1.0.0', [encounters('ics_encounters')], tags('ics_encounters')), ownerA);
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      for (const lifecycle of ['draft', 'published']) {
        const squat = await api(
          'POST',
          '/data-products',
          product('ics_squat', B, '1.0.0', [encounters('ics_encounters_v3')], tags('ics_encounters_v3'), lifecycle),
          ownerB,
        );
        expect(squat.status, `${lifecycle}: ${JSON.stringify(squat.body)}`).to.equal(409);
        expect(squat.body.message)
          .to.include("table name 'ics_encounters_v3' is reserved for data product 'ics_encounters'")
          .and.include('names <view>_v<N> belong to the product that owns <view>');
      }
      expect((await api('GET', '/data-products/ics_squat')).status).to.equal(404);
    });

    it("the owner's v2 and v3 publish and serve side by side", async () => {
      for (const version of ['2.0.0', '3.0.0']) {
        const next = await api('POST', '/data-products', product('ics_encounters', A, version, [encounters('ics_encounters')], tags('ics_encounters')), ownerA);
        expect(next.status, `${version}: ${JSON.stringify(next.body)}`).to.equal(201);
      }
      expect(await claimsOf('ics_encounters')).to.deep.equal(['ics_encounters', 'ics_encounters_v1', 'ics_encounters_v2', 'ics_encounters_v3']);
      await whenServed('SELECT count(*) FROM fhir.default.ics_encounters_v3');
    });

    it('retiring releases a name; a draft holds none; a stale claim (from before names were released) gives way', async () => {
      const other = await api('POST', '/data-products', product('ics_other', B, '1.0.0', [encounters('ics_shared')], tags('ics_shared')), ownerB);
      expect(other.status, JSON.stringify(other.body)).to.equal(201);
      const taken = await api('POST', '/data-products', product('ics_mine', A, '1.0.0', [encounters('ics_shared')], tags('ics_shared')), ownerA);
      expect(taken.status).to.equal(409);
      expect(taken.body.message).to.include("'ics_shared' already belongs to data product 'ics_other'");
      expect((await api('PATCH', '/data-products/ics_other/versions/1.0.0', { lifecycle: 'retired' }, ownerB)).status).to.equal(200);
      expect(await claimsOf('ics_other')).to.deep.equal([]);
      const reused = await api('POST', '/data-products', product('ics_mine', A, '1.0.0', [encounters('ics_shared')], tags('ics_shared')), ownerA);
      expect(reused.status, JSON.stringify(reused.body)).to.equal(201);

      const draft = await api('POST', '/data-products', product('ics_draft', B, '1.0.0', [encounters('ics_drafty')], tags('ics_drafty'), 'draft'), ownerB);
      expect(draft.status, JSON.stringify(draft.body)).to.equal(201);
      expect(await claimsOf('ics_draft')).to.deep.equal([]);
      // A claim squatted before this fix by a product that serves nothing: it must not block the owner's v4.
      await registry(
        `insert into product_tables (table_name, product_id, view_name) select 'ics_encounters_v4', id, 'ics_encounters_v4' from data_products where name = 'ics_draft'`,
      );
      const v4 = await api('POST', '/data-products', product('ics_encounters', A, '4.0.0', [encounters('ics_encounters')], tags('ics_encounters')), ownerA);
      expect(v4.status, JSON.stringify(v4.body)).to.equal(201);
      expect(await claimsOf('ics_encounters')).to.include('ics_encounters_v4');
      expect(await claimsOf('ics_draft')).to.deep.equal([]);
    });
  });

  describe('hostile admin API requests get a 4xx naming the problem (item 8)', () => {
    const raw = async (method: string, route: string, body?: string, token = opsToken()) => {
      const response = await fetch(`${controlPlaneUrl()}/api/v1${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body,
      });
      return { status: response.status, body: (await response.json()) as { message: string } };
    };

    it('a 10 MB body is 413 naming the limit', async () => {
      const response = await raw(
        'POST',
        '/domains',
        JSON.stringify({ odsCode: 'BIG', name: 'x'.repeat(10 * 1024 * 1024), kind: 'trust', region: 'x', ownerContact: 'a@b.nhs.uk' }),
      );
      expect(response.status).to.equal(413);
      expect(response.body.message).to.include('larger than the limit of 5242880 bytes (5 MB)');
    });

    it('a compressed or broken-compressed body is 415, never 500, and needs no token to be refused cleanly', async () => {
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const response = await fetch(`${controlPlaneUrl()}/api/v1/domains`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body: 'not really compressed',
        });
        expect(response.status, `${encoding}: ${await response.clone().text()}`).to.be.oneOf([401, 415]);
        const authenticated = await fetch(`${controlPlaneUrl()}/api/v1/domains`, {
          method: 'POST',
          headers: { authorization: `Bearer ${opsToken()}`, 'content-type': 'application/json', 'content-encoding': encoding },
          body: 'not really compressed',
        });
        expect(authenticated.status).to.equal(415);
        expect(((await authenticated.json()) as { message: string }).message).to.include('send the JSON uncompressed');
      }
    });

    it('JSON nested 5,000 levels deep is 400', async () => {
      const response = await raw('POST', '/domains', `${'['.repeat(5000)}${']'.repeat(5000)}`);
      expect(response.status).to.equal(400);
      expect(response.body.message).to.include('nested more than 64 levels deep');
    });

    it('NUL in a text field or in the URL path is 400 naming the field or path', async () => {
      const inBody = await raw(
        'POST',
        '/domains',
        JSON.stringify({ odsCode: 'NULX', name: 'a\u0000b', kind: 'trust', region: 'x', ownerContact: 'a@b.nhs.uk' }),
      );
      expect(inBody.status).to.equal(400);
      expect(inBody.body.message).to.include('/name contains a NUL character');
      for (const route of ['/domains/AB%00C', '/consumers/a%00b', '/data-products/x%00/versions/1.0.0']) {
        const inPath = await raw('GET', route);
        expect(inPath.status, route).to.equal(400);
        expect(inPath.body.message, route).to.include('contains a NUL character (%00)').and.include('\\u0000');
      }
      expect((await api('GET', '/domains/NULX')).status).to.equal(404);
    });

    it('query parameters: out of range, repeated, array-style or unknown are 400 naming the parameter', async () => {
      const negative = await raw('GET', '/audit?limit=-1');
      expect(negative.status).to.equal(400);
      expect(negative.body.message).to.equal("query parameter 'limit' must be an integer from 1 to 1000; got '-1'");
      const arrayStyle = await raw('GET', '/audit?entity[]=a&entity[]=b');
      expect(arrayStyle.status).to.equal(400);
      expect(arrayStyle.body.message).to.include("'entity[]'");
      const repeated = await raw('GET', '/audit?entity=domain&entity=consumer');
      expect(repeated.status).to.equal(400);
      expect(repeated.body.message).to.equal("query parameter 'entity' is given 2 times; give it once");
      for (const route of [
        '/domains?odsCode=RX1',
        '/endpoints?domain=RX1',
        '/data-products?domain=X26',
        '/consumers?name=ops',
        `/endpoints/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/health?limit=0`,
      ]) {
        expect((await raw('GET', route)).status, route).to.equal(400);
      }
      const filtered = (await api('GET', '/audit?entity=domain&limit=5')).body as { entity: string }[];
      expect(filtered.length).to.be.within(1, 5);
      expect(new Set(filtered.map((e) => e.entity))).to.deep.equal(new Set(['domain']));
    });

    it('refused requests are audited: who (or anonymous with a token hash prefix, never the token), route, status, reason', async () => {
      const since = (await registry<{ id: string }>('select coalesce(max(id), 0)::text as id from audit_log'))[0]!.id;
      const bogus = `mesh_not-a-token-${Date.now()}`;
      expect((await raw('GET', '/domains', undefined, bogus)).status).to.equal(401);
      expect(
        (await raw('POST', '/domains', JSON.stringify({ odsCode: 'ZZZ', name: 'x', kind: 'trust', region: 'x', ownerContact: 'a@b.nhs.uk' }), analyst)).status,
      ).to.equal(403);
      expect(
        (await raw('POST', '/domains', JSON.stringify({ odsCode: A, name: 'again', kind: 'ics', region: 'x', ownerContact: 'a@b.nhs.uk' }))).status,
      ).to.equal(409);
      const entries = await registry<{ actor: string; action: string; entity_id: string; after: Record<string, unknown>; text: string }>(
        `select actor, action, entity_id, after, after::text as text from audit_log where entity = 'request' and id > $1 order by id`,
        [since],
      );
      const of = (status: number) => entries.find((e) => e.after.status === status)!;
      const hashPrefix = createHash('sha256').update(bogus).digest('hex').slice(0, 12);
      expect(of(401)).to.deep.include({ actor: 'anonymous', action: 'refused 401', entity_id: 'GET /api/v1/domains' });
      expect(of(401).after).to.deep.include({ tokenSha256Prefix: hashPrefix, reason: 'unknown or revoked token', route: '/api/v1/domains' });
      expect(entries.map((e) => e.text).join()).to.not.include(bogus);
      expect(of(403)).to.deep.include({ actor: 'ics-analyst', entity_id: 'POST /api/v1/domains' });
      expect(of(403).after.reason).to.match(/requires role ops/);
      expect(of(409)).to.deep.include({ actor: 'ops', entity_id: 'POST /api/v1/domains' });
      expect((await api('GET', '/audit/verify')).body).to.deep.include({ ok: true, problems: [] });
    });

    it('an unauthenticated flood adds at most a few entries a minute, then one summary', async () => {
      const since = (await registry<{ id: string }>('select coalesce(max(id), 0)::text as id from audit_log'))[0]!.id;
      const route = `/endpoints/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/health`;
      const started = Date.now();
      for (let i = 0; i < 60; i++) expect((await raw('GET', route, undefined, `mesh_flood-${i}`)).status).to.equal(401);
      const individual = await registry<{ n: number }>(
        `select count(*)::int as n from audit_log where entity = 'request' and action = 'refused 401' and id > $1`,
        [since],
      );
      // 10 a minute per source (MESH_AUDIT_REFUSALS_PER_MINUTE); the flood may straddle one minute boundary.
      expect(individual[0]!.n).to.be.at.most(20);
      let summary: { after: { moreRefusals: number; routes: Record<string, number> } } | undefined;
      while (!summary && Date.now() - started < 100_000) {
        await new Promise((r) => setTimeout(r, 3000));
        summary = (
          await registry<{ after: { moreRefusals: number; routes: Record<string, number> } }>(
            `select after from audit_log where action = 'refused (summary)' and id > $1 and after->'routes' ? $2`,
            [since, 'GET /api/v1/endpoints/:id/health'],
          )
        )[0];
      }
      expect(summary, 'summary entry of the flood').to.not.equal(undefined);
      expect(summary!.after.moreRefusals + individual[0]!.n).to.be.at.least(60);
    });

    it('`mesh` without MESH_TOKEN refuses, saying to set it, instead of using the ops token file', async () => {
      const { MESH_TOKEN: _unset, ...env } = process.env;
      const cli = await runCaptured('node', [path.join('control-plane', 'bin', 'mesh.js'), 'products'], { env });
      expect(cli.status).to.equal(1);
      expect(cli.stderr).to.include('MESH_TOKEN is not set').and.include('set MESH_TOKEN');
      expect(cli.stdout).to.equal('');
    });
  });

  describe('the audit chain head is anchored outside PostgreSQL (item 3)', () => {
    const CHAIN_LOCK = 72_001; // control-plane/src/audit/audit.service.ts: appends wait while we hold it

    it('deleting the newest entries (as a superuser, trigger bypassed) makes verify fail, naming the anchored entry', async () => {
      expect((await api('PATCH', `/domains/${A}`, { region: 'East of England (anchored)' })).status).to.equal(200);
      const before = (await api('GET', '/audit/verify')).body as { ok: boolean; entries: number; anchors: { count: number; newest: { seq: string } } };
      expect(before.ok).to.equal(true);
      const newestId = (await registry<{ id: string }>('select max(id)::text as id from audit_log'))[0]!.id;
      expect(before.anchors.newest.seq).to.equal(newestId);

      const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [CHAIN_LOCK]);
        await client.query('begin');
        // What anyone with the database's superuser can do: bypass the trigger and cut the chain's head.
        await client.query(`set local session_replication_role = replica`);
        const removed = (
          await client.query(
            `delete from audit_log where id > $1::bigint - 2 returning id, at, actor, action, entity, entity_id,
          before::text as before, after::text as after, prev_hash, hash`,
            [newestId],
          )
        ).rows;
        await client.query('commit');
        expect(removed).to.have.length(2);
        try {
          const verify = (await api('GET', '/audit/verify')).body as { ok: boolean; brokenAt: string; problems: string[] };
          expect(verify.ok).to.equal(false);
          expect(verify.brokenAt).to.equal(newestId);
          expect(verify.problems[0]).to.match(
            new RegExp(
              `^audit chain truncated: anchored entry seq ${newestId} \\(hash [0-9a-f]{64}, anchored at \\d{4}-.*\\) is missing; the newest entry in the database is seq \\d+$`,
            ),
          );
        } finally {
          // Put the chain back exactly as it was, so the rest of the suite (and the next run) verifies.
          for (const r of removed.sort((a, b) => Number(a.id) - Number(b.id))) {
            await client.query(
              `insert into audit_log (id, at, actor, action, entity, entity_id, before, after, prev_hash, hash)
              values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10)`,
              [r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.prev_hash, r.hash],
            );
          }
        }
      } finally {
        await client.query('select pg_advisory_unlock($1)', [CHAIN_LOCK]).catch(() => undefined);
        await client.end();
      }
      expect((await api('GET', '/audit/verify')).body).to.deep.include({ ok: true, problems: [] });
    });
  });
});
