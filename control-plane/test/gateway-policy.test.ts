// The gateway's pure core: what each column becomes (column-treatments.ts), the policy form of a table
// (policy-form.ts), and what the rewriter does with a statement (statement-rewriter.ts + query-policy.ts),
// over the demo's real mappings and privacy tags.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { AccessDenied, GatewayAccess, parseExtraCredentials } from '../src/gateway/access';
import { defaultGatewayPolicy, type GatewayConfig, patientExclusionSession } from '../src/gateway/gateway-config';
import { columnTreatment, viewColumns } from '../src/gateway/policy/column-treatments';
import type { MeshTable } from '../src/gateway/policy/mesh-tables';
import { type PolicyContext, type PolicySources, policyForm, referenceTables } from '../src/gateway/policy/policy-form';
import { QueryPolicy } from '../src/gateway/policy/query-policy';
import { MAX_BRACKET_DEPTH, MAX_TOKENS, originalPosition, type Rewrite, rewriteStatement } from '../src/gateway/rewrite/statement-rewriter';
import { failedQueryResults, forwardedRequestHeaders, parseEncodedPairs, protocolError } from '../src/gateway/trino-protocol';

const ROOT = path.resolve(__dirname, '..', '..');
const GATEWAY = defaultGatewayPolicy('fhir');
const SOURCES: PolicySources = { catalog: 'fhir', schema: 'default', patientIndex: GATEWAY.patientIndex, optOut: GATEWAY.optOut };
const RESEARCH: PolicyContext = { excludedLabels: ['V', 'PSY', 'HIV', 'SDV'], breakGlass: false };
const RESEARCH_RULES = GATEWAY.purposes.research!;

function demoTables(): Map<string, MeshTable> {
  const { tags } = JSON.parse(fs.readFileSync(path.join(ROOT, 'control-plane', 'demo', 'privacy-tags.json'), 'utf8'));
  const tables = new Map<string, MeshTable>();
  for (const file of fs.readdirSync(path.join(ROOT, 'sql-mappings')).filter((f) => f.endsWith('.json'))) {
    const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'sql-mappings', file), 'utf8'));
    tables.set(m.table, { table: m.table, view: m.view, tags: tags[m.table] ?? {}, domains: ['RR8', 'RTH', 'RX1'] });
  }
  return tables;
}

const TABLES = demoTables();

function rewrite(sql: string, context: PolicyContext = RESEARCH, session = { catalog: 'fhir', schema: 'default' }): Rewrite {
  return rewriteStatement(sql, { session, resolver: new QueryPolicy(TABLES, SOURCES, context), sessionProperties: new Set(GATEWAY.sessionProperties) });
}

function rewritten(sql: string, context?: PolicyContext): string {
  const r = rewrite(sql, context);
  if (!r.ok) throw new Error(`refused: ${r.refusal.message}`);
  return r.sql;
}

function refusal(sql: string): string {
  const r = rewrite(sql);
  if (r.ok) throw new Error(`not refused; rewritten to ${r.sql}`);
  return r.refusal.message;
}

