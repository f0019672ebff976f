// The web console (issue 15) in real headless Chromium over the running mesh: ops signs in and sees the three
// demo trusts up and a domain on a closed port down; a v2 of a data product is dry-run, its diff read and then
// published through the console, and served in Trino; an owner of another domain neither sees nor opens it.
// Every page passes axe-core (no serious or critical violations), fits 1280×800 and a 390×844 phone without
// horizontal page scroll, shows UK dates, and is screenshotted into test-artifacts/console/.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { opsToken } from '../runtime/control-plane';
import { api, DEMO_ANALYST } from '../runtime/demo-registry';
import { demoIdentity, gatewayQuery } from '../runtime/gateway-client';
import { connectionString } from '../runtime/postgres';
import { controlPlaneUrl, DOMAINS, postgres, ROOT } from '../runtime/topology';
import { trinoClient } from '../runtime/trino-clients';
import { closedPort } from './closed-port';
import { AS_STORED_SESSION } from './connector/engines';
import { readResources } from './ground-truth';

/** The console under test: the control plane's, unless MESH_CONSOLE_URL names another build (e.g. `vite preview`). */
const CONSOLE_URL = process.env.MESH_CONSOLE_URL ?? `${controlPlaneUrl()}/console/`;
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;
/** A domain whose only endpoint is a closed port: the health check must mark it down. */
const DOWN_DOMAIN = { odsCode: 'CNSL01', name: 'Console test trust (closed port)', kind: 'trust', region: 'London', ownerContact: 'ops@cnsl01.example.nhs.uk' };
/** The demo trust that publishes the test product, and another domain whose owner must be refused it. */
const PRODUCT_DOMAIN = DOMAINS[0]!;
const OTHER_DOMAIN = DOMAINS[1]!;
const PRODUCT = `console_enc_${Date.now().toString(36)}`;
const OTHER_OWNER = 'console-e2e-other-owner';
const UK_DATE_TIME = /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}$/;
const UK_DATE = /^\d{2}\/\d{2}\/\d{4}$/;

function encountersView(classColumn: string): Record<string, unknown> {
  return {
    resourceType: 'ViewDefinition',
    url: `https://${PRODUCT_DOMAIN.id}.example.nhs.uk/ViewDefinition/${PRODUCT}`,
    name: PRODUCT,
    status: 'active',
    fhirVersion: ['4.0.1'],
    resource: 'Encounter',
    select: [
      {
        column: [
          { name: 'id', path: 'getResourceKey()', type: 'id' },
          { name: 'patient_id', path: 'subject.getReferenceKey(Patient)', type: 'id' },
          { name: classColumn, path: 'class.code', type: 'code' },
          { name: 'start', path: 'period.start', type: 'dateTime' },
        ],
      },
    ],
  };
}

/** Removes what this suite (or an interrupted earlier run) registered: the API has no way to delete a data product. */
async function removeTestRegistrations(): Promise<void> {
  const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
  await client.connect();
  try {
    await client.query(`delete from data_products where name like 'console\\_enc\\_%'`);
    await client.query('delete from consumers where name = $1', [OTHER_OWNER]);
  } finally {
    await client.end();
  }
  await removeDownDomain();
  await api('POST', '/catalogs/reconcile');
}

/** The closed-port domain must not outlive its test: the catalog would carry a dead domain into other suites' queries. */
async function removeDownDomain(): Promise<void> {
  const endpoints = (await api('GET', '/endpoints')).body as { id: string; domain: string }[];
  for (const e of endpoints.filter((e) => e.domain === DOWN_DOMAIN.odsCode)) await api('DELETE', `/endpoints/${e.id}`);
  const removed = await api('DELETE', `/domains/${DOWN_DOMAIN.odsCode}`);
  if (removed.status !== 204 && removed.status !== 404)
    throw new Error(`removing domain ${DOWN_DOMAIN.odsCode}: HTTP ${removed.status} ${JSON.stringify(removed.body)}`);
}

/** An element's text with its white space collapsed, as a reader sees it. */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

