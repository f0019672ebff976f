// The analysts' door with their real tools: the Trino CLI and the Trino JDBC driver (Maven Central) through
// the SQL gateway (https://127.0.0.1:8443, trusting the mesh's CA), as the demo analyst alice researching in
// project demo-cohort. Every expectation is computed from the NDJSON (gateway/research-truth.ts), never
// from the gateway's policy code, so a rewriting bug shows up as a disagreement.
import { expect } from 'chai';
import { PseudonymKeys, pseudonym } from '../../control-plane/src/gateway/pseudonym-keys';
import { api, DEMO_ANALYST, demoAnalystToken } from '../runtime/demo-registry';
import { type GatewayIdentity, gatewayHeaders, gatewayQuery, httpsRequest } from '../runtime/gateway-client';
import { SECRETS } from '../runtime/secrets';
import { gatewayUrl } from '../runtime/topology';
import { TrinoEngine } from './connector/engines';
import { type ClientLogin, type CliRun, type JdbcResult, trinoCli, trinoJdbc } from './gateway/real-clients';
import { birthYearDate, LeakScanner, linkedRecords, postcodeDistrict, ResearchView } from './gateway/research-truth';

const PURPOSE = 'research';

/** Patients seen at two or more trusts, joined across trusts on the pseudonymised patient key. */
const COHORT_SQL = `SELECT p.domain, p.id AS patient, p.gender, p.birth_date, p.postcode, c.trusts, c.encounters
FROM fhir.default.patient AS p
JOIN (SELECT patient_id, count(DISTINCT domain) AS trusts, count(*) AS encounters
      FROM fhir.default.encounter GROUP BY patient_id HAVING count(DISTINCT domain) >= 2) AS c
  ON c.patient_id = p.id
ORDER BY p.id, p.domain`;
const COHORT_COLUMNS = ['domain', 'patient', 'gender', 'birth_date', 'postcode', 'trusts', 'encounters'];

/** Resource ids of three labelled resource types, to show which labelled resources come through. */
const LINKED_TYPES = { Encounter: 'encounter', Condition: 'condition', Observation: 'observation' } as const;
const IDS_SQL = Object.entries(LINKED_TYPES)
  .map(([type, table]) => `SELECT '${type}' AS resource_type, id FROM fhir.default.${table}`)
  .join('\nUNION ALL ');

/** Another analyst, to show that a query id is only followed by its owner. */
const OTHER_ANALYST = 'gateway-e2e-other-analyst';

const sorted = <T>(values: Iterable<T>): T[] => [...values].sort();
const rowKey = (row: readonly unknown[]): string => JSON.stringify(row);

/** Values, column by column, of the CLI's JSON rows (objects keyed by column name). */
function cliTable(run: CliRun, columns: readonly string[]): unknown[][] {
  return run.rows.map((row) => columns.map((c) => row[c]));
}

function jdbcRows(result: JdbcResult | undefined): { columns: { name: string; type: string }[]; rows: unknown[][] } {
  if (!result || result.error) throw new Error(`JDBC step failed: ${result?.error?.message ?? 'no result'}`);
  return result;
}

/** Differences between two sets of strings, for a readable failure on thousands of ids. */
function difference(actual: Iterable<string>, expected: Iterable<string>): { unexpected: string[]; missing: string[] } {
  const a = new Set(actual);
  const e = new Set(expected);
  return { unexpected: [...a].filter((x) => !e.has(x)).slice(0, 10), missing: [...e].filter((x) => !a.has(x)).slice(0, 10) };
}

