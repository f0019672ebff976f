// Defence in depth (issue 12, item 5): someone who reaches Trino directly, around the gateway, still cannot
// read direct identifiers, opted-out patients or restricted resources. The control plane writes Trino's
// file-based rules from the registry at every catalog sync (control-plane/src/catalogs/trino-access-rules.ts)
// and Trino rereads them without a restart. Each check runs as the analyst account on Trino itself, with
// the operator (and the gateway's principal) as positive controls, and compares with the NDJSON.

import { expect } from 'chai';
import { Client } from 'pg';
import { api, NATIONAL } from '../runtime/demo-registry';
import { demoIdentity, gatewayQuery } from '../runtime/gateway-client';
import { connectionString } from '../runtime/postgres';
import { runningPid } from '../runtime/processes';
import { DOMAINS, postgres } from '../runtime/topology';
import { TRINO_USERS } from '../runtime/trino-security';
import { type AccessLine, linesSince, logLength } from './connector/access-log';
import { TrinoEngine } from './connector/engines';
import { nhsNumberOf, optedOut, type Resource, readResources, securityCodes } from './ground-truth';

const analyst = new TrinoEngine(TRINO_USERS.analyst);
const ops = new TrinoEngine(TRINO_USERS.ops);
/** V always, and every sensitivity label: no purpose is known to Trino, so the strictest applies. */
const RESTRICTED = ['V', 'PSY', 'HIV', 'SDV'];
/** The policy form of fhir.default.patient: names and the NHS number gone, the rest kept or masked. */
const PATIENT_POLICY_COLUMNS = [
  'domain',
  'id',
  'gender',
  'birth_date',
  'postcode',
  'deceased_at',
  'managing_organization_id',
  'last_updated',
  'security_labels',
];
const PROBE = 'direct_access_probe';

async function refusal(engine: TrinoEngine, sql: string): Promise<string> {
  try {
    await engine.query(sql);
  } catch (e) {
    return (e as Error).message.split('\n')[0] ?? '';
  }
  throw new Error(`${engine.user} was allowed: ${sql}`);
}

function isRestricted(resource: Resource): boolean {
  return securityCodes(resource).some((c) => RESTRICTED.includes(c.slice(c.lastIndexOf('|') + 1)));
}

/** Patients whose rows an analyst may see: an NHS number, no restricted label, no national opt-out. */
function visiblePatientIds(): Set<string> {
  const out = optedOut();
  const ids = new Set<string>();
  for (const d of DOMAINS) {
    for (const p of readResources(d, 'Patient')) {
      const nhs = nhsNumberOf(p);
      if (nhs && !isRestricted(p) && !out.nhsNumbers.has(nhs)) ids.add(p.id);
    }
  }
  return ids;
}

function subjectId(resource: Resource): string | undefined {
  return /^Patient\/(.+)$/.exec((resource.subject as { reference?: string } | undefined)?.reference ?? '')?.[1];
}

const key = (domain: unknown, id: unknown): string => `${String(domain)} ${String(id)}`;

async function columnsOf(engine: TrinoEngine, table: string): Promise<string[]> {
  return (await engine.query(`DESCRIBE fhir.default.${table}`)).rows.map((r) => String(r[0]));
}

async function registry(sql: string, params: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: connectionString(postgres.registryDatabase) });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** The API has no way to delete a published product: direct SQL, then a sync rewrites the files. */
async function removeProbe(): Promise<void> {
  await registry('delete from data_products where name = $1', [PROBE]);
  await api('POST', '/catalogs/reconcile');
}