describe('gateway: column treatments', () => {
  const column = (name: string, ...paths: string[]) => ({ name, paths });

  it('pseudonymises Patient keys whatever their tag (own key of a Patient view, any reference to a Patient)', () => {
    expect(columnTreatment('Patient', column('id', 'getResourceKey()'), 'none')).to.deep.equal({ kind: 'pseudonym', of: 'patient' });
    expect(columnTreatment('Encounter', column('patient_id', 'subject.getReferenceKey(Patient)'), 'quasi-identifier')).to.deep.equal({
      kind: 'pseudonym',
      of: 'patient-reference',
    });
    // An Encounter's own key is not a patient's.
    expect(columnTreatment('Encounter', column('id', 'getResourceKey()'), 'quasi-identifier')).to.deep.equal({ kind: 'keep' });
  });

  // sql-mappings/medication_request.json reads reason_condition_id as `reasonReference.getReferenceKey(Condition).first()`:
  // kept as it was, the id of a hidden PSY Condition reached research analysts.
  it('sees a reference (to a Patient or a clinical resource) through .first() / .last() / .single()', () => {
    expect(
      columnTreatment('MedicationRequest', column('reason_condition_id', 'reasonReference.getReferenceKey(Condition).first()'), 'quasi-identifier'),
    ).to.deep.equal({
      kind: 'reference',
      resource: 'Condition',
    });
    expect(columnTreatment('Observation', column('encounter_id', 'encounter.getReferenceKey(Encounter).single()'), 'quasi-identifier')).to.deep.equal({
      kind: 'reference',
      resource: 'Encounter',
    });
    expect(columnTreatment('Observation', column('patient_id', 'subject.getReferenceKey(Patient).first()'), 'quasi-identifier')).to.deep.equal({
      kind: 'pseudonym',
      of: 'patient-reference',
    });
    expect(columnTreatment('MedicationRequest', column('requester_id', 'requester.getReferenceKey(Practitioner).last()'), 'quasi-identifier')).to.deep.equal({
      kind: 'keep',
    });
  });

  it('removes a column that is a Patient key in some rows only (unionAll), whatever its tag', () => {
    const mixed = column('who', 'subject.getReferenceKey(Patient)', 'performer.reference');
    expect(columnTreatment('Observation', mixed, 'none')).to.deep.equal({ kind: 'remove', reason: 'a Patient key in some rows and another value in others' });
  });

  it('removes a path reading the NHS number system whatever its tag', () => {
    const nhs = column('x', "identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').value.first()");
    expect(columnTreatment('Patient', nhs, 'none').kind).to.equal('remove');
  });

  it('generalises birthDate and postcodes tagged direct-identifier, removes other direct identifiers and untagged columns', () => {
    expect(columnTreatment('Patient', column('birth_date', 'birthDate'), 'direct-identifier').kind).to.equal('birth-year');
    expect(columnTreatment('Patient', column('postcode', "address.where(use='home').postalCode.first()"), 'direct-identifier').kind).to.equal(
      'postcode-district',
    );
    expect(columnTreatment('Patient', column('family_name', 'name.family.first()'), 'direct-identifier').kind).to.equal('remove');
    expect(columnTreatment('Patient', column('gender', 'gender'), undefined).kind).to.equal('remove');
    expect(columnTreatment('Patient', column('gender', 'gender'), 'quasi-identifier').kind).to.equal('keep');
  });

  it('reads columns through nested select, forEach and unionAll', () => {
    const view = {
      select: [
        { column: [{ name: 'a', path: 'x' }] },
        { forEach: 'y', select: [{ column: [{ name: 'b', path: 'z' }] }] },
        { unionAll: [{ column: [{ name: 'c', path: 'p' }] }, { column: [{ name: 'c', path: 'q' }] }] },
      ],
    };
    expect(viewColumns(view)).to.deep.equal([
      { name: 'a', paths: ['x'] },
      { name: 'b', paths: ['z'] },
      { name: 'c', paths: ['p', 'q'] },
    ]);
  });
});

