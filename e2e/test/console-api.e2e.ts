// The admin API the web console reads (issue 15), against the running mesh: a publish dry run that makes
// every check publish makes and writes nothing, the recent gateway statements from the audit log, privacy
// budgets, an on-demand endpoint health check, owners confined to their own domain's products, and the
// console's static files with their security headers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { CONSOLE_NOT_BUILT } from '../../control-plane/src/api/console-assets';
import { api, DEMO_DP_ANALYST, demoAnalystToken, demoToken } from '../runtime/demo-registry';
import { demoIdentity, gatewayQuery } from '../runtime/gateway-client';
import { controlPlaneUrl, ROOT } from '../runtime/topology';
import { closedPort } from './closed-port';
import { TrinoEngine } from './connector/engines';

const PRODUCT = 'condition';
const RUN = Date.now().toString(36);
const NOTE_COLUMN = { name: 'note_text', path: 'note.text.first()', type: 'string' };

type Publication = Record<string, unknown> & { views: { select: { column: Record<string, unknown>[] }[] }[]; privacy: Record<string, Record<string, string>> };

/** The product's newest version as a publication body, for building the next one. */
async function newestPublication(): Promise<{ version: string; majors: number[]; body: Publication }> {
  const product = await api('GET', `/data-products/${PRODUCT}`);
  expect(product.status, JSON.stringify(product.body)).to.equal(200);
  const versions = product.body.versions as { version: string; lifecycle: string }[];
  const newest = versions.filter((v) => v.lifecycle === 'published').at(-1)!;
  const full = (await api('GET', `/data-products/${PRODUCT}/versions/${newest.version}`)).body;
  return {
    version: newest.version,
    majors: versions.map((v) => Number(v.version.split('.')[0])),
    body: {
      name: PRODUCT,
      domain: product.body.domain,
      description: product.body.description,
      lifecycle: 'published',
      sources: full.sources,
      sla: full.sla,
      views: full.views,
      privacy: full.columnTags,
    },
  };
}

function nextMinor(version: string): string {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return `${major}.${minor + 1}.0`;
}

/** A copy of the publication with `change` applied to its (only) view's columns and tags. */
function changed(p: Publication, version: string, change: (columns: Record<string, unknown>[], tags: Record<string, string>) => void): Publication {
  const copy = structuredClone(p);
  const view = copy.views[0]!;
  change(view.select[0]!.column, copy.privacy[PRODUCT]!);
  return { ...copy, version };
}