describe('SQL gateway with the real Trino CLI and JDBC driver', function () {
  this.timeout(600_000);
  let alice: ClientLogin;
  let projectKey: string;
  let view: ResearchView;
  let scanner: LeakScanner;
  /** The cohort as research in demo-cohort should see it, sorted. */
  let expectedCohort: unknown[][];
  let cliCohort: CliRun;

  before(async () => {
    alice = { user: DEMO_ANALYST.name, token: demoAnalystToken(), credentials: { purpose: PURPOSE, project: DEMO_ANALYST.project } };
    projectKey = new PseudonymKeys(SECRETS.pseudonymKey).forProject(DEMO_ANALYST.project);
    view = new ResearchView();
    scanner = new LeakScanner(view.patients);

    const seen = new Map<string, { domains: Set<string>; encounters: number }>();
    for (const e of view.visible('Encounter')) {
      const entry = seen.get(e.patient.nhsNumber) ?? { domains: new Set<string>(), encounters: 0 };
      entry.domains.add(e.domain);
      entry.encounters++;
      seen.set(e.patient.nhsNumber, entry);
    }
    expectedCohort = view
      .visiblePatients()
      .flatMap((p) => {
        const c = seen.get(p.nhsNumber);
        if (!c || c.domains.size < 2) return [];
        return [
          [
            p.domain,
            pseudonym(projectKey, p.nhsNumber),
            p.gender ?? null,
            birthYearDate(p.birthDate),
            postcodeDistrict(p.homePostcode),
            c.domains.size,
            c.encounters,
          ],
        ];
      })
      .sort((a, b) => rowKey(a).localeCompare(rowKey(b)));

    cliCohort = await trinoCli(COHORT_SQL, alice);
  });

  describe('a cohort query joined across trusts returns pseudonyms and generalised values only', () => {
    let jdbcCohort: unknown[][];
    /** Every column of the patient table, through JDBC (the CLI's JSON output cannot print array columns). */
    let jdbcPatients: { columns: { name: string }[]; rows: unknown[][] };
    let cliIds: CliRun;

    before(async () => {
      const [cohort, patients] = await trinoJdbc([{ query: COHORT_SQL }, { query: 'SELECT * FROM fhir.default.patient' }], alice);
      jdbcCohort = jdbcRows(cohort).rows;
      jdbcPatients = jdbcRows(patients);
      cliIds = await trinoCli(IDS_SQL, alice);
    });

    it('the ground truth has a cross-trust cohort, and opted-out people who would be in it without the opt-out', () => {
      expect(expectedCohort.length, 'cohort rows in the ground truth').to.be.greaterThan(1);
      // Without the opt-out these people would be in the cohort: their absence below is the opt-out at work.
      const optedOutAcrossTrusts = new Map<string, Set<string>>();
      for (const e of linkedRecords('Encounter', view.patients)) {
        const nhs = e.patient?.nhsNumber;
        if (nhs === undefined || !view.optedOutNhsNumbers.has(nhs) || view.restricted(e.labels)) continue;
        optedOutAcrossTrusts.set(nhs, (optedOutAcrossTrusts.get(nhs) ?? new Set()).add(e.domain));
      }
      expect([...optedOutAcrossTrusts.values()].filter((d) => d.size >= 2).length, 'opted-out people seen at two trusts').to.be.greaterThan(0);
    });

    it('through the CLI: exactly the expected rows (pseudonym of the NHS number, 1 January, district)', () => {
      expect(cliCohort.exitCode, cliCohort.stderr).to.equal(0);
      const rows = cliTable(cliCohort, COHORT_COLUMNS);
      expect(rows.sort((a, b) => rowKey(a).localeCompare(rowKey(b)))).to.deep.equal(expectedCohort);
    });

    it('through JDBC: exactly the same rows', () => {
      expect([...jdbcCohort].sort((a, b) => rowKey(a).localeCompare(rowKey(b)))).to.deep.equal(expectedCohort);
    });

    it('the leak scanner finds each kind of identifier it is fed, and nothing in the expected rows', () => {
      const p = view.patients.find((x) => x.nhsNumber && x.homePostcode && x.birthDate && !x.birthDate.endsWith('-01-01'))!;
      const family = (p.resource.name as { family: string }[])[0]!.family;
      const spacedNhs = `${p.nhsNumber!.slice(0, 3)} ${p.nhsNumber!.slice(3, 6)} ${p.nhsNumber!.slice(6)}`;
      for (const cell of [p.nhsNumber, spacedNhs, `Mr ${family}`, p.homePostcode, p.homePostcode!.replace(' ', ''), p.birthDate, p.id]) {
        expect(scanner.scan([[cell]]), `scanning ${cell}`).to.not.be.empty;
      }
      expect(scanner.scan(expectedCohort)).to.deep.equal([]);
    });

    it('no cell from the CLI or JDBC holds an NHS number, a name, a full postcode, a full date of birth or a Patient id', () => {
      expect(jdbcPatients.rows.length, 'patient rows').to.be.greaterThan(0);
      expect(scanner.scan(cliCohort.rows), 'CLI cohort').to.deep.equal([]);
      expect(scanner.scan(jdbcCohort), 'JDBC cohort').to.deep.equal([]);
      expect(scanner.scan(jdbcPatients.rows), 'SELECT * FROM patient').to.deep.equal([]);
      expect(scanner.scan(cliIds.rows), 'resource ids').to.deep.equal([]);
    });

    it('no opted-out patient appears: the patient table holds exactly the pseudonyms of the people not opted out', () => {
      const optedOutPseudonyms = new Set([...view.optedOutNhsNumbers].map((nhs) => pseudonym(projectKey, nhs)));
      expect(optedOutPseudonyms.size).to.be.greaterThan(0);
      const idColumn = jdbcPatients.columns.findIndex((c) => c.name === 'id');
      const shown = jdbcPatients.rows.map((r) => String(r[idColumn]));
      expect(
        shown.filter((id) => optedOutPseudonyms.has(id)),
        'opted-out pseudonyms in patient',
      ).to.deep.equal([]);
      expect(
        cliCohort.rows.filter((r) => optedOutPseudonyms.has(String(r.patient))),
        'opted-out pseudonyms in the cohort',
      ).to.deep.equal([]);
      expect(sorted(shown)).to.deep.equal(sorted(view.visiblePatients().map((p) => pseudonym(projectKey, p.nhsNumber))));
    });

    it('no V-labelled (nor PSY/HIV/SDV-labelled) resource appears; exactly the visible encounters, conditions and observations do', () => {
      expect(cliIds.exitCode, cliIds.stderr).to.equal(0);
      const shown = cliIds.rows.map((r) => `${String(r.resource_type)}/${String(r.id)}`);
      const labelled = Object.keys(LINKED_TYPES).flatMap((type) =>
        linkedRecords(type, view.patients)
          .filter((r) => r.labels.includes('V'))
          .map((r) => `${type}/${r.id}`),
      );
      expect(
        shown.filter((id) => labelled.includes(id)),
        'V-labelled resources through the gateway',
      ).to.deep.equal([]);
      const visible = Object.keys(LINKED_TYPES).flatMap((type) => view.visible(type).map((r) => `${type}/${r.id}`));
      expect(difference(shown, visible)).to.deep.equal({ unexpected: [], missing: [] });
      expect(shown.length, 'no resource twice').to.equal(new Set(shown).size);
    });

    it('positive control: mesh-ops, directly on Trino, sees exactly those V-labelled resources', async () => {
      const direct = await new TrinoEngine().query(
        Object.entries(LINKED_TYPES)
          .map(([type, table]) => `SELECT '${type}', id FROM fhir.default.${table} WHERE contains(security_labels, 'V')`)
          .join(' UNION ALL '),
      );
      const labelled = Object.keys(LINKED_TYPES).flatMap((type) =>
        linkedRecords(type, view.patients)
          .filter((r) => r.labels.includes('V'))
          .map((r) => `${type}/${r.id}`),
      );
      expect(labelled.length, 'V-labelled resources in the NDJSON').to.be.greaterThan(0);
      expect(sorted(direct.rows.map(([type, id]) => `${String(type)}/${String(id)}`))).to.deep.equal(sorted(labelled));
    });
  });

  describe('JDBC metadata and prepared statements see the policy form', () => {
    const ENCOUNTERS_SQL = 'SELECT count(*) FROM fhir.default.encounter WHERE class_code = ? AND start >= ?';
    const SINCE = '2020-01-01 00:00:00';
    let tables: JdbcResult;
    let columns: JdbcResult;
    let selectAll: JdbcResult;
    let ambulatory: JdbcResult;
    let inpatient: JdbcResult;
    let nhsNumbers: JdbcResult;

    /** Encounters of a class since SINCE (UTC): as research sees them, and as stored. */
    function encounterCounts(classCode: string): { policy: number; stored: number } {
      const matches = (r: { resource: Record<string, unknown> }): boolean =>
        (r.resource.class as { code?: string } | undefined)?.code === classCode &&
        Date.parse((r.resource.period as { start: string }).start) >= Date.parse(`${SINCE.replace(' ', 'T')}Z`);
      return { policy: view.visible('Encounter').filter(matches).length, stored: linkedRecords('Encounter', view.patients).filter(matches).length };
    }

    before(async () => {
      [tables, columns, selectAll, ambulatory, inpatient, nhsNumbers] = (await trinoJdbc(
        [
          { tables: { catalog: 'fhir', schema: 'default', table: '%' } },
          { columns: { catalog: 'fhir', schema: 'default', table: 'patient', column: '%' } },
          { query: 'SELECT * FROM fhir.default.patient LIMIT 0' },
          { prepared: ENCOUNTERS_SQL, parameters: ['varchar:AMB', `timestamp:${SINCE}`] },
          { prepared: ENCOUNTERS_SQL, parameters: ['varchar:IMP', `timestamp:${SINCE}`] },
          { prepared: 'SELECT nhs_number FROM fhir.default.patient', parameters: [] },
        ],
        alice,
      )) as [JdbcResult, JdbcResult, JdbcResult, JdbcResult, JdbcResult, JdbcResult];
    });

    it('getTables lists the published tables', () => {
      const names = jdbcRows(tables).rows.map((r) => r[2]);
      expect(names).to.include.members(['patient', 'encounter', 'condition', 'observation', 'consent']);
    });

    it('getColumns shows patient without nhs_number, family_name or given_name, with id, gender, birth_date and postcode', () => {
      const listed = jdbcRows(columns).rows.map((r) => [r[3], r[5]]);
      const names = listed.map(([name]) => name);
      expect(names).to.include.members(['id', 'gender', 'birth_date', 'postcode']);
      expect(names.filter((n) => ['nhs_number', 'family_name', 'given_name'].includes(String(n)))).to.deep.equal([]);
      expect(listed.find(([name]) => name === 'birth_date')?.[1]).to.equal('date');
      // What metadata lists is what a query returns.
      expect(names).to.deep.equal(jdbcRows(selectAll).columns.map((c) => c.name));
    });

    it('a PreparedStatement with parameters counts what research may see (opted-out and labelled encounters excluded)', () => {
      for (const [classCode, result] of [
        ['AMB', ambulatory],
        ['IMP', inpatient],
      ] as const) {
        const { policy, stored } = encounterCounts(classCode);
        expect(policy, `${classCode}: the policy excludes some stored encounters`).to.be.lessThan(stored);
        expect(jdbcRows(result).rows, classCode).to.deep.equal([[policy]]);
      }
    });

    it('a PreparedStatement reading nhs_number fails, saying the column was removed by the privacy policy', () => {
      expect(nhsNumbers.error, 'an error, not rows').to.not.equal(undefined);
      expect(nhsNumbers.error?.message).to.match(/nhs_number/);
      expect(nhsNumbers.error?.message).to.match(/removed from patient by the mesh's privacy policy/);
      expect(scanner.scan([[nhsNumbers.error?.message]])).to.deep.equal([]);
    });
  });

  describe('the CLI prints the gateway refusal and exits non-zero', () => {
    it('DROP TABLE', async () => {
      const run = await trinoCli('DROP TABLE fhir.default.patient', alice);
      expect(run.exitCode).to.not.equal(0);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.include('DROP TABLE is not allowed through the mesh gateway');
    });

    it('a query without a purpose of use', async () => {
      const run = await trinoCli('SELECT count(*) FROM fhir.default.patient', { ...alice, credentials: { project: DEMO_ANALYST.project } });
      expect(run.exitCode).to.not.equal(0);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.include('every query needs a purpose of use: connect with --extra-credential purpose=');
    });
  });

  describe('the query audit records the CLI query', () => {
    // biome-ignore lint/suspicious/noExplicitAny: audit entries as the admin API returns them, read field by field
    let entries: any[];

    before(async () => {
      expect(cliCohort.queryId, `the CLI's query id (stderr: ${cliCohort.stderr})`).to.be.a('string');
      const listed = await api('GET', `/audit?entity=query&entityId=${encodeURIComponent(cliCohort.queryId!)}`);
      expect(listed.status).to.equal(200);
      entries = listed.body;
    });

    it('query.started: alice, purpose, project, original SQL, rewritten SQL with mesh_pseudonym and no key, tables, domains', () => {
      const started = entries.find((e) => e.action === 'query.started');
      expect(started, JSON.stringify(entries)).to.not.equal(undefined);
      expect(started.actor).to.equal(DEMO_ANALYST.name);
      const record = started.after;
      expect({ user: record.user, purpose: record.purpose, project: record.project, sql: record.sql }).to.deep.equal({
        user: DEMO_ANALYST.name,
        purpose: PURPOSE,
        project: DEMO_ANALYST.project,
        sql: COHORT_SQL,
      });
      expect(record.rewrittenSql).to.include('mesh_pseudonym');
      expect(record.rewrittenSql).to.not.include(projectKey);
      expect(record.tables).to.include.members(['fhir.default.patient', 'fhir.default.encounter']);
      expect(sorted(record.domains)).to.deep.equal(['RR8', 'RTH', 'RX1']);
    });

    it('query.finished: the rows the CLI printed and a duration', () => {
      const finished = entries.find((e) => e.action === 'query.finished');
      expect(finished, JSON.stringify(entries)).to.not.equal(undefined);
      expect(finished.after.rows).to.equal(cliCohort.rows.length);
      expect(finished.after.durationMs).to.be.a('number').and.greaterThan(0);
    });

    it('the audit chain verifies', async () => {
      const verified = await api('GET', '/audit/verify');
      expect(verified.status).to.equal(200);
      expect(verified.body.ok, JSON.stringify(verified.body)).to.equal(true);
    });
  });

  describe('a query id can only be followed by the user who started it', () => {
    let other: GatewayIdentity;

    before(async () => {
      if ((await api('GET', `/consumers/${OTHER_ANALYST}`)).status === 404) {
        const created = await api('POST', '/consumers', {
          name: OTHER_ANALYST,
          kind: 'user',
          roles: ['analyst'],
          allowedPurposes: [PURPOSE],
          policies: { projects: [DEMO_ANALYST.project] },
        });
        expect(created.status, JSON.stringify(created.body)).to.equal(201);
      }
      const issued = await api('POST', `/consumers/${OTHER_ANALYST}/token`);
      expect(issued.status, JSON.stringify(issued.body)).to.be.oneOf([200, 201]);
      other = { user: OTHER_ANALYST, token: String(issued.body.token), purpose: PURPOSE, project: DEMO_ANALYST.project };
    });

    it("another analyst gets 404 for alice's nextUri (GET and DELETE); alice then reads her query to the end", async () => {
      const aliceHeaders = gatewayHeaders({});
      const otherHeaders = gatewayHeaders({ identity: other });
      const posted = await httpsRequest('POST', `${gatewayUrl()}/v1/statement`, aliceHeaders, 'SELECT count(*) FROM fhir.default.encounter');
      expect(posted.status).to.equal(200);
      const first = JSON.parse(posted.text) as { id: string; nextUri?: string };
      expect(first.nextUri, posted.text).to.be.a('string');
      expect(first.nextUri!.startsWith(`${gatewayUrl()}/`), first.nextUri).to.equal(true);

      expect((await httpsRequest('GET', first.nextUri!, otherHeaders)).status, 'GET by another analyst').to.equal(404);
      expect((await httpsRequest('DELETE', first.nextUri!, otherHeaders)).status, 'DELETE by another analyst').to.equal(404);
      expect((await httpsRequest('DELETE', `${gatewayUrl()}/v1/query/${first.id}`, otherHeaders)).status, 'DELETE /v1/query by another analyst').to.equal(404);

      // The other analyst is authenticated and may query: the 404s are about whose query it is.
      const own = await gatewayQuery('SELECT 1', { identity: other });
      expect(own.error, JSON.stringify(own.error)).to.equal(undefined);
      expect(own.rows).to.deep.equal([[1]]);

      let nextUri = first.nextUri;
      const rows: unknown[][] = [];
      while (nextUri) {
        const page = await httpsRequest('GET', nextUri, aliceHeaders);
        expect(page.status, page.text).to.equal(200);
        const body = JSON.parse(page.text) as { data?: unknown[][]; nextUri?: string; error?: { message: string } };
        expect(body.error, body.error?.message).to.equal(undefined);
        rows.push(...(body.data ?? []));
        nextUri = body.nextUri;
      }
      expect(rows).to.deep.equal([[view.visible('Encounter').length]]);
    });
  });

  // Break-glass (an active grant returns identifiers and is flagged in the audit; an expired or revoked one
  // does not) is tested through the CLI in gateway-break-glass.e2e.ts.
});