function probeVersion(version: string, extra: { name: string; path: string; tag: string }[]): Record<string, unknown> {
  const columns = [
    { name: 'id', path: 'getResourceKey()', type: 'id', tag: 'none' },
    { name: 'gender', path: 'gender', type: 'code', tag: 'none' },
    { name: 'security_labels', path: 'meta.security.code', type: 'code', collection: true, tag: 'none' },
    ...extra.map((c) => ({ ...c, type: 'string' })),
  ];
  return {
    name: PROBE,
    domain: NATIONAL.odsCode,
    version,
    description: 'Defence-in-depth probe (e2e).',
    sources: DOMAINS.map((d) => d.odsCode),
    views: [
      {
        resourceType: 'ViewDefinition',
        url: `https://fhir-mesh.nhs.uk/ViewDefinition/${PROBE}`,
        name: PROBE,
        status: 'active',
        fhirVersion: ['4.0.1'],
        resource: 'Patient',
        select: [{ column: columns.map(({ tag: _tag, ...c }) => c) }],
      },
    ],
    privacy: { [PROBE]: Object.fromEntries(columns.map((c) => [c.name, c.tag])) },
  };
}

describe('Trino itself, reached around the gateway, serves only the policy form', function () {
  this.timeout(300_000);

  it('hides direct identifiers: naming one fails, and DESCRIBE, information_schema and system.jdbc show what the gateway shows', async () => {
    for (const column of ['nhs_number', 'family_name', 'given_name']) {
      expect(await refusal(analyst, `SELECT ${column} FROM fhir.default.patient`), column).to.match(/Access Denied: Cannot select from (table|columns)/);
    }
    // Trino expands * over every column and then refuses the hidden ones: no row, no identifier.
    expect(await refusal(analyst, 'SELECT * FROM fhir.default.patient')).to.match(/Access Denied/);
    expect((await ops.query('SELECT nhs_number FROM fhir.default.patient WHERE nhs_number IS NOT NULL LIMIT 1')).rows).to.have.length(1);

    expect(await columnsOf(analyst, 'patient')).to.deep.equal(PATIENT_POLICY_COLUMNS);
    const schema = await analyst.query(
      "SELECT column_name FROM fhir.information_schema.columns WHERE table_schema = 'default' AND table_name = 'patient' ORDER BY ordinal_position",
    );
    expect(schema.rows.map((r) => r[0])).to.deep.equal(PATIENT_POLICY_COLUMNS);
    const jdbc = await analyst.query(
      "SELECT column_name FROM system.jdbc.columns WHERE table_cat = 'fhir' AND table_schem = 'default' AND table_name = 'patient' ORDER BY ordinal_position",
    );
    expect(jdbc.rows.map((r) => r[0])).to.deep.equal(PATIENT_POLICY_COLUMNS);
    const throughGateway = await gatewayQuery('DESCRIBE fhir.default.patient', { identity: demoIdentity() });
    expect(throughGateway.error, JSON.stringify(throughGateway.error)).to.equal(undefined);
    expect(throughGateway.rows.map((r) => r[0])).to.deep.equal(PATIENT_POLICY_COLUMNS);
    expect(await columnsOf(ops, 'patient')).to.include.members(['nhs_number', 'family_name', 'given_name']);
  });

  it('masks patient keys to NULL and generalises birth dates to the year and postcodes to the district', async () => {
    const mine = await analyst.query('SELECT id, birth_date, postcode FROM fhir.default.patient');
    expect(mine.rows.length).to.be.greaterThan(50);
    const fullPostcodes = new Set(
      DOMAINS.flatMap((d) => readResources(d, 'Patient')).flatMap((p) => ((p.address ?? []) as { postalCode?: string }[]).map((a) => a.postalCode)),
    );
    for (const [id, birthDate, postcode] of mine.rows) {
      expect(id).to.equal(null);
      if (birthDate !== null) expect(String(birthDate)).to.match(/^\d{4}-01-01$/);
      if (postcode !== null) {
        expect(String(postcode)).to.match(/^[A-Z]{1,2}\d[A-Z\d]?$/);
        expect(fullPostcodes.has(String(postcode))).to.equal(false);
      }
    }
    expect(mine.rows.filter((r) => r[2] !== null).length, 'districts returned').to.be.greaterThan(0);
    const stored = await ops.query("SELECT count(id), count_if(day(birth_date) <> 1), count_if(postcode LIKE '% %') FROM fhir.default.patient");
    for (const n of stored.rows[0]!) expect(Number(n), 'the operator sees stored values').to.be.greaterThan(0);

    const keys = await analyst.query('SELECT count(*), count(patient_id) FROM fhir.default.encounter');
    expect(Number(keys.rows[0]![0])).to.be.greaterThan(0);
    expect(Number(keys.rows[0]![1])).to.equal(0);
  });

  it('returns exactly the ground truth minus restricted resources, restricted or unidentified patients and national opt-outs', async () => {
    const visible = visiblePatientIds();
    const out = optedOut();
    const encounters = DOMAINS.flatMap((d) => readResources(d, 'Encounter').map((e) => ({ d, e, key: key(d.odsCode, e.id) })));
    const expected = encounters.filter(({ e }) => !isRestricted(e) && visible.has(subjectId(e) ?? '')).map((x) => x.key);
    const restricted = new Set(encounters.filter(({ e }) => isRestricted(e)).map((x) => x.key));
    const ofOptedOut = new Set(encounters.filter(({ d, e }) => out.patientIds.get(d.id)?.has(subjectId(e) ?? '')).map((x) => x.key));
    expect(restricted.size, 'restricted encounters in the ground truth').to.be.greaterThan(0);
    expect(ofOptedOut.size, "opted-out patients' encounters in the ground truth").to.be.greaterThan(0);

    const started = logLength();
    const mine = (await analyst.query('SELECT domain, id FROM fhir.default.encounter')).rows.map(([d, id]) => key(d, id));
    expect(
      mine.filter((k) => restricted.has(k)),
      'restricted encounters returned',
    ).to.deep.equal([]);
    expect(
      mine.filter((k) => ofOptedOut.has(k)),
      "opted-out patients' encounters returned",
    ).to.deep.equal([]);
    expect([...mine].sort()).to.deep.equal([...expected].sort());

    // The label exclusions reached the FHIR servers as search parameters (other clients may log searches too).
    const excluding = (line: AccessLine) => RESTRICTED.every((label) => line.params.some(([k, v]) => k === '_security:not' && v === label));
    const searches = linesSince(started).filter((l) => l.resourceType === 'Encounter');
    expect(
      searches
        .filter(excluding)
        .map((l) => l.domain)
        .sort(),
      searches.map((l) => l.raw).join('\n'),
    ).to.include.members(DOMAINS.map((d) => d.id));

    // Positive control: the operator reads both kinds.
    const all = new Set((await ops.query('SELECT domain, id FROM fhir.default.encounter')).rows.map(([d, id]) => key(d, id)));
    expect([...restricted].some((k) => all.has(k)) && [...ofOptedOut].some((k) => all.has(k))).to.equal(true);

    const patients = await analyst.query('SELECT count(*) FROM fhir.default.patient');
    expect(Number(patients.rows[0]![0])).to.equal(visible.size);
    console.log(`      direct: ${mine.length} of ${encounters.length} encounters, ${visible.size} patients visible`);
  });

  it("leaves the gateway's principal as it was: the gateway's answer has the same rows, with pseudonyms", async () => {
    const direct = await analyst.query('SELECT count(*) FROM fhir.default.encounter');
    const gateway = await gatewayQuery('SELECT count(*), count(patient_id), count(DISTINCT patient_id) FROM fhir.default.encounter', {
      identity: demoIdentity(),
    });
    expect(gateway.error, JSON.stringify(gateway.error)).to.equal(undefined);
    const [rows, keyed, distinct] = gateway.rows[0]!.map(Number);
    expect(rows).to.equal(Number(direct.rows[0]![0]));
    // Pseudonyms need the NHS number, which only a principal reading the patient table as stored has.
    expect(keyed).to.equal(rows);
    expect(distinct).to.be.greaterThan(1);
  });

  describe('a new product version', () => {
    before(removeProbe);
    after(removeProbe);

    it('reaches the analyst in its policy form within seconds, without a restart, and never unmasked in between', async () => {
      const trinoPid = runningPid('trino');
      expect(trinoPid, 'Trino is running').to.be.a('number');
      let published = Date.now();
      const first = await api('POST', '/data-products', probeVersion('1.0.0', []));
      expect(first.status, JSON.stringify(first.body)).to.equal(201);
      const firstAnswered = Date.now();
      await waitFor(async () => (await columnsOf(analyst, PROBE)).includes('gender'));
      const firstMs = Date.now() - published;
      const firstAfterMs = Date.now() - firstAnswered;
      expect(await columnsOf(analyst, PROBE)).to.deep.equal(['domain', 'id', 'gender', 'security_labels']);

      // v1.1.0 adds two direct identifiers. Watch the analyst's view throughout: the new columns must
      // never show unmasked, not even between the connector reading the mapping and Trino the rules.
      const leaks: string[] = [];
      let looks = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          looks++;
          const columns = await columnsOf(analyst, PROBE).catch((): string[] => []);
          if (columns.includes('family_name')) leaks.push(`DESCRIBE lists family_name: ${columns.join(', ')}`);
          // SELECT * is refused while any column is hidden; answered, it must hold no stored value.
          const values = await analyst.query(`SELECT * FROM fhir.default.${PROBE} WHERE postcode IS NOT NULL LIMIT 20`).catch(() => undefined);
          if (values?.columns.some((c) => c.name === 'family_name')) leaks.push('SELECT * answered with family_name');
          const at = values?.columns.findIndex((c) => c.name === 'postcode') ?? -1;
          if (values && at >= 0 && values.rows.some((r) => String(r[at]).includes(' '))) leaks.push('a full postcode');
        }
      })();
      published = Date.now();
      const second = await api(
        'POST',
        '/data-products',
        probeVersion('1.1.0', [
          { name: 'family_name', path: "name.where(use='official').family.first()", tag: 'direct-identifier' },
          { name: 'postcode', path: "address.where(use='home').postalCode.first()", tag: 'direct-identifier' },
        ]),
      );
      const secondAnswered = Date.now();
      expect(second.status, JSON.stringify(second.body)).to.equal(201);
      await waitFor(async () => (await columnsOf(analyst, PROBE)).includes('postcode'));
      const secondMs = Date.now() - published;
      const secondAfterMs = Date.now() - secondAnswered;
      watching = false;
      await watcher;

      expect(await columnsOf(analyst, PROBE)).to.deep.equal(['domain', 'id', 'gender', 'security_labels', 'postcode']);
      expect(leaks, 'what the analyst saw in between').to.deep.equal([]);
      expect(await refusal(analyst, `SELECT family_name FROM fhir.default.${PROBE}`)).to.match(/Access Denied/);
      expect(runningPid('trino'), 'the same Trino process throughout').to.equal(trinoPid);
      expect(await columnsOf(ops, PROBE)).to.include.members(['family_name', 'postcode']);
      const districts = await analyst.query(`SELECT postcode FROM fhir.default.${PROBE} WHERE postcode IS NOT NULL`);
      expect(districts.rows.length).to.be.greaterThan(0);
      for (const [p] of districts.rows) expect(String(p)).to.match(/^[A-Z]{1,2}\d[A-Z\d]?$/);
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `      analyst's view after publishing (request -> view; publish answer -> view): new table ${s(firstMs)}, ${s(firstAfterMs)}; ` +
          `new version ${s(secondMs)}, ${s(secondAfterMs)}; ${looks} looks in between`,
      );
      // The publish call itself waits for Trino to hold the new rules before the mapping changes.
      expect(secondAfterMs, 'the policy form follows the publish answer').to.be.lessThan(10_000);
    });
  });
});

/** Polls until the check holds (errors count as not yet); returns the number of polls. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  for (let polls = 1; ; polls++) {
    if (await check().catch(() => false)) return polls;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