async function trinoRows(sql: string): Promise<unknown[][]> {
  const iterator = await trinoClient('fhir-mesh-console-e2e').query({ query: sql, session: { ...AS_STORED_SESSION } });
  const rows: unknown[][] = [];
  for await (const result of iterator) {
    if (result.error) throw new Error(`${result.error.errorName}: ${result.error.message}`);
    rows.push(...((result.data ?? []) as unknown[][]));
  }
  return rows;
}

/** Polls until Trino serves the statement (the catalog sync after a publish takes a moment). */
async function whenServed(sql: string, timeoutMs = 60_000): Promise<unknown[][]> {
  const started = Date.now();
  for (;;) {
    try {
      return await trinoRows(sql);
    } catch (e) {
      if (Date.now() - started > timeoutMs) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

// In-page code is passed as strings: tsx would wrap functions in helpers that do not exist in the page.
const HORIZONTAL_OVERFLOW = 'document.documentElement.scrollWidth - document.documentElement.clientWidth';
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SERIOUS_AXE_VIOLATIONS = `(async () => {
  const { violations } = await axe.run(document, { resultTypes: ['violations'] });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
})()`;
const FOCUSED = `(() => {
  const e = document.activeElement;
  if (!e) return { tag: '', id: '', text: '', outline: 'none', top: -1 };
  const style = getComputedStyle(e);
  return { tag: e.tagName.toLowerCase(), id: e.id, text: (e.textContent || '').trim().slice(0, 80), outline: style.outlineStyle, top: e.getBoundingClientRect().top };
})()`;

describe('web console (headless Chromium)', () => {
  let context: BrowserContext;
  let userDataDir: string;
  /** Content-Security-Policy violations and uncaught page errors seen by any page: there must be none. */
  const pageProblems: string[] = [];

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await removeTestRegistrations();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-mesh-console-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: SIZES[0],
      locale: 'en-US', // not en-GB: the console must format dates the UK way whatever the browser's locale
      timezoneId: 'America/New_York',
    });
    context.on('page', (page) => {
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) pageProblems.push(`CSP: ${message.text()}`);
      });
      page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    // What the browser showed when a test failed, beside the other screenshots.
    const slug = (this.currentTest.title.match(/[a-z0-9]+/gi) ?? []).slice(0, 6).join('-').toLowerCase();
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: path.join(ARTIFACTS, `failed-${slug}-${i}.png`), fullPage: true }).catch(() => undefined);
      await page.close();
    }
  });

  after(async () => {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await removeTestRegistrations();
  });

  async function openConsole(): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize(SIZES[0]);
    const response = await page.goto(CONSOLE_URL);
    expect(response?.status(), `GET ${CONSOLE_URL}`).to.equal(200);
    return page;
  }

  async function signIn(token: string): Promise<Page> {
    const page = await openConsole();
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();
    return page;
  }

  /** Opens a page by its hash route and waits until it has loaded (no loading message left). */
  async function visit(page: Page, route: string, heading: string | RegExp): Promise<void> {
    await page.evaluate(`window.location.hash = ${JSON.stringify(route)}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await page.locator('.loading').first().waitFor({ state: 'detached' });
  }

  /** axe-core in the page: no serious or critical violation. */
  async function expectAccessible(page: Page, what: string): Promise<void> {
    if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(AXE_SOURCE);
    const violations = (await page.evaluate(SERIOUS_AXE_VIOLATIONS)) as string[];
    expect(violations, `axe on ${what}`).to.deep.equal([]);
  }

  /** At each size: no horizontal page scroll, and a full-page screenshot. */
  async function checkSizesAndShoot(page: Page, name: string): Promise<void> {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await page.waitForTimeout(100);
      expect(await page.evaluate(HORIZONTAL_OVERFLOW), `horizontal overflow (px) of ${name} at ${size.width}×${size.height}`).to.be.at.most(0);
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
    }
    await page.setViewportSize(SIZES[0]);
  }

  async function expectUkDates(page: Page, what: string): Promise<number> {
    const shown = await page.locator('time').allTextContents();
    for (const text of shown) expect(text, `a date on ${what}`).to.match(new RegExp(`${UK_DATE_TIME.source}|${UK_DATE.source}`));
    return shown.length;
  }

  it('refuses a wrong token and says what to do', async () => {
    const page = await openConsole();
    await expectAccessible(page, 'the sign-in page');
    await checkSizesAndShoot(page, 'sign-in');
    const field = page.getByLabel('API token');
    expect(await field.getAttribute('type')).to.equal('password');
    await field.fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const shown = await text(alert);
    expect(shown).to.include('That token was not accepted').and.include('unknown or revoked token').and.include('What to do');
    expect(shown).to.include('Check that you pasted the whole token').and.include('ask platform ops for a new one');
    expect(await page.evaluate('sessionStorage.length')).to.equal(0);
    await expectAccessible(page, 'the refused sign-in');
    await checkSizesAndShoot(page, 'sign-in-refused');
    await page.close();
  });

  it('signs in and moves between pages with the keyboard alone, focus always visible', async () => {
    const page = await openConsole();
    const focused = async () => (await page.evaluate(FOCUSED)) as { tag: string; id: string; text: string; outline: string; top: number };
    const tabUntil = async (matches: (f: Awaited<ReturnType<typeof focused>>) => boolean, key = 'Tab') => {
      for (let i = 0; i < 40; i++) {
        const f = await focused();
        if (matches(f)) return f;
        await page.keyboard.press(key);
      }
      throw new Error(`${key} never reached the element; focus is on ${JSON.stringify(await focused())}`);
    };
    await tabUntil((f) => f.id === 'token');
    await page.keyboard.type(opsToken());
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as').waitFor();
    // Arriving on a page moves focus to its heading, so a screen reader announces it.
    await page.getByRole('heading', { level: 1, name: 'Domains' }).waitFor();
    expect((await focused()).tag).to.equal('h1');
    // Back up to the skip link: it shows when focused, and Enter moves focus to the main content.
    const skip = await tabUntil((f) => f.text === 'Skip to main content', 'Shift+Tab');
    expect(skip.top, 'the focused skip link is on screen').to.be.at.least(0);
    expect(skip.outline).to.not.equal('none');
    await page.keyboard.press('Enter');
    expect((await focused()).id).to.equal('main');
    // Into the navigation and on to the data products.
    const link = await tabUntil((f) => f.tag === 'a' && f.text === 'Data products', 'Shift+Tab');
    expect(link.outline, 'a focused link shows its focus').to.not.equal('none');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Data products' }).waitFor();
    await page.locator('.loading').first().waitFor({ state: 'detached' });
    const product = await tabUntil((f) => f.tag === 'a' && f.text === 'condition');
    expect(product.outline).to.not.equal('none');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Data product condition' }).waitFor();
    // Sign out is a button reached and pressed from the keyboard too.
    await tabUntil((f) => f.tag === 'button' && f.text === 'Sign out', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).to.equal(0);
    await page.close();
  });

  it('shows the three demo trusts up and a domain on a closed port down after "Check now"', async () => {
    const port = await closedPort();
    const baseUrl = `http://127.0.0.1:${port}/fhir/cnsl01`;
    expect((await api('POST', '/domains', DOWN_DOMAIN)).status).to.equal(201);
    try {
      const endpoint = await api('POST', '/endpoints', { domain: DOWN_DOMAIN.odsCode, baseUrl });
      expect(endpoint.status, JSON.stringify(endpoint.body)).to.equal(201);
      const page = await signIn(opsToken());
      await visit(page, '#/domains', 'Domains');
      await page.getByRole('button', { name: 'Check now' }).click();
      await page.getByText(/^Checked \d+ endpoint\(s\) at \d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}\.$/).waitFor();
      const down = page.locator(`section[data-domain="${DOWN_DOMAIN.odsCode}"]`);
      const row = down.locator(`tr[data-endpoint="${endpoint.body.id}"]`);
      // The page reloads the domains after the check: the new endpoint is then down (it was unknown before).
      await row.locator('[data-health="down"]').waitFor();

      for (const trust of DOMAINS) {
        const section = page.locator(`section[data-domain="${trust.odsCode}"]`);
        const health = await section.locator('tbody [data-health]').allTextContents();
        expect(health.length, `endpoints of ${trust.odsCode}`).to.be.greaterThan(0);
        expect(
          health.map((h) => h.replace(/\s+/g, ' ').trim()),
          `health of ${trust.odsCode}`,
        ).to.deep.equal(health.map(() => '✓ Up'));
      }
      expect((await text(row.locator('[data-health]'))).trim()).to.match(/Down$/);
      expect(await text(row))
        .to.include(baseUrl)
        .and.match(/unreachable/);
      // The last check is shown the UK way, in London time, although this browser is American.
      const checked = row.locator('time');
      const iso = (await checked.getAttribute('datetime'))!;
      const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
      expect(await text(checked))
        .to.equal(london)
        .and.match(UK_DATE_TIME);
      // The health history of the dead endpoint, opened from the keyboard.
      await down.locator('summary').focus();
      await page.keyboard.press('Enter');
      const history = down.getByRole('region', { name: 'Recent health checks' });
      await history.locator('tbody tr').first().waitFor();
      expect(await text(history.locator('tbody tr').first()))
        .to.match(/Down/)
        .and.match(/unreachable/);
      expect(await expectUkDates(page, 'the domains page')).to.be.greaterThan(DOMAINS.length);
      await expectAccessible(page, 'the domains page');
      await checkSizesAndShoot(page, 'domains');
      await page.close();
    } finally {
      await removeDownDomain();
      await api('POST', '/catalogs/reconcile');
    }
  });

  it('publishes a v2 through the console only after its dry run and diff, and Trino serves it', async () => {
    const privacy = (classColumn: string) => ({
      [PRODUCT]: { id: 'quasi-identifier', patient_id: 'direct-identifier', [classColumn]: 'none', start: 'quasi-identifier' },
    });
    const v1 = await api('POST', '/data-products', {
      name: PRODUCT,
      domain: PRODUCT_DOMAIN.odsCode,
      version: '1.0.0',
      description: 'Encounters, published by the console e2e test.',
      views: [encountersView('class_code')],
      privacy: privacy('class_code'),
    });
    expect(v1.status, JSON.stringify(v1.body)).to.equal(201);

    const page = await signIn(opsToken());
    await visit(page, `#/products/${PRODUCT}`, `Data product ${PRODUCT}`);
    await page.getByRole('link', { name: 'New version' }).click();
    await page.getByRole('heading', { level: 1, name: `New version of ${PRODUCT}` }).waitFor();
    const editor = page.getByLabel('Publication (JSON)');
    const dryRunButton = page.getByRole('button', { name: 'Dry run' });
    const publishButton = page.getByRole('button', { name: 'Publish' });
    const prefilled = JSON.parse(await editor.inputValue());
    expect(prefilled).to.include({ name: PRODUCT, domain: PRODUCT_DOMAIN.odsCode, version: '1.1.0' });
    expect(prefilled.privacy).to.deep.equal(privacy('class_code'));
    expect(await publishButton.isDisabled(), 'Publish before any dry run').to.equal(true);

    // A dry run passes for the unchanged 1.1.0; editing afterwards takes Publish away again.
    await dryRunButton.click();
    await page.getByRole('heading', { name: `Dry run passed: ${PRODUCT} 1.1.0` }).waitFor();
    expect(await publishButton.isEnabled()).to.equal(true);
    const v2 = {
      ...prefilled,
      version: '2.0.0',
      views: [encountersView('encounter_class')],
      privacy: privacy('encounter_class'),
    };
    await editor.fill(JSON.stringify(v2, null, 2));
    expect(await publishButton.isDisabled(), 'Publish after an edit').to.equal(true);
    expect(await text(page.locator('#publish-hint'))).to.include('run the dry run again');

    await dryRunButton.click();
    const result = page.getByRole('region', { name: `Dry run passed: ${PRODUCT} 2.0.0` });
    await result.waitFor();
    const resultText = await text(result);
    expect(resultText).to.include(`This would follow version 1.0.0`).and.include(`${PRODUCT}_v2`);
    expect(await result.locator('.breaking li').allTextContents()).to.satisfy((b: string[]) => b.some((line) => line.includes('class_code')));
    const rows = await result.getByRole('region', { name: 'Rows per view' }).locator('tbody td:nth-child(2)').allTextContents();
    expect(rows).to.have.length(1);
    expect(Number(rows[0])).to.be.greaterThan(0);
    const removed = await result.locator('.diff-removed').allTextContents();
    const added = await result.locator('.diff-added').allTextContents();
    expect(removed.join('\n')).to.include('"class_code"');
    expect(added.join('\n')).to.include('"encounter_class"');
    expect((await result.locator('.diff-file').allTextContents()).join('\n'))
      .to.include(`--- ${PRODUCT}@1.0.0`)
      .and.include(`+++ ${PRODUCT}@2.0.0`);
    expect(await publishButton.isEnabled()).to.equal(true);
    await expectAccessible(page, 'the new version page after a dry run');
    await checkSizesAndShoot(page, 'new-version-dry-run');
    // Nothing was published by the dry runs.
    expect((await api('GET', `/data-products/${PRODUCT}`)).body.versions.map((v: { version: string }) => v.version)).to.deep.equal(['1.0.0']);

    await publishButton.click();
    await page.getByRole('heading', { name: 'Published 2.0.0' }).waitFor();
    expect(await text(page.getByRole('status').filter({ hasText: 'Published 2.0.0' }))).to.include(`fhir.default.${PRODUCT}_v2`);
    await checkSizesAndShoot(page, 'new-version-published');

    // Trino serves v2 with the renamed column, beside v1, over the same encounters as the trust's FHIR server holds.
    const encounters = readResources(PRODUCT_DOMAIN, 'Encounter');
    const [[count, classes]] = (await whenServed(`SELECT count(*), count(encounter_class) FROM fhir.default.${PRODUCT}_v2`)) as [[number, number]];
    expect(count).to.equal(encounters.length);
    expect(classes).to.equal(encounters.filter((e) => (e.class as { code?: string } | undefined)?.code).length);
    const [[same]] = (await trinoRows(
      `SELECT count(*) FROM fhir.default.${PRODUCT}_v2 v2 JOIN fhir.default.${PRODUCT}_v1 v1 ON v1.id = v2.id AND v1.class_code = v2.encounter_class`,
    )) as [[number]];
    expect(same).to.equal(classes);

    await visit(page, `#/products/${PRODUCT}`, `Data product ${PRODUCT}`);
    expect(await text(page.locator('tr[data-version="2.0.0"]'))).to.include('published');
    await page.close();
  });

  it('an owner of another domain neither sees the product nor may open or change it', async () => {
    const created = await api('POST', '/consumers', { name: OTHER_OWNER, kind: 'user', roles: ['data-product-owner'], domain: OTHER_DOMAIN.odsCode });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const token = (await api('POST', `/consumers/${OTHER_OWNER}/token`)).body.token as string;
    const page = await signIn(token);
    const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(nav).to.deep.equal(['Domains', 'Data products']);
    await visit(page, '#/products', 'Data products');
    expect(await page.locator(`tr[data-product="${PRODUCT}"]`).count(), 'the other domain’s product in the list').to.equal(0);
    for (const product of await page.locator('tr[data-product] td:nth-child(2)').allTextContents()) expect(product).to.equal(OTHER_DOMAIN.odsCode);

    await visit(page, `#/products/${PRODUCT}`, `Data product ${PRODUCT}`);
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    const shown = await text(refusal);
    expect(shown).to.include('403').and.include(`belongs to domain ${PRODUCT_DOMAIN.odsCode}`).and.include('What to do');
    await expectAccessible(page, 'a refused product page');
    await checkSizesAndShoot(page, 'owner-refused');

    await visit(page, `#/products/${PRODUCT}/new`, `New version of ${PRODUCT}`);
    expect(await text(page.getByRole('alert'))).to.include('403');
    expect(await page.getByLabel('Publication (JSON)').count(), 'no editor for another domain’s product').to.equal(0);
    await visit(page, '#/queries', 'This page is not available to you');
    await page.close();
  });

  it('every ops page is accessible, fits a laptop and a phone, shows UK dates, and is screenshotted', async () => {
    const alias = `n_console_${Date.now().toString(36)}`;
    const sql = `SELECT count(*) AS ${alias} FROM condition`;
    const answered = await gatewayQuery(sql, { identity: demoIdentity(), catalog: 'fhir', schema: 'default' });
    expect(answered.error, JSON.stringify(answered.error)).to.equal(undefined);
    const analystQuery = { queryId: answered.queryId!, sql, alias };
    const page = await signIn(opsToken());
    const pages: { route: string; heading: string | RegExp; name: string; check?: () => Promise<void> }[] = [
      { route: '#/products', heading: 'Data products', name: 'products' },
      { route: '#/products/condition', heading: 'Data product condition', name: 'product' },
      {
        route: '#/consumers',
        heading: 'Consumers',
        name: 'consumers',
        check: async () => {
          expect(await text(page.locator('tr[data-consumer="alice"]')))
            .to.include('analyst')
            .and.include('research');
        },
      },
      {
        route: '#/budgets',
        heading: 'Privacy budgets',
        name: 'budgets',
        check: async () => {
          expect(await text(page.locator('tr[data-consumer="dana"]').first())).to.match(/10 per month/);
        },
      },
      {
        route: '#/queries',
        heading: 'Queries',
        name: 'queries',
        check: async () => {
          // The analyst's statement just run through the gateway, found by its query id, with its cost and trace id.
          const row = page.locator(`tr[data-query="${analystQuery.queryId}"]`);
          // The gateway writes the end record just after the client's last page: ask again until it is there.
          for (let attempt = 0; attempt < 10 && !(await text(row.locator('.badge'))).includes('finished'); attempt++) {
            await page.waitForTimeout(1000);
            await page.getByRole('button', { name: 'Show', exact: true }).click();
            await page.locator('.loading').first().waitFor({ state: 'detached' });
          }
          const cells = await row.locator('td').allTextContents();
          expect(cells[0]).to.match(UK_DATE_TIME);
          expect(cells.slice(1, 4)).to.deep.equal([DEMO_ANALYST.name, `research (${DEMO_ANALYST.project})`, 'finished']);
          expect(cells[5]).to.equal('1');
          expect(cells[7]).to.match(/^CPU .+ rows, .+ read, peak /);
          expect(cells[8]).to.match(/^[0-9a-f]{32}$/);
          const toggle = row.locator(`button[aria-controls="query-${analystQuery.queryId}"]`);
          expect(await text(toggle)).to.equal(`Show SQL of query ${analystQuery.queryId}`);
          await toggle.focus();
          await page.keyboard.press('Enter');
          expect(await toggle.getAttribute('aria-expanded')).to.equal('true');
          const [sent, rewritten] = await page.locator(`[id="query-${analystQuery.queryId}"] pre.sql`).allTextContents();
          expect(sent).to.equal(analystQuery.sql);
          expect(rewritten).to.include('security_labels').and.include(analystQuery.alias);
        },
      },
      {
        route: '#/audit',
        heading: 'Audit',
        name: 'audit',
        check: async () => {
          const verdict = page.locator('[data-audit-ok]');
          await verdict.waitFor();
          expect(await verdict.getAttribute('data-audit-ok')).to.equal('true');
          expect(await text(verdict))
            .to.match(/The audit chain is intact/)
            .and.match(/[\d,]+ entries checked/);
        },
      },
      {
        route: '#/metrics',
        heading: 'Metrics',
        name: 'metrics',
        check: async () => {
          await page.getByRole('button', { name: 'Read /metrics now' }).click();
          await page.getByText(/^\d+ metric families\.$/).waitFor();
          const shown = await text(page.locator('.metrics pre'));
          expect(shown).to.include('# TYPE fhirmesh_gateway_queries_total counter').and.not.include('process_cpu_user_seconds_total');
        },
      },
    ];
    for (const p of pages) {
      await visit(page, p.route, p.heading);
      expect(await page.getByRole('alert').count(), `an error on ${p.name}: ${await page.getByRole('alert').allTextContents()}`).to.equal(0);
      await p.check?.();
      await expectUkDates(page, p.name);
      await expectAccessible(page, p.name);
      await checkSizesAndShoot(page, p.name);
    }
    await page.close();
  });

  it('runs under the strict Content-Security-Policy with no violation and no page error', async () => {
    const response = await fetch(CONSOLE_URL);
    expect(response.headers.get('content-security-policy')).to.match(/default-src 'self'/);
    expect(pageProblems).to.deep.equal([]);
  });
});
