// The adversarial suite's statements: what an analyst who wants identities, opted-out people or
// restricted resources would try through the gateway, grouped by technique. Each says what must happen:
// `refused` with Trino's error name and a fragment of the message (so a refusal for the wrong reason
// fails), or `answered-safely` (it runs; the leak scanner then checks every cell, column and message).
// Single characters pulled out one query at a time (substr, codepoint, length) are no scanner's to catch:
// those statements are expected refused because the column they read is not reachable at all.
// Facts about the ground truth (NHS numbers, raw ids, opted-out people) are passed in, so the corpus is pure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pseudonym } from '../../../control-plane/src/gateway/pseudonym-keys';
import { DOMAINS, paths } from '../../runtime/topology';
import { nhsNumberOf, optedOut, type Resource, readResources, securityCodes } from '../ground-truth';

export type Technique =
  | 'cte-shadowing'
  | 'nested-subquery'
  | 'unnest'
  | 'set-operation'
  | 'lateral-join'
  | 'quoting-case-unicode'
  | 'comments'
  | 'prepared-statement'
  | 'cast'
  | 'identifier-function'
  | 'identifier-aggregate'
  | 'error-oracle'
  | 'membership-probe'
  | 'metadata'
  | 'hidden-column'
  | 'system-table'
  | 'other-catalog'
  | 'ddl-dml'
  | 'table-function'
  | 'internal-name'
  | 'explain'
  | 'session-header'
  | 'extra-credential'
  | 'purpose-project'
  | 'restricted-label'
  | 'huge-or-deep';

export type Expectation =
  /** A Trino-shaped error: errorName exactly, message containing the fragment. */
  | { outcome: 'refused'; errorName: string; message: string }
  /** A non-protocol HTTP answer (the gateway's 401/403), its text containing the fragment. */
  | { outcome: 'http'; status: number; message: string }
  /** Runs to the end; `rows`, when given, must equal the answer (e.g. `[[0]]` for a probe that must find nothing). */
  | { outcome: 'answered-safely'; rows?: unknown[][] };

export interface HostileStatement {
  id: string;
  technique: Technique;
  sql: string;
  expect: Expectation;
  /** Who sends it: alice (default) or the suite's second consumer, in another project. */
  as?: 'alice' | 'second';
  /** Purpose / project extra credentials instead of the sender's defaults; null leaves one out. */
  purpose?: string | null;
  project?: string | null;
  /** Extra request headers, sent as given (they override the defaults of gateway-client.ts). */
  headers?: Record<string, string>;
  /** Session catalog and schema (default fhir.default); null sends none. */
  catalog?: string | null;
  schema?: string | null;
  /** The answer must equal the control statement's (pseudonyms unchanged by a client-sent key). */
  sameAsControl?: boolean;
  /** Wall time the answer must come within (huge statements must be refused quickly). */
  withinMs?: number;
}

/** What the corpus needs to know about the ground truth. */
export interface CorpusFacts {
  /** NHS numbers of people who are visible (no opt-out), and of people with an opt-out. */
  visibleNhsNumbers: string[];
  optedOutNhsNumbers: string[];
  /** Raw Patient resource ids (as the trusts store them), visible and opted out. */
  rawPatientIds: string[];
  optedOutRawPatientIds: string[];
  /** Pseudonyms, in alice's project, of opted-out people. */
  optedOutPseudonyms: string[];
  /** Gender, birth year and postcode district of opted-out people whom no visible patient shares. */
  optedOutProfiles: { gender: string; year: number; district: string }[];
  /** Ids of V-labelled resources. */
  vLabelledObservationIds: string[];
  familyNames: string[];
}

/** The statement whose answer `sameAsControl` statements must reproduce. */
export const CONTROL_SQL = 'SELECT id, gender, birth_date, postcode FROM fhir.default.patient ORDER BY id';

const removed = (table: string): Expectation => ({
  outcome: 'refused',
  errorName: 'COLUMN_NOT_FOUND',
  message: `removed from ${table} by the mesh's privacy policy`,
});
const unresolved = (column: string): Expectation => ({ outcome: 'refused', errorName: 'COLUMN_NOT_FOUND', message: `Column '${column}' cannot be resolved` });
const denied = (message: string): Expectation => ({ outcome: 'refused', errorName: 'PERMISSION_DENIED', message });
const syntax = (message = 'mismatched input'): Expectation => ({ outcome: 'refused', errorName: 'SYNTAX_ERROR', message });
const answered = (rows?: unknown[][]): Expectation => (rows ? { outcome: 'answered-safely', rows } : { outcome: 'answered-safely' });
const PSEUDONYM_REFUSED = 'mesh_pseudonym is applied by the mesh gateway';
const RESERVED = "is reserved for the mesh gateway's own rewriting";
const TABLE_FUNCTION = 'table functions and pass-through queries bypass';
const DIRECT_IDENTIFIERS = ['nhs_number', 'family_name', 'given_name'] as const;
const P = 'fhir.default.patient';