describe('gateway: policy form of a table', () => {
  const patient = TABLES.get('patient')!;
  const encounter = TABLES.get('encounter')!;

  it('keeps names and order, removes names and the NHS number, generalises birth date and postcode', () => {
    const form = policyForm(patient, SOURCES, RESEARCH);
    expect(form.ok).to.equal(true);
    if (!form.ok) return;
    expect(form.removed.map((r) => r.name)).to.deep.equal(['nhs_number', 'family_name', 'given_name']);
    expect(form.sql).to.include('mesh_pseudonym("mesh$r"."nhs_number") AS "id"');
    expect(form.sql).to.include(`date_trunc('year', "mesh$r"."birth_date") AS "birth_date"`);
    expect(form.sql).to.match(/substr\(upper\(replace\("mesh\$r"\."postcode", ' ', ''\)\), 1, length/);
    expect(form.sql).not.to.match(/"family_name"|"given_name"/);
  });

  it("excludes every excluded label with a pushable NOT contains, and reads the NHS number from the row's own patient", () => {
    const form = policyForm(encounter, SOURCES, RESEARCH);
    if (!form.ok) throw new Error(form.reason);
    for (const label of ['V', 'PSY', 'HIV', 'SDV']) {
      expect(form.sql).to.include(`NOT contains("mesh$r".security_labels, '${label}')`);
    }
    expect(form.sql).to.include(
      'JOIN "fhir"."default"."patient" AS "mesh$p" ON "mesh$p"."id" = "mesh$r"."patient_id" AND "mesh$p"."domain" = "mesh$r"."domain"',
    );
    expect(form.sql).to.include('mesh_pseudonym("mesh$p"."nhs_number") AS "patient_id"');
  });

  it('leaves opted-out patients to the connector: no opt-out or patient-label predicate in SQL an analyst could probe', () => {
    const form = policyForm(encounter, SOURCES, RESEARCH);
    if (!form.ok) throw new Error(form.reason);
    expect(form.sql).not.to.include('consent');
    expect(form.sql).not.to.include('"mesh$p"."security_labels"');
    expect(patientExclusionSession('fhir', RESEARCH_RULES, ['V', 'PSY', 'HIV', 'SDV'])).to.deep.equal([
      ['fhir.apply_opt_outs', 'true'],
      ['fhir.excluded_patient_labels', 'V,PSY,HIV,SDV'],
      ['fhir.exclude_patients_without_nhs_number', 'true'],
    ]);
    expect(patientExclusionSession('fhir', GATEWAY.purposes['direct-care']!, ['V'])).to.deep.equal([
      ['fhir.apply_opt_outs', 'false'],
      ['fhir.excluded_patient_labels', 'V'],
      ['fhir.exclude_patients_without_nhs_number', 'false'],
    ]);
  });

  it('under break-glass returns stored values and needs no patient join', () => {
    const form = policyForm(encounter, SOURCES, { excludedLabels: ['V'], breakGlass: true });
    if (!form.ok) throw new Error(form.reason);
    expect(form.sql).not.to.include('mesh_pseudonym');
    expect(form.sql).not.to.include('JOIN');
    expect(form.sql).to.include(`NOT contains("mesh$r".security_labels, 'V')`);
    const patientForm = policyForm(patient, SOURCES, { excludedLabels: ['V'], breakGlass: true });
    if (!patientForm.ok) throw new Error(patientForm.reason);
    expect(patientForm.removed).to.deep.equal([]);
    expect(patientForm.sql).to.include('"mesh$r"."nhs_number" AS "nhs_number"');
  });

  it('keeps a reference to a clinical resource only where that resource is visible, NULL elsewhere', () => {
    const condition = TABLES.get('condition')!;
    const withTargets = { ...SOURCES, referenceTables: referenceTables(TABLES.values()) };
    expect(withTargets.referenceTables.get('Encounter')).to.deep.equal({ table: 'encounter', idColumn: 'id' });
    // observation_component repeats resources (forEach): never a reference table.
    expect([...withTargets.referenceTables.values()].map((t) => t.table)).not.to.include('observation_component');
    const form = policyForm(condition, withTargets, RESEARCH);
    if (!form.ok) throw new Error(form.reason);
    expect(form.sql).to.include('CASE WHEN "mesh$ref0".id IS NOT NULL THEN "mesh$r"."encounter_id" END AS "encounter_id"');
    expect(form.sql).to.include(
      `LEFT JOIN (SELECT "id" AS id, "domain" AS domain FROM "fhir"."default"."encounter" WHERE NOT contains(security_labels, 'V') AND NOT contains(security_labels, 'PSY')`,
    );
    // Without a table to check against, the reference is removed rather than shown unchecked.
    const unchecked = policyForm(condition, { ...SOURCES, referenceTables: new Map() }, RESEARCH);
    expect(unchecked.ok && unchecked.removed.find((r) => r.name === 'encounter_id')?.reason).to.match(/a reference to Encounter/);
    // Organisations are not labelled and belong to no patient: kept as they are.
    const encounter = policyForm(TABLES.get('encounter')!, withTargets, RESEARCH);
    expect(encounter.ok && encounter.sql).to.include('"mesh$r"."service_provider_id" AS "service_provider_id"');
  });

  it('refuses tables it cannot make safe, saying why', () => {
    const noLabels = { ...encounter, view: { ...encounter.view, select: [{ column: [{ name: 'patient_id', path: 'subject.getReferenceKey(Patient)' }] }] } };
    expect(policyForm(noLabels, SOURCES, RESEARCH)).to.deep.include({ ok: false });
    const labels = { name: 'security_labels', path: 'meta.security.code', collection: true };
    const noPatient = { ...encounter, view: { resource: 'Encounter', select: [{ column: [{ name: 'status', path: 'status' }, labels] }] } };
    const refused = policyForm(noPatient, SOURCES, RESEARCH);
    expect(refused.ok ? '' : refused.reason).to.match(/without a Patient key column, so opted-out patients could not be excluded/);
    const twoKeys = {
      ...encounter,
      view: {
        resource: 'Encounter',
        select: [{ column: [{ name: 'a', path: 'subject.getReferenceKey(Patient)' }, { name: 'b', path: 'x.getReferenceKey(Patient)' }, labels] }],
      },
    };
    const refusedTwo = policyForm(twoKeys, SOURCES, RESEARCH);
    expect(refusedTwo.ok ? '' : refusedTwo.reason).to.match(/2 Patient key columns/);
    const organisation = {
      ...encounter,
      view: { resource: 'Organization', select: [{ column: [{ name: 'name', path: 'name' }, labels] }] },
      tags: { name: 'none' },
    };
    expect(policyForm(organisation as MeshTable, SOURCES, RESEARCH).ok).to.equal(true);
  });
});

describe('gateway: statement rewriting', () => {
  it('replaces a mesh table by its policy form, keeping a written alias or naming the subquery after the table', () => {
    const aliased = rewritten('SELECT e.status FROM fhir.default.encounter e');
    expect(aliased).to.match(/^SELECT e\.status FROM \(SELECT .* FROM "fhir"\."default"\."encounter" AS "mesh\$r" .*\) e$/);
    const bare = rewritten('SELECT patient.gender FROM patient');
    expect(bare).to.match(/\) AS "patient"$/);
  });

  it('keeps a WITH query that shadows a table name as the analyst wrote it, and rewrites the table inside its body', () => {
    const sql = 'WITH patient AS (SELECT gender FROM fhir.default.patient) SELECT * FROM patient';
    const out = rewritten(sql);
    expect(out.startsWith('WITH patient AS (SELECT gender FROM (SELECT ')).to.equal(true);
    expect(out.endsWith(') AS "patient") SELECT * FROM patient')).to.equal(true);
  });

  it("rewrites TABLE t, EXECUTE IMMEDIATE text and reports a PREPARE with the analyst's own text", () => {
    expect(rewritten('TABLE fhir.default.patient')).to.match(/^\(SELECT \* FROM \(SELECT .*\) AS "patient"\)$/);
    const immediate = rewritten("EXECUTE IMMEDIATE 'SELECT count(*) FROM fhir.default.patient WHERE gender = ?' USING 'male'");
    expect(immediate).to.match(/^EXECUTE IMMEDIATE 'SELECT count\(\*\) FROM \(SELECT .*mesh_pseudonym.*\) AS "patient" WHERE gender = \?' USING 'male'$/);
    const prepared = rewrite('PREPARE q FROM SELECT gender FROM fhir.default.patient');
    expect(prepared.ok && prepared.prepared).to.deep.equal({ name: 'q', sql: 'SELECT gender FROM fhir.default.patient' });
    expect(prepared.ok && prepared.sql).to.match(/^PREPARE q FROM SELECT gender FROM \(SELECT /);
  });

  it('answers SHOW COLUMNS and DESCRIBE from the policy form, and filters removed columns out of column metadata', () => {
    for (const sql of ['SHOW COLUMNS FROM fhir.default.patient', 'DESCRIBE patient', 'DESC fhir.default.patient']) {
      const out = rewritten(sql);
      expect(out).to.match(/^SELECT column_name AS "Column", data_type AS "Type"/);
      expect(out).to.include(`column_name NOT IN ('nhs_number', 'family_name', 'given_name')`);
    }
    for (const table of ['fhir.information_schema.columns', 'system.jdbc.columns']) {
      const out = rewritten(`SELECT * FROM ${table}`);
      expect(out).to.include(`('patient', 'nhs_number')`);
    }
    expect(rewritten('SELECT * FROM system.jdbc.tables')).to.equal('SELECT * FROM system.jdbc.tables');
  });

  it('lets through what clients need: USE, SHOW, time zone, transactions, DESCRIBE OUTPUT, DEALLOCATE', () => {
    for (const sql of [
      'USE fhir.default',
      'SHOW TABLES FROM fhir.default',
      'SHOW CATALOGS',
      'SHOW FUNCTIONS',
      "SET TIME ZONE 'Europe/London'",
      "SET SESSION query_max_run_time = '10m'",
      'START TRANSACTION READ ONLY',
      'COMMIT',
      'DESCRIBE OUTPUT q',
      'DEALLOCATE PREPARE q',
      'EXECUTE q USING 1',
      'EXPLAIN (TYPE DISTRIBUTED) SELECT 1',
      'EXPLAIN SELECT count(*) FROM fhir.default.patient',
    ]) {
      expect(rewrite(sql).ok, sql).to.equal(true);
    }
  });

  it('refuses DDL, DML, identity and path changes, inline session and function definitions, naming what is allowed', () => {
    for (const [sql, fragment] of [
      ['INSERT INTO fhir.default.patient SELECT * FROM fhir.default.patient', 'INSERT is not allowed'],
      ['CREATE TABLE x AS SELECT 1', 'CREATE TABLE is not allowed'],
      ['DROP TABLE fhir.default.patient', 'DROP TABLE is not allowed'],
      ['DELETE FROM fhir.default.patient', 'DELETE is not allowed'],
      ['SET ROLE admin', 'SET ROLE is not allowed'],
      ["SET SESSION AUTHORIZATION 'mesh-ops'", 'SET SESSION AUTHORIZATION is not allowed'],
      ['SET PATH system.builtin', 'SET PATH is not allowed'],
      ["SET SESSION query_max_memory = '1GB'", 'session property query_max_memory may not be set'],
      // Pushdown off would move the label filters into Trino, within reach of an error oracle.
      ['SET SESSION fhir.pushdown_enabled = false', 'session property fhir.pushdown_enabled may not be set'],
      ['SET SESSION fhir.apply_opt_outs = false', 'session property fhir.apply_opt_outs may not be set'],
      ["WITH SESSION query_max_run_time = '1h' SELECT 1", 'WITH SESSION is not allowed'],
      ['WITH FUNCTION f() RETURNS int RETURN 1 SELECT f()', 'inline SQL functions'],
      ["CALL system.runtime.kill_query('x')", 'CALL is not allowed'],
      ['SHOW CREATE TABLE fhir.default.patient', 'SHOW CREATE is not allowed'],
      ['SHOW STATS FOR fhir.default.patient', 'SHOW STATS is not allowed'],
      ['EXPLAIN SHOW TABLES', 'EXPLAIN is only allowed for a query'],
      ['PREPARE p FROM DELETE FROM fhir.default.patient', 'PREPARE is only allowed for a query'],
      ["EXECUTE IMMEDIATE 'DROP TABLE fhir.default.patient'", 'DROP TABLE is not allowed'],
      // Its dynamic filter ranges printed raw Patient ids through the real gateway (adversarial suite).
      ['EXPLAIN ANALYZE SELECT count(*) FROM fhir.default.encounter', 'EXPLAIN ANALYZE is not allowed'],
      ['EXPLAIN ANALYZE VERBOSE SELECT count(*) FROM fhir.default.patient', 'EXPLAIN ANALYZE is not allowed'],
      ["EXECUTE IMMEDIATE 'EXPLAIN ANALYZE SELECT 1'", 'EXPLAIN ANALYZE is not allowed'],
    ] as const) {
      expect(refusal(sql), sql).to.include(fragment);
    }
  });

  it("refuses table functions, the pseudonym function and the rewriter's own names, however written", () => {
    expect(refusal("SELECT * FROM TABLE(system.query(query => 'SELECT 1'))")).to.match(/table function system\.query is not allowed/);
    for (const sql of [
      "SELECT mesh_pseudonym('9434765919')",
      'SELECT "MESH_PSEUDONYM"(\'1\')',
      "SELECT system.builtin.mesh_pseudonym('1')",
      "EXECUTE IMMEDIATE 'SELECT mesh_pseudonym(''1'')'",
    ]) {
      expect(refusal(sql), sql).to.include('mesh_pseudonym is applied by the mesh gateway');
    }
    expect(refusal('SELECT "mesh$r".id FROM fhir.default.patient "mesh$r"')).to.include('reserved');
  });

  it('passes the public list of domains through as it is, so analysts can choose subsets by region or kind', () => {
    const result = rewrite("SELECT count(*) FROM encounter WHERE domain IN (SELECT domain FROM fhir.mesh.domains WHERE region = 'Midlands')");
    expect(result.ok).to.equal(true);
    expect(result.ok ? result.sql : '').to.contain('fhir.mesh.domains');
  });

  it("refuses names outside the registry, other users' queries and time travel, with the reason", () => {
    expect(refusal('SELECT * FROM fhir.default.nope')).to.include('not a published data product');
    expect(refusal('SELECT * FROM postgresql.public.t')).to.include('catalog postgresql is not part of the mesh');
    expect(refusal('SELECT * FROM system.runtime.queries')).to.include("shows other users' queries");
    expect(refusal('SELECT * FROM fhir.mesh.circuits')).to.include("is for the mesh's operators");
    expect(refusal('SELECT * FROM fhir.mesh.request_metrics')).to.include("is for the mesh's operators");
    expect(refusal("SELECT * FROM fhir.default.patient FOR TIMESTAMP AS OF TIMESTAMP '2020-01-01 00:00 UTC'")).to.include('AS OF is not supported');
    const noSession = rewriteStatement('SELECT * FROM patient', {
      session: {},
      resolver: new QueryPolicy(TABLES, SOURCES, RESEARCH),
      sessionProperties: new Set(),
    });
    expect(noSession.ok ? '' : noSession.refusal.message).to.include('needs a catalog and schema');
  });

  it("answers a syntax error with Trino's message and position, without forwarding", () => {
    const r = rewrite('SELECT FROM WHERE');
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.refusal.errorName).to.equal('SYNTAX_ERROR');
    expect(r.refusal.line).to.equal(1);
    expect(r.refusal.message).to.match(/mismatched input/);
  });
});