describe('console API (issue 15)', function () {
  this.timeout(300_000);
  const trino = new TrinoEngine();

  describe('POST /data-products/dry-run', () => {
    it('runs every check and the real dry run, shows the diff of the added column, and writes nothing', async () => {
      const { version, body } = await newestPublication();
      const next = changed(body, nextMinor(version), (columns, tags) => {
        columns.push(NOTE_COLUMN);
        tags[NOTE_COLUMN.name] = 'sensitive';
      });
      const versionsBefore = (await api('GET', `/data-products/${PRODUCT}`)).body.versions;
      const servedBefore = (await trino.query(`SHOW COLUMNS FROM fhir.default.${PRODUCT}`)).rows.map((r) => r[0]);
      const mappingFile = path.join(ROOT, '.mesh', 'generated', 'sql-mappings', `${PRODUCT}.json`);
      const mappingBefore = fs.existsSync(mappingFile) ? fs.readFileSync(mappingFile, 'utf8') : undefined;

      const dry = await api('POST', '/data-products/dry-run', next);
      expect(dry.status, JSON.stringify(dry.body)).to.equal(200);
      expect(dry.body).to.deep.include({
        product: PRODUCT,
        version: next.version,
        previousVersion: version,
        tables: [PRODUCT, `${PRODUCT}_v${version.split('.')[0]}`],
        breakingChanges: [],
        wouldCreate: true,
      });
      // The real dry run read rows through a temporary catalog.
      expect(dry.body.dryRun).to.have.length(1);
      expect(dry.body.dryRun[0].view).to.equal(PRODUCT);
      expect(dry.body.dryRun[0].rows).to.be.greaterThan(0);
      const diff = dry.body.diff as string;
      expect(diff).to.include(`--- ${PRODUCT}@${version}`).and.include(`+++ ${PRODUCT}@${next.version}`);
      const added = diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
      expect(added.some((l) => l.includes('"name": "note_text"'))).to.equal(true);
      expect(added.some((l) => l.includes('"note_text": "sensitive"'))).to.equal(true);

      // Nothing written: no version, no audit entry, no catalog change, no temporary catalog left behind.
      expect((await api('GET', `/data-products/${PRODUCT}`)).body.versions).to.deep.equal(versionsBefore);
      expect((await api('GET', `/audit?entity=data-product&entityId=${PRODUCT}@${next.version}`)).body).to.deep.equal([]);
      expect((await api('GET', `/data-products/${PRODUCT}/versions/${next.version}`)).status).to.equal(404);
      expect((await trino.query(`SHOW COLUMNS FROM fhir.default.${PRODUCT}`)).rows.map((r) => r[0])).to.deep.equal(servedBefore);
      expect(servedBefore).to.not.include(NOTE_COLUMN.name);
      if (mappingBefore !== undefined) expect(fs.readFileSync(mappingFile, 'utf8')).to.equal(mappingBefore);
      const catalogs = (await trino.query('SHOW CATALOGS')).rows.map((r) => String(r[0]));
      expect(catalogs.filter((c) => c.startsWith('dryrun_'))).to.deep.equal([]);
    });

    it('a new major may break the previous version: the breaking changes are listed, the new tables named', async () => {
      const { version, majors, body } = await newestPublication();
      const major = Math.max(...majors) + 1;
      const next = changed(body, `${major}.0.0`, (columns, tags) => {
        columns.splice(
          columns.findIndex((c) => c.name === 'abatement'),
          1,
        );
        delete tags.abatement;
      });
      const dry = await api('POST', '/data-products/dry-run', next);
      expect(dry.status, JSON.stringify(dry.body)).to.equal(200);
      expect(dry.body.previousVersion).to.equal(version);
      expect(dry.body.breakingChanges).to.deep.equal([`view '${PRODUCT}': column 'abatement' removed`]);
      expect(dry.body.tables).to.deep.equal([PRODUCT, `${PRODUCT}_v${major}`]);
      expect(dry.body.diff.split('\n').filter((l: string) => l.startsWith('-') && l.includes('"abatement"'))).to.have.length.greaterThan(0);
    });

    it('refuses exactly as publish does (breaking change in the same major, untagged column, unknown domain) and republishing the same is no change', async () => {
      const { version, body } = await newestPublication();
      const breaking = changed(body, nextMinor(version), (columns, tags) => {
        columns.splice(
          columns.findIndex((c) => c.name === 'abatement'),
          1,
        );
        delete tags.abatement;
      });
      const untagged = changed(body, nextMinor(version), (columns) => {
        columns.push(NOTE_COLUMN);
      });
      const noDomain = { ...changed(body, nextMinor(version), () => undefined), domain: 'ZZ9' };
      for (const [what, publication, status] of [
        ['breaking', breaking, 409],
        ['untagged', untagged, 422],
        ['no domain', noDomain, 422],
      ] as const) {
        const dry = await api('POST', '/data-products/dry-run', publication);
        const published = await api('POST', '/data-products', publication);
        expect(dry.status, `${what}: ${JSON.stringify(dry.body)}`).to.equal(status);
        expect(dry.body, what).to.deep.equal(published.body);
      }
      const refused = (await api('POST', '/data-products/dry-run', breaking)).body;
      expect(refused.message).to.include(`breaks ${version}`).and.include("column 'abatement' removed");
      expect(refused.breakingChanges).to.deep.equal([`view '${PRODUCT}': column 'abatement' removed`]);

      const same = await api('POST', '/data-products/dry-run', { ...body, version });
      expect(same.status, JSON.stringify(same.body)).to.equal(200);
      expect(same.body).to.deep.include({ version, wouldCreate: false, dryRun: [] });
    });

    it('needs the data-product-owner or ops role', async () => {
      const { version, body } = await newestPublication();
      const response = await api('POST', '/data-products/dry-run', { ...body, version: nextMinor(version) }, demoAnalystToken());
      expect(response.status).to.equal(403);
      expect(response.body.message).to.equal('requires role data-product-owner or ops; alice has analyst');
    });
  });

  describe('GET /queries', () => {
    it('lists a gateway statement with its rewritten SQL, outcome, rows and timing, newest first', async () => {
      const alias = `n_${RUN}`;
      const sql = `SELECT count(*) AS ${alias} FROM ${PRODUCT}`;
      const result = await gatewayQuery(sql, { identity: demoIdentity(), catalog: 'fhir', schema: 'default' });
      expect(result.error, JSON.stringify(result.error)).to.equal(undefined);
      // The gateway writes the end record once the client has its last page: wait for it briefly.
      let queries = await api('GET', '/queries?user=alice&limit=20');
      const find = () => (queries.body as { queryId: string; outcome: string }[]).find((q) => q.queryId === result.queryId);
      for (let i = 0; i < 50 && find()?.outcome === 'running'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        queries = await api('GET', '/queries?user=alice&limit=20');
      }
      expect(queries.status, JSON.stringify(queries.body)).to.equal(200);
      const entry = find();
      expect(entry, `query ${result.queryId} in /queries`).to.not.equal(undefined);
      expect(entry).to.deep.include({ user: 'alice', purpose: 'research', project: 'demo-cohort', sql, outcome: 'finished', rows: 1, error: null });
      const e = entry as unknown as Record<string, unknown>;
      expect(e.rewrittenSql).to.be.a('string').and.include('"fhir"."default"."condition"').and.include('NOT contains(');
      expect(e.rewrittenSql).to.not.equal(sql);
      expect(e.tables).to.deep.equal([`fhir.default.${PRODUCT}`]);
      expect(e.domains).to.include.members(['RX1', 'RTH', 'RR8']);
      expect(e.durationMs).to.be.a('number');
      expect(Date.parse(String(e.endedAt))).to.be.at.least(Date.parse(String(e.startedAt)));
      // The gateway's trace id (query.started) and Trino's statistics (query.finished) come through.
      expect(e.traceId).to.match(/^[0-9a-f]{32}$/);
      const stats = e.trino as Record<string, number>;
      expect(Object.keys(stats).sort()).to.deep.equal(['cpuMs', 'peakMemoryBytes', 'processedBytes', 'processedRows']);
      expect(stats.processedRows).to.be.greaterThan(0);
      const startedAt = (queries.body as { startedAt: string }[]).map((q) => Date.parse(q.startedAt));
      expect(startedAt).to.deep.equal([...startedAt].sort((a, b) => b - a));
    });

    it('filters by user and outcome and limits; bad filters are 400; analysts are refused', async () => {
      const refusedSql = `DELETE FROM ${PRODUCT} WHERE id = '${RUN}'`;
      const refused = await gatewayQuery(refusedSql, { identity: demoIdentity(), catalog: 'fhir', schema: 'default' });
      expect(refused.error?.errorName, JSON.stringify(refused)).to.be.a('string');
      const list = (await api('GET', '/queries?outcome=refused&user=alice&limit=5')).body as { outcome: string; user: string; sql: string }[];
      expect(list.length).to.be.within(1, 5);
      expect(list.every((q) => q.outcome === 'refused' && q.user === 'alice')).to.equal(true);
      expect(list[0]!.sql).to.equal(refusedSql);
      expect((await api('GET', '/queries?limit=1')).body).to.have.length(1);
      expect((await api('GET', '/queries?user=nobody-at-all')).body).to.deep.equal([]);
      const bad = await api('GET', '/queries?limit=501');
      expect(bad.status).to.equal(400);
      expect(bad.body.message).to.equal("query parameter 'limit' must be an integer from 1 to 500; got '501'");
      expect((await api('GET', '/queries?outcome=done')).body.message).to.include("query parameter 'outcome' must be one of finished");
      expect((await api('GET', '/queries', undefined, demoAnalystToken())).status).to.equal(403);
    });
  });

  describe('GET /budgets', () => {
    it("lists every consumer with a budget and each account's ε, matching the consumer's own budget view", async () => {
      const budgets = await api('GET', '/budgets');
      expect(budgets.status, JSON.stringify(budgets.body)).to.equal(200);
      const dana = (budgets.body as { consumer: string }[]).find((b) => b.consumer === DEMO_DP_ANALYST.name) as Record<string, unknown> | undefined;
      expect(dana, 'dana in /budgets').to.not.equal(undefined);
      expect(dana).to.deep.include({ budgetEpsilon: 10, period: 'month' });
      const own = (await api('GET', `/consumers/${DEMO_DP_ANALYST.name}/budget`)).body.accounts as {
        project: string;
        periodStart: string;
        epsilon: { spent: number; reserved: number; remaining: number };
      }[];
      expect(dana!.accounts).to.deep.equal(
        own.map((a) => ({
          project: a.project,
          periodStart: a.periodStart,
          periodEnd: (a as unknown as { periodEnd: string }).periodEnd,
          spent: a.epsilon.spent,
          reserved: a.epsilon.reserved,
          remaining: a.epsilon.remaining,
        })),
      );
      const consumers = (await api('GET', '/consumers')).body as { name: string; budget: unknown }[];
      expect((budgets.body as { consumer: string }[]).map((b) => b.consumer).sort()).to.deep.equal(
        consumers
          .filter((c) => c.budget !== null)
          .map((c) => c.name)
          .sort(),
      );
      expect((await api('GET', '/budgets', undefined, demoToken(DEMO_DP_ANALYST.name))).status).to.equal(403);
    });
  });

  describe('POST /endpoints/health-check', () => {
    const domain = `ZH${RUN.slice(-3).toUpperCase()}`;
    let endpointId = '';
    after(async () => {
      if (endpointId) await api('DELETE', `/endpoints/${endpointId}`);
      await api('DELETE', `/domains/${domain}`);
    });

    it('checks every endpoint now: a closed port is marked down with a clear error', async () => {
      // Suspended, so the catalog (and other suites' queries) never sees this domain; the health check still does.
      const created = await api('POST', '/domains', {
        odsCode: domain,
        name: 'Closed port trust (tests)',
        kind: 'trust',
        region: 'Test',
        ownerContact: 'dpo@closed.example.nhs.uk',
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const baseUrl = `http://127.0.0.1:${await closedPort()}/fhir/closed`;
      const endpoint = await api('POST', '/endpoints', { domain, baseUrl, status: 'suspended' });
      expect(endpoint.status, JSON.stringify(endpoint.body)).to.equal(201);
      endpointId = endpoint.body.id;

      const checked = await api('POST', '/endpoints/health-check');
      expect(checked.status, JSON.stringify(checked.body)).to.equal(200);
      const checks = checked.body as { endpointId: string; ok: boolean; error: string | null; domain: string; baseUrl: string; httpStatus: number | null }[];
      expect(checks.find((c) => c.endpointId === endpointId)).to.deep.include({
        ok: false,
        httpStatus: null,
        error: 'unreachable (ECONNREFUSED)',
        domain,
        baseUrl,
      });
      for (const trust of ['RX1', 'RTH', 'RR8'])
        expect(
          checks.find((c) => c.domain === trust),
          trust,
        ).to.deep.include({ ok: true, httpStatus: 200, error: null });
      const listed = ((await api('GET', '/endpoints')).body as { id: string; health: string; lastError: string }[]).find((e) => e.id === endpointId);
      expect(listed).to.deep.include({ health: 'down', lastError: 'unreachable (ECONNREFUSED)' });
      const history = (await api('GET', `/endpoints/${endpointId}/health?limit=5`)).body as { ok: boolean }[];
      expect(history.length).to.be.at.least(1);
      expect(history[0]!.ok).to.equal(false);
      expect((await api('POST', '/endpoints/health-check', undefined, demoAnalystToken())).status).to.equal(403);
    });
  });

  describe('owner scoping', () => {
    const owner = `console-owner-${RUN}`;
    let token = '';
    before(async () => {
      const created = await api('POST', '/consumers', { name: owner, kind: 'user', roles: ['data-product-owner'], domain: 'RX1' });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      token = created.body.token;
    });
    after(async () => {
      await api('DELETE', `/consumers/${owner}`);
    });

    it("an owner lists only their own domain's products and is refused another domain's with 403", async () => {
      const list = await api('GET', '/data-products', undefined, token);
      expect(list.status).to.equal(200);
      expect((list.body as { domain: string }[]).every((p) => p.domain === 'RX1')).to.equal(true);
      expect((list.body as { name: string }[]).map((p) => p.name)).to.not.include(PRODUCT);
      const message = `data product '${PRODUCT}' belongs to domain X26; you publish for RX1`;
      const { version, body } = await newestPublication();
      for (const [method, route, payload] of [
        ['GET', `/data-products/${PRODUCT}`, undefined],
        ['GET', `/data-products/${PRODUCT}/versions/${version}`, undefined],
        ['POST', '/data-products/dry-run', { ...body, version: nextMinor(version) }],
        ['POST', '/data-products', { ...body, version: nextMinor(version) }],
        ['PATCH', `/data-products/${PRODUCT}/versions/${version}`, { lifecycle: 'deprecated' }],
      ] as const) {
        const response = await api(method, route, payload, token);
        expect(response.status, `${method} ${route}: ${JSON.stringify(response.body)}`).to.equal(403);
        expect(response.body.message, `${method} ${route}`).to.equal(message);
      }
      expect((await api('GET', `/data-products/${PRODUCT}`)).body.versions.find((v: { version: string }) => v.version === version).lifecycle).to.equal(
        'published',
      );
    });

    it('analysts and ops keep reading the whole catalogue', async () => {
      for (const reader of [demoAnalystToken(), undefined]) {
        const list = await api('GET', '/data-products', undefined, reader);
        expect((list.body as { name: string }[]).map((p) => p.name)).to.include(PRODUCT);
        expect((await api('GET', `/data-products/${PRODUCT}`, undefined, reader)).status).to.equal(200);
      }
    });
  });

  describe('console static files', () => {
    const url = controlPlaneUrl();
    const built = fs.existsSync(path.join(ROOT, 'control-plane', 'console', 'dist', 'index.html'));

    it('/ redirects to /console/, which is served without a token under a strict CSP', async () => {
      const root = await fetch(`${url}/`, { redirect: 'manual' });
      expect(root.status).to.equal(302);
      expect(root.headers.get('location')).to.equal('/console/');
      const page = await fetch(`${url}/console/`);
      expect(page.status).to.equal(built ? 200 : 503);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("default-src 'self'").and.include("script-src 'self'").and.include("frame-ancestors 'none'");
      expect(csp).to.not.include('unsafe-inline').and.not.include('unsafe-eval');
      expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(page.headers.get('referrer-policy')).to.equal('no-referrer');
      expect(page.headers.get('x-frame-options')).to.equal('DENY');
      const text = await page.text();
      if (built) {
        expect(page.headers.get('content-type')).to.match(/^text\/html/);
        // No inline script and nothing from another origin: every script is a file of the console.
        expect(text).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/i);
        expect(text).to.not.match(/(src|href)="(https?:)?\/\//i);
      } else expect(text).to.equal(CONSOLE_NOT_BUILT);
    });

    it('the API is unchanged beside it: still a token, still JSON errors, and the new routes in OpenAPI', async () => {
      const me = await fetch(`${url}/api/v1/me`);
      expect(me.status).to.equal(401);
      expect(await me.json()).to.deep.equal({ statusCode: 401, error: 'Unauthorized', message: 'missing bearer token (Authorization: Bearer <token>)' });
      expect(me.headers.get('content-security-policy')).to.equal(null);
      const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(doc.paths['/api/v1/data-products/dry-run']).to.have.property('post');
      expect(doc.paths['/api/v1/queries']).to.have.property('get');
      expect(doc.paths['/api/v1/budgets']).to.have.property('get');
      expect(doc.paths['/api/v1/endpoints/health-check']).to.have.property('post');
    });
  });
});