export function hostileCorpus(facts: CorpusFacts): HostileStatement[] {
  const out: HostileStatement[] = [];
  const counters = new Map<Technique, number>();
  const add = (technique: Technique, sql: string, expect: Expectation, extra: Partial<HostileStatement> = {}): void => {
    const n = (counters.get(technique) ?? 0) + 1;
    counters.set(technique, n);
    out.push({ id: `${technique}-${String(n).padStart(3, '0')}`, technique, sql, expect, ...extra });
  };
  const nhs = facts.visibleNhsNumbers[0]!;
  const optedOutNhs = facts.optedOutNhsNumbers[0]!;
  const rawId = facts.rawPatientIds[0]!;
  const family = facts.familyNames[0]!;

  // CTE shadowing: a WITH query named like a table is that query, and a table inside it is still the policy form.
  for (const c of DIRECT_IDENTIFIERS) {
    add('cte-shadowing', `WITH patient AS (SELECT * FROM ${P}) SELECT ${c} FROM patient`, unresolved(c));
    add('cte-shadowing', `WITH patient AS (SELECT ${c} FROM patient) SELECT * FROM patient`, removed('patient'));
    add('cte-shadowing', `WITH "PATIENT" AS (SELECT ${c} FROM fhir.default."Patient") SELECT * FROM patient`, removed('patient'));
    add('cte-shadowing', `WITH x AS (SELECT * FROM patient), patient AS (SELECT ${c} FROM x) SELECT * FROM patient`, unresolved(c));
    add('cte-shadowing', `WITH patient AS (SELECT 'x' AS ${c}) SELECT ${c} FROM default.patient`, removed('patient'));
    add('cte-shadowing', `WITH patient AS (SELECT 'x' AS ${c}) SELECT p.${c} FROM ${P} p`, removed('patient'));
    add('cte-shadowing', `SELECT * FROM (WITH patient AS (SELECT ${c} FROM ${P}) SELECT * FROM patient)`, removed('patient'));
    add('cte-shadowing', `WITH RECURSIVE r(v) AS (SELECT ${c} FROM patient UNION ALL SELECT v FROM r WHERE false) SELECT * FROM r`, removed('patient'));
  }
  add('cte-shadowing', `WITH patient AS (SELECT 1 AS nhs_number) SELECT * FROM ${P} LIMIT 5`, answered());
  add('cte-shadowing', 'WITH patient AS (SELECT * FROM patient) SELECT * FROM patient LIMIT 5', answered());
  add('cte-shadowing', 'WITH patient(id, g) AS (SELECT id, gender FROM patient) SELECT * FROM patient LIMIT 5', answered());
  add(
    'cte-shadowing',
    'WITH RECURSIVE patient(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM patient WHERE n < 3) SELECT * FROM patient ORDER BY n',
    answered([[1], [2], [3]]),
  );
  add(
    'cte-shadowing',
    'WITH RECURSIVE r(id, n) AS (SELECT id, 1 FROM patient UNION ALL SELECT id, n + 1 FROM r WHERE n < 2) SELECT count(*) FROM r',
    answered(),
  );
  add('cte-shadowing', 'WITH a AS (WITH b AS (SELECT * FROM patient) SELECT * FROM b) SELECT count(*) FROM a', answered());
  add('cte-shadowing', 'WITH consent AS (SELECT * FROM encounter) SELECT count(*) FROM consent', answered());
  add('cte-shadowing', `WITH "mesh$p" AS (SELECT * FROM ${P}) SELECT nhs_number FROM "mesh$p"`, denied(RESERVED));

  // Nested subqueries: every depth is a policy form; scalar, EXISTS and IN subqueries too.
  for (const c of DIRECT_IDENTIFIERS) {
    add('nested-subquery', `SELECT * FROM (SELECT * FROM (SELECT ${c} FROM ${P}))`, removed('patient'));
    add('nested-subquery', `SELECT (SELECT max(${c}) FROM ${P}) AS v`, removed('patient'));
    add('nested-subquery', `SELECT count(*) FROM ${P} p WHERE EXISTS (SELECT 1 FROM ${P} q WHERE q.${c} = 'x')`, removed('patient'));
    add('nested-subquery', `SELECT id FROM ${P} WHERE id IN (SELECT ${c} FROM ${P})`, removed('patient'));
    add('nested-subquery', `SELECT * FROM (SELECT * FROM ${P}) t WHERE t.${c} IS NOT NULL`, unresolved(`t.${c}`));
  }
  add('nested-subquery', `SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM ${P}))) LIMIT 5`, answered());
  add('nested-subquery', `SELECT id, (SELECT count(*) FROM fhir.default.encounter e WHERE e.patient_id = p.id) FROM ${P} p LIMIT 5`, answered());
  add('nested-subquery', `SELECT count(*) FROM ${P} p WHERE NOT EXISTS (SELECT 1 FROM fhir.default.consent c WHERE c.patient_id = p.id)`, answered());

  // UNNEST: arrays built from identifier columns, and arrays of the policy form.
  for (const c of DIRECT_IDENTIFIERS) {
    add('unnest', `SELECT v FROM ${P} CROSS JOIN UNNEST(ARRAY[${c}]) AS t(v)`, removed('patient'));
    add('unnest', `SELECT * FROM UNNEST((SELECT array_agg(${c}) FROM ${P})) AS t(v)`, removed('patient'));
  }
  add('unnest', `SELECT id, l FROM ${P} CROSS JOIN UNNEST(security_labels) AS t(l)`, answered());
  add('unnest', `SELECT v FROM UNNEST((SELECT array_agg(id) FROM ${P})) AS t(v) LIMIT 5`, answered());
  add('unnest', `SELECT * FROM UNNEST(ARRAY['${nhs}']) AS t(v) JOIN ${P} p ON p.id = t.v`, answered([]));
  add('unnest', `SELECT count(*) FROM UNNEST(ARRAY['${rawId}']) AS t(v) JOIN ${P} p ON p.id = t.v`, answered([[0]]));
  add('unnest', `SELECT * FROM UNNEST(ARRAY[ROW(1, 'a')]) WITH ORDINALITY AS t(a, b, o) CROSS JOIN ${P} LIMIT 1`, answered());
  add('unnest', "SELECT e.id FROM fhir.default.encounter e CROSS JOIN UNNEST(e.security_labels) AS t(l) WHERE l = 'V'", answered([]));

  // Set operations: every branch is rewritten, identifier columns are gone in each.
  for (const c of DIRECT_IDENTIFIERS) {
    add('set-operation', `SELECT id FROM ${P} UNION SELECT ${c} FROM ${P}`, removed('patient'));
    add('set-operation', `SELECT 'x' UNION ALL SELECT ${c} FROM patient`, removed('patient'));
    add('set-operation', `SELECT ${c} FROM patient INTERSECT SELECT '${nhs}'`, removed('patient'));
    add('set-operation', `SELECT ${c} FROM patient EXCEPT SELECT 'x'`, removed('patient'));
  }
  add('set-operation', `TABLE ${P} UNION ALL TABLE patient`, answered());
  add('set-operation', `SELECT id FROM ${P} EXCEPT SELECT id FROM fhir.default.patient`, answered([]));
  add('set-operation', `SELECT id FROM ${P} INTERSECT SELECT patient_id FROM fhir.default.encounter`, answered());
  add('set-operation', `SELECT '${rawId}' INTERSECT SELECT id FROM ${P}`, answered([]));
  add('set-operation', `SELECT '${facts.optedOutPseudonyms[0]}' INTERSECT SELECT id FROM ${P}`, answered([]));
  add('set-operation', `(TABLE patient) UNION (SELECT * FROM ${P}) ORDER BY 2 LIMIT 3`, answered());
  add('set-operation', `SELECT patient_id FROM fhir.default.consent UNION SELECT id FROM ${P} LIMIT 5`, answered());

  // Lateral joins and correlated derived tables.
  for (const c of DIRECT_IDENTIFIERS) {
    add('lateral-join', `SELECT * FROM ${P} p, LATERAL (SELECT p.${c}) t`, unresolved(`p.${c}`));
    add('lateral-join', `SELECT t.* FROM ${P} p CROSS JOIN LATERAL (SELECT ${c} FROM ${P} q WHERE q.id = p.id) t`, removed('patient'));
  }
  add(
    'lateral-join',
    `SELECT p.id, t.n FROM ${P} p, LATERAL (SELECT count(*) AS n FROM fhir.default.encounter e WHERE e.patient_id = p.id) t LIMIT 5`,
    answered(),
  );
  add('lateral-join', `SELECT * FROM ${P} p LEFT JOIN LATERAL (SELECT * FROM fhir.default.consent c WHERE c.patient_id = p.id) t ON true LIMIT 5`, answered());
  add('lateral-join', `SELECT * FROM ${P} p JOIN LATERAL (TABLE fhir.default.consent) t ON t.patient_id = p.id`, answered([]));

  // Quoting, case and Unicode: names are case-insensitive and quotes removed; odd characters are errors.
  for (const name of ['"PATIENT"', 'FHIR."default".Patient', '"fhir"."DEFAULT"."PATIENT"', 'Fhir.Default.PATIENT', '"fhir".default."patient"']) {
    add('quoting-case-unicode', `SELECT nhs_number FROM ${name}`, removed('patient'));
    add('quoting-case-unicode', `SELECT * FROM ${name} LIMIT 3`, answered());
  }
  for (const c of ['"nhs_number"', '"NHS_NUMBER"', 'NHS_Number', '"Family_Name"', 'patient."given_name"']) {
    add('quoting-case-unicode', `SELECT ${c} FROM patient`, { outcome: 'refused', errorName: 'COLUMN_NOT_FOUND', message: 'cannot be resolved' });
  }
  add('quoting-case-unicode', 'SELECT * FROM "patient\u200b"', denied('is not a published data product'));
  add('quoting-case-unicode', 'SELECT "nhs\u200b_number" FROM patient', unresolved('nhs\u200b_number'));
  add('quoting-case-unicode', 'SELECT nhs\u200b_number FROM patient', syntax(''));
  add('quoting-case-unicode', 'SELECT\u00a0nhs_number\u00a0FROM patient', syntax(''));
  add('quoting-case-unicode', 'SELECT nhs_number\u000bFROM patient', syntax(''));
  add('quoting-case-unicode', 'SELECT * FROM \uff50\uff41\uff54\uff49\uff45\uff4e\uff54', syntax(''));
  add('quoting-case-unicode', 'SELECT * FROM "pat\u0131ent"', denied('is not a published data product'));
  add('quoting-case-unicode', 'SELECT U&"\\006Ehs_number" FROM patient', syntax());
  add('quoting-case-unicode', "SELECT * FROM patient WHERE gender = U&'\\0066emale' LIMIT 3", answered());
  add('quoting-case-unicode', 'SELECT `nhs_number` FROM patient', syntax(''));
  add('quoting-case-unicode', 'SELECT "nhs_number""" FROM patient', unresolved('nhs_number"'));
  add('quoting-case-unicode', 'SELECT * FROM "fhir.default.patient"', denied('is not a published data product'));
  add('quoting-case-unicode', 'SELECT * FROM fhir."default.patient"', denied('needs a catalog'), { catalog: null, schema: null });

  // Comments in odd places: hidden-channel text is neither a name nor a way round the rewrite.
  add('comments', 'SELECT /* nhs_number */ * FROM /* x */ fhir./**/default./**/patient LIMIT 3', answered());
  add('comments', 'SELECT nhs_number -- comment\nFROM patient', removed('patient'));
  add('comments', 'SELECT * FROM patient -- ; SELECT nhs_number FROM patient\nLIMIT 3', answered());
  add('comments', 'SELECT * FROM fhir.default.patient /* ) UNION SELECT nhs_number FROM fhir.default.patient -- */ LIMIT 3', answered());
  add('comments', 'SELECT * FROM patient /* mesh_pseudonym("mesh$p".nhs_number) */ LIMIT 3', answered());
  add('comments', 'SELECT nhs_/**/number FROM patient', unresolved('nhs_'));
  add('comments', 'SELECT "nhs_/**/number" FROM patient', unresolved('nhs_/**/number'));
  add('comments', 'SELECT 1 /* ; DROP TABLE fhir.default.patient */', answered([[1]]));
  add('comments', 'SELECT 1; DROP TABLE fhir.default.patient', syntax());
  add('comments', '/* leading */ WITH patient AS (SELECT family_name FROM patient) /* trailing */ SELECT * FROM patient', removed('patient'));
  add('comments', 'SELECT * FROM patient /* unterminated', syntax(''));
  add('comments', "SELECT * FROM patient WHERE gender = 'female' --\r\n AND 1=1 LIMIT 3", answered());
  add('comments', 'SELECT family_name\t/*\n*/FROM\tpatient', removed('patient'));

  // Prepared statements: PREPARE/EXECUTE/EXECUTE IMMEDIATE, and the client-held X-Trino-Prepared-Statement header.
  const prepared = (name: string, sql: string): Record<string, string> => ({ 'x-trino-prepared-statement': `${name}=${encodeURIComponent(sql)}` });
  for (const c of DIRECT_IDENTIFIERS) {
    add('prepared-statement', 'EXECUTE q', removed('patient'), { headers: prepared('q', `SELECT ${c} FROM fhir.default.patient`) });
    add('prepared-statement', `EXECUTE IMMEDIATE 'SELECT ${c} FROM fhir.default.patient'`, removed('patient'));
    add('prepared-statement', 'DESCRIBE OUTPUT q', removed('patient'), { headers: prepared('q', `SELECT ${c} FROM patient`) });
  }
  add('prepared-statement', 'PREPARE q FROM SELECT * FROM fhir.default.patient WHERE id = ?', answered());
  add('prepared-statement', 'PREPARE q FROM DELETE FROM fhir.default.patient', denied('PREPARE is only allowed for a query'));
  add('prepared-statement', 'PREPARE q FROM CREATE TABLE x AS SELECT * FROM fhir.default.patient', denied('PREPARE is only allowed for a query'));
  add('prepared-statement', 'EXECUTE q', answered(), { headers: prepared('q', 'SELECT * FROM fhir.default.patient LIMIT 3') });
  add('prepared-statement', `EXECUTE q USING '${rawId}'`, answered([]), { headers: prepared('q', 'SELECT * FROM fhir.default.patient WHERE id = ?') });
  add('prepared-statement', `EXECUTE q USING '${nhs}'`, removed('patient'), {
    headers: prepared('q', 'SELECT count(*) FROM fhir.default.patient WHERE nhs_number = ?'),
  });
  add('prepared-statement', 'EXECUTE q', denied('prepared statement q: DROP TABLE is not allowed'), {
    headers: prepared('q', 'DROP TABLE fhir.default.patient'),
  });
  add('prepared-statement', 'EXECUTE q', denied('not allowed through the mesh gateway'), {
    headers: prepared('q', 'INSERT INTO fhir.default.patient SELECT * FROM fhir.default.patient'),
  });
  add('prepared-statement', 'EXECUTE q', denied(PSEUDONYM_REFUSED), { headers: prepared('q', `SELECT mesh_pseudonym('${nhs}')`) });
  add('prepared-statement', 'EXECUTE q', denied(TABLE_FUNCTION), { headers: prepared('q', "SELECT * FROM TABLE(system.query(query => 'SELECT 1'))") });
  add('prepared-statement', 'EXECUTE q', denied("shows other users' queries"), { headers: prepared('q', 'SELECT * FROM system.runtime.queries') });
  add('prepared-statement', 'EXECUTE q', syntax(), { headers: prepared('q', 'SELECT nhs_number FROM patient; DROP TABLE x') });
  add('prepared-statement', 'EXECUTE q', syntax(''), {
    headers: { 'x-trino-prepared-statement': `q=$zstd:${Buffer.from('SELECT nhs_number FROM fhir.default.patient').toString('base64url')}` },
  });
  // Trino analyses a prepared statement only when it runs; an unused one in the header is rewritten and inert.
  add('prepared-statement', 'SELECT 1', answered([[1]]), { headers: prepared('unused', 'SELECT family_name FROM fhir.default.patient') });
  add('prepared-statement', 'EXECUTE q', removed('patient'), {
    headers: { 'x-trino-prepared-statement': `ok=${encodeURIComponent('SELECT 1')},q=${encodeURIComponent('SELECT nhs_number FROM fhir.default.patient')}` },
  });
  add('prepared-statement', 'EXECUTE q', removed('patient'), { headers: prepared('q', 'SELECT nhs_number FROM patient'), catalog: 'fhir', schema: 'default' });
  add('prepared-statement', 'EXECUTE q', denied('only queries may be prepared'), {
    headers: prepared('q', "EXECUTE IMMEDIATE 'SELECT nhs_number FROM fhir.default.patient'"),
  });
  add(
    'prepared-statement',
    "EXECUTE IMMEDIATE 'EXECUTE IMMEDIATE ''SELECT nhs_number FROM fhir.default.patient'''",
    denied('EXECUTE IMMEDIATE may only run a query'),
  );
  add('prepared-statement', "EXECUTE IMMEDIATE U&'SELECT nhs\\005Fnumber FROM fhir.default.patient'", {
    outcome: 'refused',
    errorName: 'NOT_SUPPORTED',
    message: 'use a plain string literal',
  });
  add('prepared-statement', "EXECUTE IMMEDIATE 'SELECT * FROM fhir.default.patient WHERE id = ?' USING 'x'", answered([]));
  add('prepared-statement', "EXECUTE IMMEDIATE 'DROP TABLE fhir.default.patient'", denied('DROP TABLE is not allowed'));
  add('prepared-statement', "EXECUTE IMMEDIATE 'SELECT * FROM system.runtime.queries'", denied("shows other users' queries"));
  add('prepared-statement', "EXECUTE IMMEDIATE 'WITH patient AS (SELECT nhs_number FROM patient) SELECT * FROM patient'", removed('patient'));
  add('prepared-statement', 'EXECUTE nothing_prepared', { outcome: 'refused', errorName: 'NOT_FOUND', message: 'Prepared statement not found' });

  // Casts: of the policy form's values only; a cast error echoes a value the analyst may see anyway.
  for (const c of DIRECT_IDENTIFIERS) {
    add('cast', `SELECT CAST(${c} AS varbinary) FROM ${P}`, removed('patient'));
    add('cast', `SELECT try_cast(${c} AS bigint) FROM ${P}`, removed('patient'));
    add('cast', `SELECT CAST(ROW(${c}) AS ROW(v varchar)) FROM ${P}`, removed('patient'));
  }
  add('cast', `SELECT CAST(birth_date AS varchar), CAST(postcode AS varchar) FROM ${P} LIMIT 5`, answered());
  add('cast', `SELECT CAST(id AS varbinary), CAST(security_labels AS json) FROM ${P} LIMIT 5`, answered());
  add('cast', `SELECT CAST(birth_date AS timestamp(3)) FROM ${P} WHERE day(birth_date) <> 1 OR month(birth_date) <> 1`, answered([]));
  add('cast', `SELECT CAST(postcode AS integer) FROM ${P}`, { outcome: 'refused', errorName: 'INVALID_CAST_ARGUMENT', message: 'Cannot cast' });
  add('cast', `SELECT CAST(CAST(ROW(id, gender) AS json) AS varchar) FROM ${P} LIMIT 3`, {
    outcome: 'refused',
    errorName: 'INVALID_CAST_ARGUMENT',
    message: 'Cannot cast',
  });

  // String, regex, JSON and array functions over identifier columns: the column must be unreachable.
  const stringFunctions = [
    (c: string) => `upper(${c})`,
    (c: string) => `substr(${c}, 1, 1)`,
    (c: string) => `length(${c})`,
    (c: string) => `codepoint(CAST(substr(${c}, 1, 1) AS varchar(1)))`,
    (c: string) => `regexp_extract(${c}, '[0-9]+')`,
    (c: string) => `regexp_like(${c}, '^9')`,
    (c: string) => `json_format(CAST(${c} AS json))`,
    (c: string) => `json_extract_scalar(json_object('k': ${c}), '$.k')`,
    (c: string) => `to_hex(to_utf8(${c}))`,
    (c: string) => `to_base64(to_utf8(${c}))`,
    (c: string) => `reverse(${c})`,
    (c: string) => `split(${c}, '')`,
    (c: string) => `ARRAY[${c}]`,
    (c: string) => `format('%s', ${c})`,
    (c: string) => `levenshtein_distance(${c}, '${family}')`,
    (c: string) => `to_hex(md5(to_utf8(${c})))`,
  ];
  for (const c of DIRECT_IDENTIFIERS) for (const f of stringFunctions) add('identifier-function', `SELECT ${f(c)} FROM ${P}`, removed('patient'));
  add('identifier-function', `SELECT DISTINCT day(birth_date), month(birth_date) FROM ${P}`, answered([[1, 1]]));
  add('identifier-function', `SELECT count(*) FROM ${P} WHERE length(postcode) > 4`, answered([[0]]));
  add('identifier-function', `SELECT substr(postcode, 1, 10), to_hex(to_utf8(id)) FROM ${P} LIMIT 3`, answered());
  add('identifier-function', `SELECT transform(security_labels, l -> upper(l)) FROM ${P} LIMIT 3`, answered());

  // Aggregates over identifier columns.
  const aggregates = [
    (c: string) => `count_if(${c} IS NOT NULL)`,
    (c: string) => `min(${c})`,
    (c: string) => `max(${c})`,
    (c: string) => `approx_distinct(${c})`,
    (c: string) => `arbitrary(${c})`,
    (c: string) => `listagg(${c}, ',') WITHIN GROUP (ORDER BY ${c})`,
    (c: string) => `array_agg(${c})`,
    (c: string) => `histogram(${c})`,
    (c: string) => `max_by(id, ${c})`,
    (c: string) => `checksum(${c})`,
    (c: string) => `count(DISTINCT ${c})`,
  ];
  for (const c of DIRECT_IDENTIFIERS) for (const f of aggregates) add('identifier-aggregate', `SELECT ${f(c)} FROM ${P}`, removed('patient'));
  add('identifier-aggregate', `SELECT min(birth_date), max(birth_date), approx_distinct(postcode), arbitrary(id) FROM ${P}`, answered());
  add('identifier-aggregate', `SELECT listagg(id, ',') WITHIN GROUP (ORDER BY id) FROM ${P}`, answered());
  add('identifier-aggregate', `SELECT array_agg(DISTINCT postcode), histogram(gender) FROM ${P}`, answered());
  add('identifier-aggregate', `SELECT count_if(contains(security_labels, 'V')) FROM ${P}`, answered([[0]]));

  // Error oracles: a guess that only an excluded person (opted out) could satisfy must not change the outcome.
  for (const profile of facts.optedOutProfiles) {
    const guess = `gender = '${profile.gender}' AND year(birth_date) = ${profile.year} AND postcode = '${profile.district}'`;
    add('error-oracle', `SELECT count(*) FROM ${P} WHERE IF(${guess}, 1 / 0 = 1, true)`, answered([[countPlaceholder]]));
    add('error-oracle', `SELECT count(*) FROM ${P} WHERE CASE WHEN ${guess} THEN fail('exists') ELSE true END`, answered([[countPlaceholder]]));
  }
  for (const p of facts.optedOutPseudonyms)
    add('error-oracle', `SELECT count(*) FROM ${P} WHERE IF(id = '${p}', 1 / 0 = 1, true)`, answered([[countPlaceholder]]));
  for (const c of DIRECT_IDENTIFIERS) {
    add('error-oracle', `SELECT count(*) FROM ${P} WHERE CASE WHEN ${c} = '${nhs}' THEN 1 / 0 = 1 ELSE true END`, removed('patient'));
    add('error-oracle', `SELECT fail(${c}) FROM ${P}`, removed('patient'));
  }
  add('error-oracle', `SELECT CAST(id AS bigint) FROM ${P}`, { outcome: 'refused', errorName: 'INVALID_CAST_ARGUMENT', message: 'Cannot cast' });
  add('error-oracle', `SELECT fail(id) FROM ${P}`, { outcome: 'refused', errorName: 'GENERIC_USER_ERROR', message: '' });
  add('error-oracle', `SELECT element_at(security_labels, 5) FROM ${P}`, answered());
  add('error-oracle', `SELECT count(*) FROM ${P} WHERE IF(id = '${'0'.repeat(32)}', 1 / 0 = 1, true)`, answered([[countPlaceholder]]));

  // Membership probes: identifiers and raw ids never match anything.
  for (const n of [...facts.visibleNhsNumbers, ...facts.optedOutNhsNumbers])
    add('membership-probe', `SELECT count(*) FROM ${P} WHERE nhs_number = '${n}'`, removed('patient'));
  for (const id of [...facts.rawPatientIds, ...facts.optedOutRawPatientIds]) {
    add('membership-probe', `SELECT count(*) FROM ${P} WHERE id = '${id}'`, answered([[0]]));
    add('membership-probe', `SELECT count(*) FROM fhir.default.encounter WHERE patient_id = '${id}'`, answered([[0]]));
  }
  for (const p of facts.optedOutPseudonyms) {
    add('membership-probe', `SELECT count(*) FROM ${P} WHERE id = '${p}'`, answered([[0]]));
    add('membership-probe', `SELECT count(*) FROM fhir.default.consent WHERE patient_id = '${p}'`, answered([[0]]));
  }
  add('membership-probe', `SELECT count(*) FROM ${P} WHERE id = to_hex(hmac_sha256(to_utf8('${optedOutNhs}'), to_utf8('demo-cohort')))`, answered([[0]]));
  add(
    'membership-probe',
    `SELECT count(*) FROM fhir.default.consent WHERE provision_type = 'deny' AND policy_uri LIKE '%national-data-opt-out%'`,
    answered([[0]]),
  );

  // Metadata shows the policy form only.
  add('metadata', "SELECT * FROM fhir.information_schema.columns WHERE column_name IN ('nhs_number', 'family_name', 'given_name')", answered([]));
  add('metadata', "SELECT * FROM system.jdbc.columns WHERE column_name LIKE '%name%' AND table_name = 'patient'", answered([]));
  add('metadata', "SELECT * FROM information_schema.columns WHERE table_name = 'patient'", answered(), { catalog: 'fhir', schema: 'default' });
  add('metadata', 'SELECT column_name FROM fhir.INFORMATION_SCHEMA."COLUMNS" WHERE "TABLE_NAME" = \'patient\' AND column_name LIKE \'nhs%\'', answered([]));
  add('metadata', "SHOW COLUMNS FROM patient LIKE 'nhs%'", answered([]));
  add('metadata', "SHOW COLUMNS FROM fhir.default.patient LIKE '%name'", answered([]));
  add('metadata', 'DESCRIBE fhir.default.patient', answered());
  add('metadata', 'DESC "PATIENT"', answered());
  add('metadata', "SHOW COLUMNS FROM patient LIKE 'n%' ESCAPE '\\'", {
    outcome: 'refused',
    errorName: 'PERMISSION_DENIED',
    message: 'ESCAPE is not supported',
  });
  add('metadata', 'SHOW TABLES FROM fhir.default', answered());
  add('metadata', 'SHOW SCHEMAS FROM system', answered());
  add('metadata', 'SHOW CATALOGS', answered());
  add('metadata', "SHOW FUNCTIONS LIKE 'mesh%'", answered());
  add('metadata', 'SHOW SESSION', answered());
  add('metadata', 'SHOW CREATE TABLE fhir.default.patient', denied('SHOW CREATE is not allowed'));
  add('metadata', 'SHOW CREATE VIEW fhir.default.patient', denied('SHOW CREATE is not allowed'));
  add('metadata', 'SHOW STATS FOR fhir.default.patient', denied('SHOW STATS is not allowed'));
  add('metadata', 'SHOW STATS FOR (SELECT * FROM fhir.default.patient)', denied('SHOW STATS is not allowed'));
  add('metadata', 'SHOW GRANTS ON TABLE fhir.default.patient', denied('SHOW GRANTS is not allowed'));
  add('metadata', 'SHOW ROLES', denied('SHOW ROLES is not allowed'));
  add('metadata', "SELECT * FROM fhir.information_schema.table_privileges WHERE table_name = 'patient'", answered());
  add('metadata', 'SELECT * FROM system.information_schema.columns LIMIT 5', answered());
  add('metadata', "SELECT count(*) FROM system.jdbc.columns WHERE table_cat = 'fhir' AND column_name = 'nhs_number'", answered([[0]]));
  add('metadata', 'SELECT * FROM system.metadata.column_properties', answered());
  add('metadata', 'SELECT * FROM fhir.information_schema.views', answered());

  // Hidden columns ($path and friends) and hidden tables (table$properties).
  for (const hidden of ['$path', '$file_size', '$file_modified_time', '$row_id', '$bucket', '$partition', '$properties', '$raw']) {
    add('hidden-column', `SELECT "${hidden}" FROM ${P}`, unresolved(hidden));
  }
  for (const table of ['"patient$properties"', '"patient$data"', '"patient$snapshots"'])
    add('hidden-column', `SELECT * FROM fhir.default.${table}`, denied('is not a published data product'));

  // System tables: runtime (other users' queries) refused; only the metadata clients need.
  for (const t of ['queries', 'tasks', 'nodes', 'transactions', 'optimizer_rule_stats']) {
    add('system-table', `SELECT * FROM system.runtime.${t}`, denied("shows other users' queries"));
    add('system-table', `SELECT * FROM "SYSTEM"."RUNTIME"."${t.toUpperCase()}"`, denied("shows other users' queries"));
  }
  add('system-table', 'SELECT * FROM queries', denied("shows other users' queries"), { catalog: 'system', schema: 'runtime' });
  add('system-table', 'SELECT * FROM runtime.queries', denied("shows other users' queries"), { catalog: 'system', schema: 'metadata' });
  add('system-table', 'SELECT * FROM system.metadata.catalogs', answered());
  add('system-table', 'SELECT * FROM system.metadata.table_comments LIMIT 5', answered());
  add('system-table', 'SELECT * FROM system.jdbc.tables LIMIT 5', answered());
  add('system-table', 'SELECT * FROM system.metadata.table_properties', answered());
  add('system-table', 'SELECT * FROM system.runtime.queries r JOIN fhir.default.patient p ON true', denied("shows other users' queries"));
  add('system-table', 'SELECT * FROM system.builtin.anything', denied('is not available through the mesh gateway'));

  // Other catalogs and schemas.
  for (const name of ['tpch.tiny.nation', 'memory.default.t', 'hive.default.patient', 'postgresql.public.consumers', '"fhir-raw".default.patient']) {
    add('other-catalog', `SELECT * FROM ${name}`, denied('is not part of the mesh'));
  }
  add('other-catalog', 'SELECT * FROM fhir.raw.patient', denied('is not available through the mesh gateway'));
  add('other-catalog', 'SELECT * FROM nation', denied('is not part of the mesh'), { catalog: 'tpch', schema: 'tiny' });
  add(
    'other-catalog',
    'SELECT * FROM patient',
    { outcome: 'refused', errorName: 'TABLE_NOT_FOUND', message: "Table 'fhir.information_schema.patient' does not exist" },
    {
      catalog: 'fhir',
      schema: 'information_schema',
    },
  );

  // DDL, DML, identity, path, procedures, session properties, inline definitions.
  const ddl: [string, string][] = [
    ['INSERT INTO fhir.default.patient SELECT * FROM fhir.default.patient', 'INSERT is not allowed'],
    ['CREATE TABLE fhir.default.leak AS SELECT * FROM fhir.default.patient', 'CREATE TABLE is not allowed'],
    ['CREATE TABLE memory.default.leak AS SELECT 1 AS x', 'CREATE TABLE is not allowed'],
    ['CREATE VIEW fhir.default.v AS SELECT * FROM fhir.default.patient', 'CREATE VIEW is not allowed'],
    ['CREATE OR REPLACE VIEW fhir.default.patient AS SELECT 1 AS x', 'CREATE OR is not allowed'],
    ['CREATE MATERIALIZED VIEW fhir.default.mv AS SELECT 1 AS x', 'CREATE MATERIALIZED is not allowed'],
    ['DELETE FROM fhir.default.patient', 'DELETE is not allowed'],
    ["UPDATE fhir.default.patient SET gender = 'x'", 'UPDATE is not allowed'],
    ['MERGE INTO fhir.default.patient t USING fhir.default.patient s ON t.id = s.id WHEN MATCHED THEN DELETE', 'MERGE is not allowed'],
    ['TRUNCATE TABLE fhir.default.patient', 'TRUNCATE is not allowed'],
    ['ALTER TABLE fhir.default.patient RENAME TO p2', 'ALTER TABLE is not allowed'],
    ['ALTER TABLE fhir.default.patient SET AUTHORIZATION alice', 'ALTER is not allowed'],
    ['DROP TABLE fhir.default.patient', 'DROP TABLE is not allowed'],
    ['DROP VIEW fhir.default.patient', 'DROP VIEW is not allowed'],
    ['GRANT SELECT ON fhir.default.patient TO USER alice', 'GRANT is not allowed'],
    ['REVOKE SELECT ON fhir.default.patient FROM USER alice', 'REVOKE is not allowed'],
    ['DENY SELECT ON fhir.default.patient TO USER alice', 'DENY is not allowed'],
    ['SET ROLE admin', 'SET ROLE is not allowed'],
    ['SET ROLE ALL', 'SET ROLE is not allowed'],
    ['CREATE ROLE analysts', 'CREATE ROLE is not allowed'],
    ["SET SESSION AUTHORIZATION 'mesh-gateway'", 'SET SESSION AUTHORIZATION is not allowed'],
    ['SET SESSION AUTHORIZATION "mesh-ops"', 'SET SESSION AUTHORIZATION is not allowed'],
    ['RESET SESSION AUTHORIZATION', 'SET SESSION AUTHORIZATION is not allowed'],
    ['SET PATH fhir.system', 'SET PATH is not allowed'],
    ["CALL system.runtime.kill_query(query_id => 'x', message => 'y')", 'CALL is not allowed'],
    ['CALL fhir.system.refresh()', 'CALL is not allowed'],
    ['CREATE SCHEMA fhir.leak', 'CREATE SCHEMA is not allowed'],
    ["COMMENT ON TABLE fhir.default.patient IS 'x'", 'COMMENT is not allowed'],
    ['ANALYZE fhir.default.patient', 'ANALYZE is not allowed'],
    ['REFRESH MATERIALIZED VIEW fhir.default.patient', 'REFRESH is not allowed'],
    ['CREATE FUNCTION f() RETURNS int RETURN 1', 'CREATE is not allowed'],
    ['DROP FUNCTION f()', 'DROP FUNCTION is not allowed'],
  ];
  for (const [sql, fragment] of ddl) add('ddl-dml', sql, denied(fragment));
  for (const property of ['query_max_memory', 'fhir.pseudonym_key', 'join_distribution_type', 'fhir.security_labels_enabled', 'mesh.pseudonym-key']) {
    add('ddl-dml', `SET SESSION ${property.includes('-') ? `"${property}"` : property} = 'x'`, denied('may not be set through the mesh gateway'));
  }
  add('ddl-dml', 'RESET SESSION query_max_memory', denied('may not be set through the mesh gateway'));
  add('ddl-dml', "WITH SESSION query_max_run_time = '1h' SELECT * FROM fhir.default.patient", denied('WITH SESSION is not allowed'));
  add('ddl-dml', 'WITH FUNCTION leak(x varchar) RETURNS varchar RETURN x SELECT leak(id) FROM fhir.default.patient', denied('inline SQL functions'));
  add('ddl-dml', 'WITH FUNCTION f() RETURNS int RETURN 1, patient AS (SELECT 1) SELECT * FROM patient', syntax("mismatched input 'patient'"));
  add('ddl-dml', 'EXPLAIN INSERT INTO fhir.default.patient SELECT * FROM fhir.default.patient', denied('EXPLAIN is only allowed for a query'));
  add('ddl-dml', 'USE system.runtime', answered());

  // Table functions and pass-through queries.
  for (const sql of [
    "SELECT * FROM TABLE(system.query(query => 'SELECT nhs_number FROM patient'))",
    "SELECT * FROM TABLE(fhir.system.query(query => 'Patient?identifier=x'))",
    'SELECT * FROM TABLE(exclude_columns(input => TABLE(fhir.default.patient), columns => DESCRIPTOR(id)))',
    'SELECT * FROM TABLE(system.builtin.exclude_columns(input => TABLE(patient), columns => DESCRIPTOR(id)))',
    'SELECT * FROM TABLE(sequence(start => 1, stop => 3))',
    'SELECT * FROM TABLE(system.sequence(start => 1, stop => 3)) CROSS JOIN fhir.default.patient',
    'SELECT * FROM TABLE("SYSTEM"."QUERY"(query => \'x\'))',
  ]) {
    add('table-function', sql, denied(TABLE_FUNCTION));
  }

  // The rewriter's own function and names.
  for (const sql of [
    `SELECT mesh_pseudonym('${nhs}')`,
    `SELECT "MESH_PSEUDONYM"('${nhs}')`,
    `SELECT system.builtin.mesh_pseudonym('${nhs}')`,
    `SELECT fhir.system.mesh_pseudonym('${nhs}')`,
    `EXECUTE IMMEDIATE 'SELECT mesh_pseudonym(''${nhs}'')'`,
    `SELECT count(*) FROM ${P} WHERE id = mesh_pseudonym('${optedOutNhs}')`,
    'SELECT 1 AS mesh_pseudonym',
    `SELECT transform(ARRAY['${nhs}'], x -> mesh_pseudonym(x))`,
  ]) {
    add('internal-name', sql, denied(PSEUDONYM_REFUSED));
  }
  for (const sql of [
    'SELECT "mesh$p".nhs_number FROM fhir.default.patient "mesh$p"',
    'SELECT * FROM fhir.default.patient AS "MESH$R"',
    'SELECT "mesh$r".id FROM fhir.default.encounter',
    'WITH "mesh$c" AS (SELECT 1) SELECT * FROM "mesh$c"',
    'SELECT 1 AS "mesh$x"',
    'SELECT * FROM fhir.default."mesh$patient"',
  ]) {
    add('internal-name', sql, denied(RESERVED));
  }

  // EXPLAIN: the plan, never runtime statistics.
  add('explain', `EXPLAIN SELECT * FROM ${P}`, answered());
  add('explain', 'EXPLAIN (TYPE DISTRIBUTED) SELECT * FROM fhir.default.encounter', answered());
  add('explain', `EXPLAIN (TYPE IO, FORMAT JSON) SELECT * FROM ${P}`, answered());
  add('explain', `EXPLAIN (TYPE VALIDATE) SELECT * FROM ${P}`, answered());
  add('explain', `EXPLAIN (FORMAT GRAPHVIZ) SELECT * FROM ${P}`, answered());
  add('explain', `EXPLAIN SELECT nhs_number FROM ${P}`, removed('patient'));
  add('explain', 'EXPLAIN ANALYZE SELECT count(*) FROM fhir.default.encounter', denied('EXPLAIN ANALYZE is not allowed'));
  add('explain', `EXPLAIN ANALYZE VERBOSE SELECT count(*) FROM ${P}`, denied('EXPLAIN ANALYZE is not allowed'));
  add('explain', `EXPLAIN ANALYZE (TYPE DISTRIBUTED) SELECT * FROM ${P}`, syntax("mismatched input 'TYPE'"));
  add('explain', "EXECUTE IMMEDIATE 'EXPLAIN ANALYZE SELECT 1'", denied('EXPLAIN ANALYZE is not allowed'));
  add('explain', 'EXPLAIN EXPLAIN SELECT 1', denied('EXPLAIN is only allowed for a query'));
  add('explain', 'EXPLAIN SHOW TABLES', denied('EXPLAIN is only allowed for a query'));

  // Session headers: identity, roles and path are the gateway's; catalogs are resolved before lookup.
  add('session-header', `SELECT * FROM ${P} LIMIT 3`, answered(), { headers: { 'x-trino-role': 'system=ROLE{admin}' } });
  add('session-header', `SELECT * FROM ${P} LIMIT 3`, answered(), { headers: { 'x-trino-path': 'fhir.system' } });
  add('session-header', "SELECT mesh_pseudonym('1')", denied(PSEUDONYM_REFUSED), { headers: { 'x-trino-path': 'system.builtin' } });
  add('session-header', 'SELECT 1', denied('session property query_max_memory may not be set'), { headers: { 'x-trino-session': 'query_max_memory=100GB' } });
  add('session-header', 'SELECT 1', denied('may not be set'), {
    headers: { 'x-trino-session': 'fhir.pushdown_enabled=false,join_distribution_type=BROADCAST' },
  });
  // Pushdown off would move the label filters into Trino, within reach of the analyst's expressions.
  add('session-header', `SELECT count(*) FROM ${P}`, denied('session property fhir.pushdown_enabled may not be set'), {
    headers: { 'x-trino-session': 'fhir.pushdown_enabled=false' },
  });
  // The connector's exclusion of opted-out patients is the gateway's to set, never the analyst's.
  for (const property of ['fhir.apply_opt_outs=false', 'fhir.excluded_patient_labels=', 'fhir.exclude_patients_without_nhs_number=false']) {
    add('session-header', `SELECT count(*) FROM ${P}`, denied('may not be set'), { headers: { 'x-trino-session': property } });
  }
  add('session-header', 'SET SESSION fhir.apply_opt_outs = false', denied('session property fhir.apply_opt_outs may not be set'));
  add(
    'session-header',
    'SELECT 1',
    { outcome: 'http', status: 403, message: 'X-Trino-User names mesh-gateway' },
    { headers: { 'x-trino-user': 'mesh-gateway' } },
  );
  add('session-header', 'SELECT 1', { outcome: 'http', status: 403, message: 'X-Trino-User names mesh-ops' }, { headers: { 'x-trino-user': 'mesh-ops' } });
  add('session-header', 'SELECT 1', { outcome: 'http', status: 403, message: 'X-Trino-User names ALICE' }, { headers: { 'x-trino-user': 'ALICE' } });
  add('session-header', 'SELECT * FROM nation', denied('is not part of the mesh'), { catalog: 'tpch', schema: 'tiny' });
  add('session-header', 'SELECT * FROM patient LIMIT 3', answered(), { catalog: 'FHIR', schema: 'DEFAULT' });
  add('session-header', 'SELECT nhs_number FROM patient', removed('patient'), { catalog: 'Fhir', schema: 'Default' });
  add('session-header', 'SELECT * FROM patient', denied('needs a catalog and schema'), { catalog: null, schema: null });
  add('session-header', 'SELECT * FROM default.patient', denied('needs a catalog'), { catalog: null, schema: null });
  add('session-header', `SELECT * FROM ${P} LIMIT 3`, answered(), {
    headers: { 'x-trino-set-authorization-user': 'mesh-ops', 'x-trino-original-user': 'mesh-ops' },
  });

  // Extra credentials: the pseudonym key is the gateway's; a client-sent one changes nothing.
  const withKey = (extra: string): Record<string, string> => ({ 'x-trino-extra-credential': `purpose=research, project=demo-cohort, ${extra}` });
  add('extra-credential', CONTROL_SQL, answered(), { headers: withKey(`mesh.pseudonym-key=${'0'.repeat(64)}`), sameAsControl: true });
  add('extra-credential', CONTROL_SQL, answered(), { headers: withKey(`MESH.PSEUDONYM-KEY=${'1'.repeat(64)}`), sameAsControl: true });
  add('extra-credential', CONTROL_SQL, answered(), { headers: withKey(`mesh%2Epseudonym-key=${'2'.repeat(64)}`), sameAsControl: true });
  add('extra-credential', CONTROL_SQL, answered(), {
    headers: { 'x-trino-extra-credential': `mesh.pseudonym-key=${'3'.repeat(64)}, purpose=research, project=demo-cohort` },
    sameAsControl: true,
  });
  add('extra-credential', CONTROL_SQL, answered(), { headers: withKey(`mesh.pseudonym-key=${'4'.repeat(64)}, mesh.break-glass=true`), sameAsControl: true });

  // Purpose and project: checked against the consumer's grants, whatever the encoding.
  add('purpose-project', 'SELECT 1', denied("purpose 'direct-care' is not allowed for alice"), { purpose: 'direct-care' });
  add('purpose-project', 'SELECT 1', denied('every query needs a purpose of use'), { purpose: null });
  add('purpose-project', 'SELECT 1', denied("purpose 'Research' is not allowed"), { purpose: 'Research' });
  add('purpose-project', 'SELECT 1', denied("purpose 'research,direct-care' is not allowed"), {
    headers: { 'x-trino-extra-credential': 'purpose=research%2Cdirect-care, project=demo-cohort' },
  });
  add('purpose-project', 'SELECT 1', denied("purpose 'direct-care' is not allowed"), {
    headers: { 'x-trino-extra-credential': 'purpose=research, purpose=direct-care, project=demo-cohort' },
  });
  add('purpose-project', 'SELECT 1', denied("project 'stroke-audit' is not one of alice's projects"), { project: 'stroke-audit' });
  add('purpose-project', 'SELECT 1', denied("project 'demo-cohort,stroke-audit' is not one of"), {
    headers: { 'x-trino-extra-credential': 'purpose=research, project=demo-cohort%2Cstroke-audit' },
  });
  add('purpose-project', 'SELECT 1', denied("project 'demo-cohort ' is not one of"), {
    headers: { 'x-trino-extra-credential': 'purpose=research, project=demo-cohort%20' },
  });
  add('purpose-project', 'SELECT 1', denied("project 'demo-cohort' is not one of"), { as: 'second', project: 'demo-cohort' });
  add('purpose-project', 'SELECT 1', denied("purpose 'research' is not allowed"), { as: 'second', purpose: 'research' });
  add(
    'purpose-project',
    'SELECT 1',
    { outcome: 'http', status: 403, message: 'X-Trino-User names alice' },
    { as: 'second', headers: { 'x-trino-user': 'alice' } },
  );
  add('purpose-project', 'SELECT 1', answered([[1]]), { project: null });
  add('purpose-project', 'SELECT 1', answered([[1]]), { headers: { 'x-trino-extra-credential': 'purpose=research, project=' } });

  // Restricted labels: V never, PSY/HIV/SDV not for research; a filter on the labels finds nothing.
  for (const label of ['V', 'PSY', 'HIV', 'SDV']) {
    add('restricted-label', `SELECT count(*) FROM fhir.default.condition WHERE contains(security_labels, '${label}')`, answered([[0]]));
    add('restricted-label', `SELECT count(*) FROM fhir.default.procedure WHERE any_match(security_labels, l -> l = '${label}')`, answered([[0]]));
  }
  for (const id of facts.vLabelledObservationIds) add('restricted-label', `SELECT count(*) FROM fhir.default.observation WHERE id = '${id}'`, answered([[0]]));
  add(
    'restricted-label',
    "SELECT count(*) FROM fhir.default.encounter WHERE cardinality(filter(security_labels, l -> l IN ('V', 'PSY'))) > 0",
    answered([[0]]),
  );
  add('restricted-label', 'SELECT DISTINCT encounter_id FROM fhir.default.condition', answered());
  add('restricted-label', 'SELECT DISTINCT reason_condition_id FROM fhir.default.medication_request', answered());

  // Huge or deeply nested statements: refused quickly with a clear message.
  const fast = { withinMs: 3000 };
  const tooDeep = { outcome: 'refused', errorName: 'NOT_SUPPORTED', message: 'nests brackets more than' } as const;
  const tooMany = { outcome: 'refused', errorName: 'NOT_SUPPORTED', message: 'tokens; the mesh gateway accepts at most' } as const;
  add('huge-or-deep', `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`, tooDeep, fast);
  add('huge-or-deep', `SELECT ${'('.repeat(100_000)}1`, tooDeep, fast);
  add('huge-or-deep', `SELECT * FROM ${'(SELECT * FROM '.repeat(1000)}${P}${')'.repeat(1000)}`, tooDeep, fast);
  add('huge-or-deep', `SELECT ${'ARRAY['.repeat(2000)}1${']'.repeat(2000)}`, tooDeep, fast);
  add('huge-or-deep', `SELECT ${'CASE WHEN true THEN '.repeat(5000)}1${' END'.repeat(5000)}`, tooDeep, fast);
  add('huge-or-deep', `SELECT count(*) FROM ${P} WHERE gender IN (${Array.from({ length: 60_000 }, () => "'x'").join(',')})`, tooMany, fast);
  add('huge-or-deep', `SELECT count(*) FROM ${P} WHERE gender IN (${Array.from({ length: 50_001 }, () => '1').join(',')})`, tooMany, fast);
  add('huge-or-deep', `SELECT 1 -- ${'x'.repeat(300 * 1024)}`, { outcome: 'refused', errorName: 'QUERY_REJECTED', message: 'statement is larger than' }, fast);
  // Each reference becomes its policy form (~1.4 KB with the opt-out subquery): 162 KB grow to 4.3 MB, which Trino refuses.
  add(
    'huge-or-deep',
    Array.from({ length: 3000 }, () => `SELECT nhs_number FROM ${P}`).join(' UNION ALL '),
    { outcome: 'refused', errorName: 'QUERY_TEXT_TOO_LARGE', message: 'exceeds the maximum length' },
    { withinMs: 20_000 },
  );
  add(
    'huge-or-deep',
    `SELECT ${'NOT '.repeat(20_000)}true`,
    { outcome: 'refused', errorName: 'NOT_SUPPORTED', message: 'nested too deeply' },
    { withinMs: 10_000 },
  );
  return out;
}