describe('gateway: tables of aggregate queries', () => {
  const policy = new QueryPolicy(TABLES, SOURCES, RESEARCH);
  it('resolves names as Trino does (t, s.t, c.s.t against the session) and gives the patient key and the kept columns', () => {
    const session = { catalog: 'fhir', schema: 'default' };
    for (const parts of [['encounter'], ['default', 'encounter'], ['fhir', 'default', 'encounter']]) {
      const found = policy.aggregateTable(parts, session);
      expect(found?.name, parts.join('.')).to.equal('encounter');
      expect(found?.info.patientKey).to.equal('patient_id');
      expect(found?.info.columns.has('domain')).to.equal(true);
    }
    expect(policy.aggregateTable(['encounter'], { catalog: 'fhir' })).to.equal(undefined);
    expect(policy.aggregateTable(['other', 'encounter'], session)).to.equal(undefined);
    expect(policy.aggregateTable(['system', 'default', 'encounter'], session)).to.equal(undefined);
    // Removed columns (direct identifiers) are not there to aggregate or group by.
    expect(policy.aggregateTable(['patient'], session)?.info.columns.has('nhs_number')).to.equal(false);
  });
});

describe('gateway: purpose of use and project', () => {
  const config = { ...GATEWAY } as unknown as GatewayConfig;
  const access = new GatewayAccess(undefined as never, config);
  const alice = { id: 'a', name: 'alice', allowedPurposes: ['research', 'direct-care'], projects: ['p1', 'p2'], policies: {}, budget: null };

  it('reads extra credentials as the Trino clients send them (comma-separated, URL-encoded, repeated)', () => {
    const credentials = parseExtraCredentials(['purpose=research, project=stroke%2Caudit', 'mesh.pseudonym-key=abc']);
    expect([...credentials]).to.deep.equal([
      ['purpose', 'research'],
      ['project', 'stroke,audit'],
      ['mesh.pseudonym-key', 'abc'],
    ]);
  });

  it("requires an allowed purpose and one of the consumer's projects, naming what is allowed", () => {
    const ask = (entries: [string, string][]) => () => access.purposeOf(alice, new Map(entries));
    expect(ask([])).to.throw(AccessDenied, /needs a purpose of use.*allowed for alice: research, direct-care/);
    expect(ask([['purpose', 'marketing']])).to.throw(AccessDenied, /purpose 'marketing' is not allowed for alice/);
    expect(ask([['purpose', 'research']])).to.throw(AccessDenied, /needs a project.*projects of alice: p1, p2/);
    expect(
      ask([
        ['purpose', 'research'],
        ['project', 'p3'],
      ]),
    ).to.throw(AccessDenied, /project 'p3' is not one of alice's projects/);
    const ok = access.purposeOf(
      alice,
      new Map([
        ['purpose', 'direct-care'],
        ['project', 'p2'],
      ]),
    );
    expect(ok).to.deep.equal({ purpose: 'direct-care', project: 'p2', rules: GATEWAY.purposes['direct-care'] });
    const single = access.purposeOf({ ...alice, projects: ['only'] }, new Map([['purpose', 'research']]));
    expect(single.project).to.equal('only');
  });
});

describe('gateway: Trino protocol pieces', () => {
  it('forwards session headers but never identity, roles, path, spooling or credentials sent by the client', () => {
    const out = forwardedRequestHeaders({
      'x-trino-catalog': 'fhir',
      'x-trino-user': 'mesh-ops',
      'x-trino-role': 'system=ROLE{admin}',
      'x-trino-path': 'x.y',
      'x-trino-original-user': 'mesh-ops',
      'x-trino-extra-credential': 'mesh.pseudonym-key=00',
      'x-trino-query-data-encoding': 'json+zstd',
      'x-trino-prepared-statement': 'p=SELECT',
      'x-trino-session': 'a=b',
      authorization: 'Basic x',
      'x-trino-client-tags': 'a,b',
    });
    expect(out).to.deep.equal({ 'x-trino-catalog': 'fhir', 'x-trino-client-tags': 'a,b' });
  });

  it('decodes name=value lists as Trino encodes them (form encoding, + for space)', () => {
    expect(parseEncodedPairs(['q1=SELECT+%2A+FROM+t,q2=VALUES+1'])).to.deep.equal([
      ['q1', 'SELECT * FROM t'],
      ['q2', 'VALUES 1'],
    ]);
  });

  it('shapes refusals as a failed QueryResults the clients print', () => {
    const body = failedQueryResults('id1', 'https://x/ui', protocolError('no', 'PERMISSION_DENIED', { line: 1, column: 3 })) as {
      stats: { state: string };
      error: Record<string, unknown>;
    };
    expect(body.stats.state).to.equal('FAILED');
    expect(body.error).to.deep.include({ message: 'no', errorName: 'PERMISSION_DENIED', errorCode: 4, errorType: 'USER_ERROR' });
    expect(body.error.errorLocation).to.deep.equal({ lineNumber: 1, columnNumber: 3 });
  });
});

describe("gateway: error positions in the analyst's own text", () => {
  it('maps a position after, inside and before a replaced table back to where the analyst wrote it', () => {
    const sql = 'SELECT e.status\nFROM fhir.default.encounter e\nWHERE e.nope = 1';
    const r = rewrite(sql);
    if (!r.ok) throw new Error(r.refusal.message);
    const rewrittenLines = r.sql.split('\n');
    // Trino would point at `e.nope` on line 3 of its own text; the analyst's line 3 starts the same way.
    expect(originalPosition(sql, r.sql, r.replaced, { line: 3, column: 7 })).to.deep.equal({ line: 3, column: 7 });
    // Inside the policy subquery: the analyst sees the table name they wrote.
    expect(originalPosition(sql, r.sql, r.replaced, { line: 2, column: 20 })).to.deep.equal({ line: 2, column: 6 });
    // Before any replacement nothing moves; after it on the same line, the shift is undone.
    expect(originalPosition(sql, r.sql, r.replaced, { line: 1, column: 8 })).to.deep.equal({ line: 1, column: 8 });
    const aliasColumn = rewrittenLines[1]!.lastIndexOf(' e') + 2;
    expect(originalPosition(sql, r.sql, r.replaced, { line: 2, column: aliasColumn })).to.deep.equal({ line: 2, column: 29 });
  });
});

describe('gateway: statements too costly to parse', () => {
  it('refuses deep bracket nesting and huge token counts quickly, before parsing, saying what is accepted', function () {
    this.timeout(60_000); // the accepted 64-deep statement below is parsed in full
    const deep = `SELECT ${'('.repeat(MAX_BRACKET_DEPTH + 1)}1${')'.repeat(MAX_BRACKET_DEPTH + 1)}`;
    const started = performance.now();
    expect(refusal(deep)).to.include(`nests brackets more than ${MAX_BRACKET_DEPTH} deep`);
    expect(refusal(`SELECT ${'ARRAY['.repeat(MAX_BRACKET_DEPTH + 1)}1${']'.repeat(MAX_BRACKET_DEPTH + 1)}`)).to.include('nests brackets');
    expect(refusal(`SELECT 1 WHERE 1 IN (${Array.from({ length: MAX_TOKENS }, () => '1').join(',')})`)).to.include(`more than ${MAX_TOKENS} tokens`);
    expect(performance.now() - started).to.be.lessThan(2000);
    // Brackets inside strings and comments are not nesting.
    expect(rewrite(`SELECT '${'('.repeat(200)}' /* ${'['.repeat(200)} */`).ok).to.equal(true);
    expect(rewrite(`SELECT ${'('.repeat(MAX_BRACKET_DEPTH)}1${')'.repeat(MAX_BRACKET_DEPTH)}`).ok).to.equal(true);
  });

  it('counts CASE ... END as nesting (5,000 bracket-free levels kept the parser busy 25 s)', () => {
    const started = performance.now();
    const cases = (n: number): string => `SELECT ${'CASE WHEN true THEN '.repeat(n)}1${' END'.repeat(n)}`;
    expect(refusal(cases(5000))).to.include(`nests brackets more than ${MAX_BRACKET_DEPTH} deep`);
    expect(performance.now() - started).to.be.lessThan(2000);
    expect(rewrite(cases(20)).ok).to.equal(true);
    // Closing words do not buy depth: END before CASE is not negative nesting.
    expect(refusal(`SELECT ${'END '.repeat(200)}${'CASE WHEN true THEN '.repeat(MAX_BRACKET_DEPTH + 1)}1`)).to.include('nests brackets');
  });

  it('refuses a statement too deep for its checks (thousands of chained UNION, NOT, subscripts) instead of failing', function () {
    this.timeout(60_000); // each is parsed in full before the checks overflow
    for (const sql of [
      Array.from({ length: 5000 }, () => 'SELECT 1').join(' UNION ALL '),
      `SELECT ${'NOT '.repeat(20_000)}true`,
      `SELECT x${'[1]'.repeat(5000)} FROM (VALUES 1) t(x)`,
    ]) {
      const out = rewrite(sql);
      expect(out.ok).to.equal(false);
      if (!out.ok) expect(out.refusal.errorName).to.be.oneOf(['NOT_SUPPORTED', 'SYNTAX_ERROR']);
    }
  });
});