/** In `rows` of an oracle: the count the same statement gives without the oracle (filled in by the suite). */
export const countPlaceholder = '<visible patients>';

/** Facts for the corpus from the NDJSON ground truth, pseudonyms in the project keyed by `projectKeyHex`. */
export function groundTruthFacts(projectKeyHex: string): CorpusFacts {
  const patients: { domain: string; resource: Resource }[] = [];
  const vIds: string[] = [];
  for (const domain of DOMAINS) {
    for (const r of readResources(domain, 'Patient')) patients.push({ domain: domain.id, resource: r });
    if (fs.existsSync(path.join(paths.synthetic, domain.id, 'Observation.ndjson'))) {
      for (const r of readResources(domain, 'Observation')) if (securityCodes(r).some((c) => c.endsWith('|V'))) vIds.push(r.id);
    }
  }
  const out = optedOut().nhsNumbers;
  const isOut = (p: Resource): boolean => out.has(nhsNumberOf(p) ?? '');
  const profile = (p: Resource): { gender: string; year: number; district: string } => {
    const postcode = ((p.address as { postalCode?: string }[] | undefined)?.[0]?.postalCode ?? '').replace(/\s+/g, '').toUpperCase();
    return { gender: String(p.gender), year: Number(String(p.birthDate).slice(0, 4)), district: postcode.slice(0, -3) };
  };
  const key = (x: { gender: string; year: number; district: string }): string => `${x.gender}|${x.year}|${x.district}`;
  const visible = patients.filter((p) => !isOut(p.resource));
  const visibleProfiles = new Set(visible.map((p) => key(profile(p.resource))));
  const opted = patients.filter((p) => isOut(p.resource));
  const profiles = new Map<string, { gender: string; year: number; district: string }>();
  for (const p of opted) {
    const pr = profile(p.resource);
    if (!visibleProfiles.has(key(pr))) profiles.set(key(pr), pr);
  }
  const names = visible.flatMap((p) => ((p.resource.name ?? []) as { family?: string }[]).map((n) => n.family).filter((f): f is string => !!f));
  return {
    visibleNhsNumbers: visible.slice(0, 3).map((p) => nhsNumberOf(p.resource)!),
    optedOutNhsNumbers: [...out].slice(0, 3),
    rawPatientIds: visible.slice(0, 3).map((p) => p.resource.id),
    optedOutRawPatientIds: opted.slice(0, 3).map((p) => p.resource.id),
    optedOutPseudonyms: [...out].slice(0, 3).map((n) => pseudonym(projectKeyHex, n)),
    optedOutProfiles: [...profiles.values()].slice(0, 4),
    vLabelledObservationIds: vIds.slice(0, 3),
    familyNames: names.slice(0, 3),
  };
}
