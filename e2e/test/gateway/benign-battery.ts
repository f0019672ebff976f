// Benign analyst queries for the gateway: what an analyst with a research purpose writes every day,
// counts, cohorts, joins on pseudonymised patient keys, CTEs, windows, set operations, date arithmetic,
// metadata, EXPLAIN, prepared statements and USE. Each one must be answered, and answered as the policy
// form of the tables answers it (benign-oracle.ts), so a gateway that refuses or distorts ordinary work
// fails here. SQL is in the subset Trino and PostgreSQL run alike (benign-oracle.toPolicyPostgres);
// families over codes, years and districts take their constants from the data, so every query asks
// about something that is there. (SET SESSION fhir.pushdown_enabled is refused by design: with pushdown
// off the label filters would run in Trino, so it is not among the benign.)
import { TABLES } from '../connector/schema';
import type { TruthTables } from '../connector/truth';
import { policyColumns, policyColumnTypes } from './benign-oracle';

export interface BenignQuery {
  /** A family name for the summary (count, join, cte, metadata...). */
  family: string;
  /** The statement the analyst sends (after `setup`, in the same client session). */
  sql: string;
  /** Statements sent first in the same session: USE, SET SESSION, PREPARE. Each must succeed. */
  setup?: string[];
  /** What the oracle runs when it is not `sql` itself (EXECUTE ... USING: the query with the values). */
  oracleSql?: string;
  /** A fixed answer instead of the oracle (metadata: the policy form's columns). */
  expected?: unknown[][];
  /** Rows that must be among the answer (listings that may hold more, e.g. other published versions). */
  includes?: unknown[][];
  /** Only that it answers with at least one row (EXPLAIN, SHOW FUNCTIONS). */
  answers?: boolean;
  /** Column names the answer must have, in order. */
  columns?: string[];
  /** ORDER BY gives a total order: rows compared in sequence. */
  ordered?: boolean;
  /** The prepared statement the client must hold after `setup` (Added-Prepare gave back the analyst's text). */
  prepared?: { name: string; text: string };
}

export interface BenignFacts {
  conditionCodes: string[];
  icd10Categories: string[];
  icd10Chapters: string[];
  numericLoinc: string[];
  /** A middle value of each numeric LOINC code: value-range cohorts split there. */
  middle: Record<string, number>;
  componentCodes: string[];
  encounterTypes: string[];
  procedureCodes: string[];
  medicationCodes: string[];
  birthDecades: number[];
  districts: string[];
}

const C = 'fhir.default.condition';
const CS = 'fhir.default.consent';
const E = 'fhir.default.encounter';
const M = 'fhir.default.medication_request';
const O = 'fhir.default.observation';
const OC = 'fhir.default.observation_component';
const P = 'fhir.default.patient';
const PR = 'fhir.default.procedure';

export const POLICY_TABLES = TABLES.map((t) => t.name);

function str(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The most frequent values of `key` over `rows`, ties broken by value so the choice is stable. */
function top(rows: readonly Record<string, unknown>[], key: (r: Record<string, unknown>) => unknown, n: number): string[] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const v = key(r);
    if (typeof v === 'string' && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([v]) => v);
}

/** Constants for the query families, from the rows the research purpose sees. */
export function benignFacts(policy: TruthTables): BenignFacts {
  const conditions = policy.condition ?? [];
  const observations = (policy.observation ?? []).filter((o) => typeof o.value === 'number');
  const numericLoinc = top(observations, (o) => o.code, 18);
  const middle: Record<string, number> = {};
  for (const code of numericLoinc) {
    const values = observations
      .filter((o) => o.code === code)
      .map((o) => o.value as number)
      .sort((a, b) => a - b);
    middle[code] = values[Math.floor(values.length / 2)] ?? 0;
  }
  const years = (policy.patient ?? []).map((p) => Number(String(p.birth_date).slice(0, 4))).filter((y) => y > 0);
  return {
    conditionCodes: top(conditions, (c) => c.code, 20),
    icd10Categories: top(conditions, (c) => (typeof c.icd10_code === 'string' ? c.icd10_code.slice(0, 3) : null), 16),
    icd10Chapters: top(conditions, (c) => (typeof c.icd10_code === 'string' ? c.icd10_code.slice(0, 1) : null), 12),
    numericLoinc,
    middle,
    componentCodes: top(
      (policy.observation_component ?? []).filter((c) => typeof c.component_value === 'number'),
      (c) => c.component_code,
      10,
    ),
    encounterTypes: top(policy.encounter ?? [], (e) => e.type_code, 12),
    procedureCodes: top(policy.procedure ?? [], (p) => p.code, 14),
    medicationCodes: top(policy.medication_request ?? [], (m) => m.medication_code, 10),
    birthDecades: [...new Set(years.map((y) => Math.floor(y / 10) * 10))].sort(),
    districts: top(policy.patient ?? [], (p) => p.postcode, 8),
  };
}

function basics(): BenignQuery[] {
  const out: BenignQuery[] = [];
  for (const t of POLICY_TABLES) {
    const T = `fhir.default.${t}`;
    const key = t === 'patient' ? 'id' : 'patient_id';
    out.push({ family: 'count', sql: `SELECT count(*) FROM ${T}` });
    out.push({ family: 'group-by', sql: `SELECT domain, count(*) FROM ${T} GROUP BY domain` });
    // A patient seen at two trusts has one pseudonym, so counts once.
    out.push({ family: 'distinct-patients', sql: `SELECT count(DISTINCT ${key}) FROM ${T}` });
    out.push({ family: 'distinct-patients', sql: `SELECT domain, count(DISTINCT ${key}) AS patients FROM ${T} GROUP BY domain` });
  }
  return out;
}

function demographics(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [
    { family: 'group-by', sql: `SELECT gender, count(*) FROM ${P} GROUP BY gender` },
    { family: 'group-by', sql: `SELECT domain, gender, count(*) FROM ${P} GROUP BY domain, gender` },
    { family: 'group-by', sql: `SELECT EXTRACT(YEAR FROM birth_date) AS birth_year, count(*) FROM ${P} GROUP BY EXTRACT(YEAR FROM birth_date)` },
    { family: 'group-by', sql: `SELECT CAST(EXTRACT(YEAR FROM birth_date) AS integer) / 10 * 10 AS decade, gender, count(*) FROM ${P} GROUP BY 1, 2` },
    { family: 'count', sql: `SELECT min(birth_date), max(birth_date), count(DISTINCT birth_date) FROM ${P}` },
    { family: 'count', sql: `SELECT count(*) FROM ${P} WHERE birth_date < DATE '1970-01-01'` },
    { family: 'count', sql: `SELECT count(*) FROM ${P} WHERE birth_date BETWEEN DATE '1980-01-01' AND DATE '1999-12-31' AND gender = 'female'` },
    { family: 'group-by', sql: `SELECT postcode AS district, count(*) FROM ${P} GROUP BY postcode` },
    { family: 'group-by', sql: `SELECT domain, count(DISTINCT postcode) FROM ${P} GROUP BY domain` },
    { family: 'group-by', sql: `SELECT substr(postcode, 1, 2) AS area, count(DISTINCT id) FROM ${P} GROUP BY substr(postcode, 1, 2)` },
    { family: 'count', sql: `SELECT count(deceased_at), count(*) - count(deceased_at) FROM ${P}` },
    { family: 'group-by', sql: `SELECT managing_organization_id, count(*) FROM ${P} GROUP BY managing_organization_id` },
    // The pseudonym is per person: the same one at two trusts.
    { family: 'distinct-patients', sql: `SELECT id, count(*) AS trusts FROM ${P} GROUP BY id HAVING count(*) > 1` },
    { family: 'distinct-patients', sql: `SELECT count(*) FROM (SELECT id FROM ${P} GROUP BY id HAVING count(DISTINCT domain) > 1) AS shared` },
    { family: 'join', sql: `SELECT a.domain, b.domain, count(*) FROM ${P} a JOIN ${P} b ON a.id = b.id AND a.domain < b.domain GROUP BY a.domain, b.domain` },
    { family: 'group-by', sql: `SELECT gender, avg(EXTRACT(YEAR FROM birth_date)), min(EXTRACT(YEAR FROM birth_date)) FROM ${P} GROUP BY gender` },
    {
      family: 'date-arithmetic',
      sql:
        `SELECT CASE WHEN 2025 - EXTRACT(YEAR FROM birth_date) < 18 THEN '0-17' WHEN 2025 - EXTRACT(YEAR FROM birth_date) < 65 THEN '18-64' ELSE '65+' END AS age_band, ` +
        `count(DISTINCT id) FROM ${P} GROUP BY 1`,
    },
    { family: 'group-by', sql: `SELECT cardinality(security_labels) AS labels, count(*) FROM ${P} GROUP BY 1` },
    { family: 'count', sql: `SELECT count(*) FROM ${P} WHERE postcode IS NULL OR birth_date IS NULL` },
    { family: 'order-limit', sql: `SELECT domain, id, birth_date, postcode FROM ${P} ORDER BY birth_date, id, domain LIMIT 10`, ordered: true },
    { family: 'order-limit', sql: `SELECT postcode, count(*) AS n FROM ${P} GROUP BY postcode ORDER BY n DESC, postcode LIMIT 5`, ordered: true },
    { family: 'group-by', sql: `SELECT domain, min(birth_date), max(birth_date) FROM ${P} WHERE gender = 'male' GROUP BY domain` },
  ];
  for (const decade of f.birthDecades) {
    out.push({
      family: 'group-by',
      sql: `SELECT gender, count(*) FROM ${P} WHERE birth_date >= DATE '${decade}-01-01' AND birth_date < DATE '${decade + 10}-01-01' GROUP BY gender`,
    });
  }
  for (const district of f.districts) {
    out.push({ family: 'group-by', sql: `SELECT domain, gender, count(*) FROM ${P} WHERE postcode = ${str(district)} GROUP BY domain, gender` });
  }
  return out;
}

function conditions(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [];
  for (const code of f.conditionCodes) {
    out.push({
      family: 'cohort-snomed',
      sql: `SELECT count(*), count(DISTINCT patient_id), min(onset), max(onset) FROM ${C} WHERE code = ${str(code)}`,
    });
  }
  for (const category of f.icd10Categories) {
    out.push({ family: 'cohort-icd10', sql: `SELECT count(DISTINCT patient_id) FROM ${C} WHERE icd10_code LIKE ${str(`${category}%`)}` });
  }
  for (const chapter of f.icd10Chapters) {
    out.push({
      family: 'cohort-icd10',
      sql: `SELECT substr(icd10_code, 1, 3) AS category, count(*), count(DISTINCT patient_id) FROM ${C} WHERE icd10_code LIKE ${str(`${chapter}%`)} GROUP BY substr(icd10_code, 1, 3)`,
    });
  }
  out.push(
    { family: 'group-by', sql: `SELECT domain, clinical_status, count(*) FROM ${C} GROUP BY domain, clinical_status` },
    { family: 'group-by', sql: `SELECT EXTRACT(YEAR FROM onset) AS y, count(*) FROM ${C} GROUP BY EXTRACT(YEAR FROM onset)` },
    { family: 'group-by', sql: `SELECT clinical_status, count(abatement), count(*) FROM ${C} GROUP BY clinical_status` },
    { family: 'count', sql: `SELECT count(*) FROM ${C} WHERE encounter_id IS NULL` },
    { family: 'count', sql: `SELECT count(*) FROM ${C} WHERE icd10_code IS NULL AND verification_status = 'confirmed'` },
    {
      family: 'group-by',
      sql: `SELECT n AS conditions_per_patient, count(*) AS patients FROM (SELECT patient_id, count(*) AS n FROM ${C} GROUP BY patient_id) AS per_patient GROUP BY n`,
    },
    { family: 'group-by', sql: `SELECT contains(security_labels, 'R') AS restricted, count(*) FROM ${C} GROUP BY 1` },
    { family: 'group-by', sql: `SELECT starts_with(code_display, 'Chronic') AS chronic, count(*) FROM ${C} GROUP BY 1` },
    {
      family: 'group-by',
      sql: `SELECT code, clinical_status, count(*) FROM ${C} WHERE code IN (${f.conditionCodes.slice(0, 8).map(str).join(', ')}) GROUP BY code, clinical_status`,
    },
    { family: 'group-by', sql: `SELECT count(*) FILTER (WHERE clinical_status = 'active'), count(*) FILTER (WHERE abatement IS NOT NULL) FROM ${C}` },
    { family: 'count', sql: `SELECT count(*) FROM ${C} WHERE lower(code_display) LIKE '%diabetes%'` },
    { family: 'group-by', sql: `SELECT strpos(code_display, '(') > 0 AS has_semantic_tag, count(DISTINCT code) FROM ${C} GROUP BY 1` },
  );
  return out;
}

function observations(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [];
  for (const code of f.numericLoinc) {
    out.push({
      family: 'observation-code',
      sql: `SELECT unit, count(*), min(value), max(value), avg(value) FROM ${O} WHERE code = ${str(code)} GROUP BY unit`,
    });
  }
  for (const code of f.numericLoinc.slice(0, 12)) {
    out.push({
      family: 'cohort-loinc-range',
      sql: `SELECT count(DISTINCT patient_id), count(*) FROM ${O} WHERE code = ${str(code)} AND value > ${f.middle[code]}`,
    });
  }
  for (const code of f.componentCodes) {
    out.push({
      family: 'observation-code',
      sql: `SELECT code, count(*), min(component_value), max(component_value) FROM ${OC} WHERE component_code = ${str(code)} GROUP BY code`,
    });
  }
  out.push(
    { family: 'group-by', sql: `SELECT category, count(*) FROM ${O} GROUP BY category` },
    { family: 'group-by', sql: `SELECT domain, status, count(*) FROM ${O} GROUP BY domain, status` },
    { family: 'group-by', sql: `SELECT value_code, count(*) FROM ${O} WHERE code = '72166-2' GROUP BY value_code` },
    {
      family: 'cohort-loinc-range',
      sql:
        `SELECT CASE WHEN value < 18.5 THEN 'underweight' WHEN value < 25 THEN 'healthy' WHEN value < 30 THEN 'overweight' ELSE 'obese' END AS bmi_class, ` +
        `count(DISTINCT patient_id) FROM ${O} WHERE code = '39156-5' GROUP BY 1`,
    },
    { family: 'cohort-loinc-range', sql: `SELECT count(DISTINCT patient_id) FROM ${O} WHERE code = '4548-4' AND value >= 6.5` },
    { family: 'cohort-loinc-range', sql: `SELECT count(*) FROM ${O} WHERE code = '8867-4' AND value BETWEEN 60 AND 100` },
    { family: 'cohort-loinc-range', sql: `SELECT count(DISTINCT patient_id) FROM ${OC} WHERE component_code = '8480-6' AND component_value >= 140` },
    { family: 'cohort-loinc-range', sql: `SELECT count(DISTINCT patient_id) FROM ${OC} WHERE component_code = '8462-4' AND component_value >= 90` },
    { family: 'group-by', sql: `SELECT EXTRACT(YEAR FROM effective) AS y, count(*), avg(value) FROM ${O} WHERE code = '8867-4' GROUP BY 1` },
    { family: 'count', sql: `SELECT count(*) FROM ${O} WHERE value_string IS NOT NULL` },
    { family: 'group-by', sql: `SELECT floor(value / 10) * 10 AS band, count(*) FROM ${O} WHERE code = '29463-7' GROUP BY 1` },
    { family: 'group-by', sql: `SELECT code, count(*), stddev_samp(value) FROM ${O} WHERE category = 'vital-signs' AND value IS NOT NULL GROUP BY code` },
    { family: 'group-by', sql: `SELECT component_code, count(*), count(component_value) FROM ${OC} WHERE code = '85354-9' GROUP BY component_code` },
    { family: 'count', sql: `SELECT count(*) FROM ${O} WHERE issued >= effective` },
  );
  return out;
}

function encounters(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [
    { family: 'group-by', sql: `SELECT class_code, count(*) FROM ${E} GROUP BY class_code` },
    { family: 'group-by', sql: `SELECT domain, class_code, count(DISTINCT patient_id) FROM ${E} GROUP BY domain, class_code` },
    { family: 'group-by', sql: `SELECT EXTRACT(YEAR FROM start) AS y, class_code, count(*) FROM ${E} GROUP BY 1, 2` },
    { family: 'group-by', sql: `SELECT service_provider_id, count(*) FROM ${E} GROUP BY service_provider_id` },
    { family: 'group-by', sql: `SELECT status, count(*) FROM ${E} GROUP BY status` },
    {
      family: 'date-arithmetic',
      sql:
        `SELECT CASE WHEN "end" - start <= INTERVAL '1' HOUR THEN 'up to 1 h' WHEN "end" - start <= INTERVAL '1' DAY THEN 'same day' ELSE 'longer' END AS stay, ` +
        `count(*) FROM ${E} GROUP BY 1`,
    },
    {
      family: 'date-arithmetic',
      sql: `SELECT EXTRACT(MONTH FROM start) AS m, count(*) FROM ${E} WHERE start >= TIMESTAMP '2024-01-01 00:00:00 UTC' AND start < TIMESTAMP '2025-01-01 00:00:00 UTC' GROUP BY 1`,
    },
    { family: 'date-arithmetic', sql: `SELECT date_trunc('month', start) AS month, count(*) FROM ${E} WHERE class_code = 'EMER' GROUP BY 1` },
    { family: 'date-arithmetic', sql: `SELECT EXTRACT(QUARTER FROM start) AS q, count(*) FROM ${E} WHERE EXTRACT(YEAR FROM start) = 2023 GROUP BY 1` },
    { family: 'date-arithmetic', sql: `SELECT EXTRACT(HOUR FROM start) AS h, count(*) FROM ${E} WHERE class_code = 'AMB' GROUP BY 1` },
    {
      family: 'group-by',
      sql: `SELECT n AS encounters, count(*) AS patients FROM (SELECT patient_id, count(*) AS n FROM ${E} GROUP BY patient_id) AS per_patient GROUP BY n`,
    },
    { family: 'count', sql: `SELECT count(*) FROM ${E} WHERE "end" > start + INTERVAL '1' DAY` },
  ];
  for (const type of f.encounterTypes) {
    out.push({
      family: 'encounter-type',
      sql: `SELECT class_code, count(*), count(DISTINCT patient_id) FROM ${E} WHERE type_code = ${str(type)} GROUP BY class_code`,
    });
  }
  return out;
}

function proceduresAndMedication(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [];
  for (const code of f.procedureCodes) {
    out.push({
      family: 'procedure-code',
      sql: `SELECT count(*), count(DISTINCT patient_id), min(performed_start), max(performed_end) FROM ${PR} WHERE code = ${str(code)}`,
    });
  }
  for (const code of f.medicationCodes) {
    out.push({
      family: 'medication-code',
      sql: `SELECT status, intent, count(*), count(DISTINCT patient_id) FROM ${M} WHERE medication_code = ${str(code)} GROUP BY status, intent`,
    });
  }
  out.push(
    { family: 'group-by', sql: `SELECT reason_code, count(*) FROM ${PR} GROUP BY reason_code` },
    { family: 'group-by', sql: `SELECT EXTRACT(YEAR FROM performed_start) AS y, count(*) FROM ${PR} GROUP BY 1` },
    { family: 'group-by', sql: `SELECT status, intent, count(*) FROM ${M} GROUP BY status, intent` },
    { family: 'group-by', sql: `SELECT EXTRACT(YEAR FROM authored_on) AS y, count(DISTINCT medication_code) FROM ${M} GROUP BY 1` },
    { family: 'count', sql: `SELECT count(*) FROM ${M} WHERE reason_condition_id IS NOT NULL` },
    { family: 'count', sql: `SELECT count(*), count(DISTINCT requester_id) FROM ${M}` },
    {
      family: 'order-limit',
      sql: `SELECT medication_code, count(*) AS n FROM ${M} GROUP BY medication_code ORDER BY n DESC, medication_code LIMIT 10`,
      ordered: true,
    },
    {
      family: 'order-limit',
      sql: `SELECT code, count(DISTINCT patient_id) AS patients FROM ${PR} GROUP BY code ORDER BY patients DESC, code LIMIT 10`,
      ordered: true,
    },
  );
  return out;
}

function joins(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [];
  for (const category of f.icd10Categories.slice(0, 10)) {
    out.push({
      family: 'join',
      sql: `SELECT p.gender, count(DISTINCT p.id) FROM ${C} c JOIN ${P} p ON c.patient_id = p.id WHERE c.icd10_code LIKE ${str(`${category}%`)} GROUP BY p.gender`,
    });
  }
  for (const code of f.conditionCodes.slice(0, 6)) {
    out.push({
      family: 'date-arithmetic',
      sql:
        `SELECT CAST(EXTRACT(YEAR FROM c.onset) - EXTRACT(YEAR FROM p.birth_date) AS integer) / 10 * 10 AS age_at_onset, count(*) ` +
        `FROM ${C} c JOIN ${P} p ON c.patient_id = p.id AND c.domain = p.domain WHERE c.code = ${str(code)} GROUP BY 1`,
    });
  }
  out.push(
    {
      family: 'join',
      sql: `SELECT p.gender, count(*), avg(o.value) FROM ${O} o JOIN ${P} p ON o.patient_id = p.id AND o.domain = p.domain WHERE o.code = '39156-5' GROUP BY p.gender`,
    },
    {
      family: 'join',
      sql: `SELECT CAST(EXTRACT(YEAR FROM p.birth_date) AS integer) / 10 * 10 AS decade, count(*), max(o.value) FROM ${O} o JOIN ${P} p ON o.patient_id = p.id AND o.domain = p.domain WHERE o.code = '4548-4' GROUP BY 1`,
    },
    { family: 'join', sql: `SELECT e.class_code, count(*) FROM ${E} e JOIN ${C} c ON c.encounter_id = e.id GROUP BY e.class_code` },
    { family: 'join', sql: `SELECT c.code, count(*) FROM ${M} m JOIN ${C} c ON m.reason_condition_id = c.id GROUP BY c.code` },
    { family: 'join', sql: `SELECT e.class_code, count(DISTINCT pr.code) FROM ${PR} pr JOIN ${E} e ON pr.encounter_id = e.id GROUP BY e.class_code` },
    { family: 'join', sql: `SELECT e.class_code, o.category, count(*) FROM ${O} o JOIN ${E} e ON o.encounter_id = e.id GROUP BY e.class_code, o.category` },
    { family: 'join', sql: `SELECT p.domain, count(c.id) FROM ${P} p LEFT JOIN ${C} c ON c.patient_id = p.id AND c.domain = p.domain GROUP BY p.domain` },
    {
      family: 'join',
      sql: `SELECT count(*) FROM ${P} p LEFT JOIN ${M} m ON m.patient_id = p.id AND m.domain = p.domain WHERE m.id IS NULL`,
    },
    {
      family: 'join',
      sql:
        `SELECT p.gender, count(DISTINCT m.medication_code) FROM ${P} p JOIN ${C} c ON c.patient_id = p.id JOIN ${M} m ON m.patient_id = p.id ` +
        `WHERE c.icd10_code LIKE 'I10%' GROUP BY p.gender`,
    },
    {
      family: 'join',
      sql: `SELECT p.postcode, count(DISTINCT c.patient_id) FROM ${C} c JOIN ${P} p ON c.patient_id = p.id WHERE c.code = ${str(f.conditionCodes[0] ?? '')} GROUP BY p.postcode`,
    },
    // Pseudonyms join across tables and trusts: a condition recorded at one trust meets a medication at another.
    {
      family: 'join',
      sql: `SELECT count(DISTINCT c.patient_id) FROM ${C} c JOIN ${M} m ON m.patient_id = c.patient_id AND m.domain <> c.domain`,
    },
    {
      family: 'join',
      sql: `SELECT e.domain, count(*) FROM ${E} e JOIN ${P} p ON e.patient_id = p.id AND e.domain = p.domain WHERE p.gender = 'female' GROUP BY e.domain`,
    },
    {
      family: 'join',
      sql: `SELECT oc.component_code, avg(oc.component_value) FROM ${OC} oc JOIN ${P} p ON oc.patient_id = p.id AND oc.domain = p.domain WHERE p.gender = 'male' GROUP BY oc.component_code`,
    },
    {
      family: 'join',
      sql: `SELECT count(*) FROM ${E} e JOIN ${PR} pr ON pr.encounter_id = e.id WHERE pr.performed_start >= e.start AND e.class_code = 'AMB'`,
    },
    { family: 'join', sql: `SELECT cs.domain, count(*) FROM ${CS} cs JOIN ${P} p ON cs.patient_id = p.id GROUP BY cs.domain` },
  );
  return out;
}

function ctes(f: BenignFacts): BenignQuery[] {
  const diabetes = `SELECT DISTINCT patient_id FROM ${C} WHERE icd10_code LIKE 'E11%'`;
  const hypertension = `SELECT DISTINCT patient_id FROM ${C} WHERE icd10_code LIKE 'I10%'`;
  return [
    {
      family: 'cte',
      sql: `WITH diabetics AS (${diabetes}), poorly_controlled AS (SELECT DISTINCT patient_id FROM ${O} WHERE code = '4548-4' AND value > 7) SELECT count(*) FROM diabetics d JOIN poorly_controlled c ON c.patient_id = d.patient_id`,
    },
    {
      family: 'cte',
      sql: `WITH hypertensive AS (${hypertension}), high_systolic AS (SELECT DISTINCT patient_id FROM ${OC} WHERE component_code = '8480-6' AND component_value >= 140) SELECT count(*) FROM hypertensive h WHERE h.patient_id IN (SELECT patient_id FROM high_systolic)`,
    },
    {
      family: 'cte',
      sql: `WITH obese AS (SELECT DISTINCT patient_id FROM ${O} WHERE code = '39156-5' AND value >= 30) SELECT p.gender, count(DISTINCT p.id) FROM obese o JOIN ${P} p ON p.id = o.patient_id GROUP BY p.gender`,
    },
    {
      family: 'cte',
      sql: `WITH per_patient AS (SELECT patient_id, count(*) AS n FROM ${E} GROUP BY patient_id) SELECT min(n), max(n), avg(n), count(*) FROM per_patient`,
    },
    {
      family: 'cte',
      sql: `WITH cohort AS (${diabetes}) SELECT e.class_code, count(*) FROM ${E} e JOIN cohort c ON c.patient_id = e.patient_id GROUP BY e.class_code`,
    },
    {
      family: 'cte',
      sql: `WITH cohort AS (${diabetes}), meds AS (SELECT m.medication_code, m.patient_id FROM ${M} m JOIN cohort c ON c.patient_id = m.patient_id) SELECT medication_code, count(DISTINCT patient_id) FROM meds GROUP BY medication_code`,
    },
    {
      family: 'cte',
      sql: `WITH first_onset AS (SELECT patient_id, min(onset) AS first FROM ${C} WHERE icd10_code LIKE 'E11%' GROUP BY patient_id) SELECT EXTRACT(YEAR FROM first) AS y, count(*) FROM first_onset GROUP BY 1`,
    },
    {
      family: 'cte',
      sql: `WITH codes(prefix, label) AS (VALUES ('E11', 'type 2 diabetes'), ('I10', 'hypertension'), ('J', 'respiratory'), ('K0', 'dental')) SELECT codes.label, count(DISTINCT c.patient_id) FROM codes LEFT JOIN ${C} c ON c.icd10_code LIKE codes.prefix || '%' GROUP BY codes.label`,
    },
    {
      family: 'cte',
      sql: `WITH a AS (SELECT patient_id FROM ${C} WHERE code = ${str(f.conditionCodes[0] ?? '')}), b AS (SELECT patient_id FROM ${C} WHERE code = ${str(f.conditionCodes[1] ?? '')}) SELECT (SELECT count(DISTINCT patient_id) FROM a), (SELECT count(DISTINCT patient_id) FROM b), (SELECT count(DISTINCT a.patient_id) FROM a JOIN b ON a.patient_id = b.patient_id)`,
    },
    {
      family: 'cte',
      sql: `WITH patient AS (SELECT id, gender FROM ${P} WHERE gender = 'female') SELECT count(*) FROM patient`,
    },
    {
      family: 'subquery',
      sql: `SELECT count(*) FROM ${P} p WHERE EXISTS (SELECT 1 FROM ${C} c WHERE c.patient_id = p.id AND c.icd10_code LIKE 'E66%')`,
    },
    {
      family: 'subquery',
      sql: `SELECT count(*) FROM ${P} p WHERE NOT EXISTS (SELECT 1 FROM ${E} e WHERE e.patient_id = p.id AND e.class_code = 'EMER')`,
    },
    { family: 'subquery', sql: `SELECT gender, count(*) FROM ${P} WHERE id IN (SELECT patient_id FROM ${M} WHERE status = 'active') GROUP BY gender` },
    { family: 'subquery', sql: `SELECT count(*) FROM ${O} WHERE code = '8867-4' AND value > (SELECT avg(value) FROM ${O} WHERE code = '8867-4')` },
    { family: 'subquery', sql: `SELECT domain, n FROM (SELECT domain, count(*) AS n FROM ${C} GROUP BY domain) AS per_domain WHERE n > 10` },
    { family: 'subquery', sql: `SELECT count(*) FROM (TABLE ${P}) AS everyone` },
    {
      family: 'subquery',
      sql: `SELECT count(DISTINCT patient_id) FROM ${PR} WHERE patient_id NOT IN (SELECT patient_id FROM ${C} WHERE patient_id IS NOT NULL)`,
    },
    {
      family: 'cte',
      sql: `WITH years AS (SELECT EXTRACT(YEAR FROM onset) AS y, patient_id FROM ${C}) SELECT y, count(DISTINCT patient_id) FROM years WHERE y >= 2020 GROUP BY y`,
    },
  ];
}

function windows(f: BenignFacts): BenignQuery[] {
  return [
    {
      family: 'window',
      sql: `SELECT code, count(*) FROM (SELECT patient_id, code, row_number() OVER (PARTITION BY patient_id ORDER BY onset, id) AS rn FROM ${C}) AS firsts WHERE rn = 1 GROUP BY code`,
    },
    {
      family: 'window',
      sql: `SELECT domain, code, n, rank() OVER (PARTITION BY domain ORDER BY n DESC) AS r FROM (SELECT domain, code, count(*) AS n FROM ${C} GROUP BY domain, code) AS counts`,
    },
    {
      family: 'window',
      sql: `SELECT y, n, sum(n) OVER (ORDER BY y) AS running FROM (SELECT EXTRACT(YEAR FROM start) AS y, count(*) AS n FROM ${E} GROUP BY 1) AS per_year ORDER BY y`,
      ordered: true,
    },
    {
      family: 'window',
      sql: `SELECT count(*) FROM (SELECT patient_id, start, lag(start) OVER (PARTITION BY patient_id ORDER BY start, id) AS previous FROM ${E}) AS visits WHERE previous IS NOT NULL AND start < previous + INTERVAL '30' DAY`,
    },
    {
      family: 'window',
      sql: `SELECT patient_id, value, dense_rank() OVER (ORDER BY value DESC) AS r FROM ${O} WHERE code = '4548-4' AND value IS NOT NULL ORDER BY r, patient_id, value LIMIT 15`,
      ordered: true,
    },
    {
      family: 'window',
      sql: `SELECT gender, id, count(*) OVER (PARTITION BY gender) AS same_gender FROM ${P} WHERE postcode = ${str(f.districts[0] ?? '')}`,
    },
    {
      family: 'window',
      sql: `SELECT quartile, count(*), min(value), max(value) FROM (SELECT value, ntile(4) OVER (ORDER BY value, id) AS quartile FROM ${O} WHERE code = '8302-2') AS q GROUP BY quartile`,
    },
    {
      family: 'window',
      sql: `SELECT patient_id, code, first_value(code) OVER (PARTITION BY patient_id ORDER BY performed_start, id) AS first_code FROM ${PR} WHERE code = ${str(f.procedureCodes[0] ?? '')}`,
    },
    {
      family: 'window',
      sql: `SELECT medication_code, n, percent_rank() OVER (ORDER BY n) AS pr FROM (SELECT medication_code, count(*) AS n FROM ${M} GROUP BY medication_code) AS counts`,
    },
    {
      family: 'window',
      sql: `SELECT domain, class_code, count(*) AS n, sum(count(*)) OVER (PARTITION BY domain) AS domain_total FROM ${E} GROUP BY domain, class_code`,
    },
    {
      family: 'window',
      sql: `SELECT count(*) FROM (SELECT patient_id, row_number() OVER (PARTITION BY patient_id ORDER BY effective DESC, id) AS rn FROM ${O} WHERE code = '39156-5') AS latest WHERE rn = 1`,
    },
    {
      family: 'window',
      sql: `SELECT n, count(*) FROM (SELECT patient_id, count(*) OVER (PARTITION BY patient_id) AS n FROM ${M}) AS per GROUP BY n`,
    },
  ];
}

function setOperations(f: BenignFacts): BenignQuery[] {
  const dm = `SELECT patient_id FROM ${C} WHERE icd10_code LIKE 'E11%'`;
  const htn = `SELECT patient_id FROM ${C} WHERE icd10_code LIKE 'I10%'`;
  return [
    { family: 'set-operation', sql: `SELECT count(*) FROM (${dm} UNION ${htn}) AS either` },
    { family: 'set-operation', sql: `SELECT count(*) FROM (${dm} INTERSECT ${htn}) AS both_conditions` },
    { family: 'set-operation', sql: `SELECT count(*) FROM (${dm} EXCEPT ${htn}) AS only_diabetes` },
    { family: 'set-operation', sql: `SELECT count(*) FROM (${dm} UNION ALL ${htn}) AS rows_of_both` },
    {
      family: 'set-operation',
      sql: `SELECT 'condition' AS source, count(*) FROM ${C} UNION ALL SELECT 'procedure', count(*) FROM ${PR} UNION ALL SELECT 'encounter', count(*) FROM ${E}`,
    },
    {
      family: 'set-operation',
      sql: `SELECT count(*) FROM (SELECT patient_id FROM ${E} WHERE class_code = 'EMER' INTERSECT SELECT patient_id FROM ${E} WHERE class_code = 'IMP') AS both_classes`,
    },
    { family: 'set-operation', sql: `SELECT count(*) FROM (SELECT id FROM ${P} EXCEPT SELECT patient_id FROM ${O}) AS never_observed` },
    {
      family: 'set-operation',
      sql: `SELECT domain FROM ${P} WHERE gender = 'female' UNION SELECT domain FROM ${E} WHERE class_code = 'HH'`,
    },
    {
      family: 'set-operation',
      sql: `SELECT code FROM ${C} WHERE domain = 'RX1' INTERSECT SELECT code FROM ${C} WHERE domain = 'RTH' INTERSECT SELECT code FROM ${C} WHERE domain = 'RR8'`,
    },
    {
      family: 'set-operation',
      sql: `SELECT count(DISTINCT patient_id) FROM (SELECT patient_id FROM ${PR} WHERE code = ${str(f.procedureCodes[0] ?? '')} UNION ALL SELECT patient_id FROM ${M} WHERE medication_code = ${str(f.medicationCodes[0] ?? '')}) AS treated`,
    },
    {
      family: 'set-operation',
      sql: `SELECT x FROM (SELECT medication_code AS x FROM ${M} EXCEPT SELECT medication_code FROM ${M} WHERE status = 'active') AS never_active`,
    },
    {
      family: 'set-operation',
      sql: `SELECT y, count(*) FROM (SELECT EXTRACT(YEAR FROM onset) AS y FROM ${C} UNION ALL SELECT EXTRACT(YEAR FROM performed_start) FROM ${PR}) AS events GROUP BY y`,
    },
  ];
}

function dates(): BenignQuery[] {
  return [
    {
      family: 'date-arithmetic',
      sql: `SELECT count(*) FROM ${C} WHERE onset >= TIMESTAMP '2020-01-01 00:00:00 UTC' AND onset < TIMESTAMP '2023-01-01 00:00:00 UTC'`,
    },
    { family: 'date-arithmetic', sql: `SELECT CAST(onset AS date) AS day, count(*) FROM ${C} WHERE onset >= TIMESTAMP '2025-01-01 00:00:00 UTC' GROUP BY 1` },
    { family: 'date-arithmetic', sql: `SELECT count(*) FROM ${C} WHERE abatement IS NOT NULL AND abatement - onset > INTERVAL '30' DAY` },
    { family: 'date-arithmetic', sql: `SELECT count(*) FROM ${C} WHERE abatement < onset + INTERVAL '14' DAY` },
    {
      family: 'date-arithmetic',
      sql: `SELECT count(DISTINCT p.id) FROM ${P} p JOIN ${E} e ON e.patient_id = p.id AND e.domain = p.domain WHERE CAST(e.start AS date) < CAST(p.birth_date + INTERVAL '18' YEAR AS date)`,
    },
    { family: 'date-arithmetic', sql: `SELECT CAST(birth_date + INTERVAL '65' YEAR AS date) AS pension_year, count(*) FROM ${P} GROUP BY 1` },
    { family: 'date-arithmetic', sql: `SELECT date_trunc('year', authored_on) AS y, count(*) FROM ${M} GROUP BY 1` },
    { family: 'date-arithmetic', sql: `SELECT count(*) FROM ${PR} WHERE performed_end - performed_start >= INTERVAL '30' MINUTE` },
    {
      family: 'date-arithmetic',
      sql: `SELECT EXTRACT(YEAR FROM o.effective) - EXTRACT(YEAR FROM p.birth_date) AS age, avg(o.value) FROM ${O} o JOIN ${P} p ON o.patient_id = p.id AND o.domain = p.domain WHERE o.code = '8302-2' AND EXTRACT(YEAR FROM o.effective) - EXTRACT(YEAR FROM p.birth_date) < 18 GROUP BY 1`,
    },
    { family: 'date-arithmetic', sql: `SELECT greatest(max(onset), max(recorded_date)) >= least(min(onset), min(recorded_date)) FROM ${C}` },
    { family: 'date-arithmetic', sql: `SELECT EXTRACT(YEAR FROM provision_start), count(*) FROM ${CS} GROUP BY 1` },
  ];
}

function ordering(f: BenignFacts): BenignQuery[] {
  return [
    { family: 'order-limit', sql: `SELECT code, count(*) AS n FROM ${C} GROUP BY code ORDER BY n DESC, code LIMIT 10`, ordered: true },
    {
      family: 'order-limit',
      sql: `SELECT domain, id, onset FROM ${C} WHERE code = ${str(f.conditionCodes[0] ?? '')} ORDER BY onset DESC, id LIMIT 10`,
      ordered: true,
    },
    { family: 'order-limit', sql: `SELECT id, value FROM ${O} WHERE code = '8867-4' ORDER BY value DESC NULLS LAST, id LIMIT 12`, ordered: true },
    { family: 'order-limit', sql: `SELECT class_code, count(*) FROM ${E} GROUP BY class_code ORDER BY 2, 1`, ordered: true },
    { family: 'order-limit', sql: `SELECT id, start FROM ${E} ORDER BY start, id OFFSET 5 ROWS FETCH FIRST 5 ROWS ONLY`, ordered: true },
    { family: 'order-limit', sql: `SELECT patient_id, count(*) AS n FROM ${O} GROUP BY patient_id ORDER BY n DESC, patient_id LIMIT 5`, ordered: true },
    { family: 'order-limit', sql: `SELECT postcode, gender, count(*) FROM ${P} GROUP BY postcode, gender ORDER BY postcode, gender`, ordered: true },
    {
      family: 'order-limit',
      sql: `SELECT id, performed_start FROM ${PR} WHERE code = ${str(f.procedureCodes[1] ?? '')} ORDER BY performed_start, id LIMIT 8`,
      ordered: true,
    },
    { family: 'order-limit', sql: `SELECT DISTINCT icd10_code FROM ${C} WHERE icd10_code IS NOT NULL ORDER BY icd10_code LIMIT 20`, ordered: true },
    { family: 'order-limit', sql: `SELECT DISTINCT unit FROM ${O} WHERE category = 'laboratory' AND unit IS NOT NULL ORDER BY unit`, ordered: true },
    {
      family: 'order-limit',
      sql: `SELECT type_code, type_display FROM ${E} GROUP BY type_code, type_display ORDER BY type_code, type_display LIMIT 10`,
      ordered: true,
    },
    {
      family: 'order-limit',
      sql: `SELECT domain, id, birth_date FROM ${P} WHERE gender = 'female' ORDER BY birth_date DESC, id, domain LIMIT 7`,
      ordered: true,
    },
  ];
}

function metadata(): BenignQuery[] {
  const out: BenignQuery[] = [];
  const showColumns = (t: string): unknown[][] => policyColumnTypes(t).map(([n, type]) => [n, type, '', '']);
  for (const t of POLICY_TABLES) {
    out.push({
      family: 'metadata',
      sql: `SHOW COLUMNS FROM fhir.default.${t}`,
      expected: showColumns(t),
      ordered: true,
      columns: ['Column', 'Type', 'Extra', 'Comment'],
    });
    out.push({ family: 'metadata', sql: `DESCRIBE fhir.default.${t}`, expected: showColumns(t), ordered: true });
    out.push({
      family: 'metadata',
      sql: `SELECT column_name, data_type FROM fhir.information_schema.columns WHERE table_schema = 'default' AND table_name = '${t}' ORDER BY ordinal_position`,
      expected: policyColumnTypes(t),
      ordered: true,
    });
    // What a client sees of a table before reading it: the policy form's columns, nothing more.
    out.push({ family: 'metadata', sql: `SELECT * FROM fhir.default.${t} LIMIT 0`, expected: [], columns: policyColumns(t).map(([n]) => n) });
  }
  for (const t of ['patient', 'condition', 'observation']) {
    out.push({
      family: 'metadata',
      sql: `SELECT column_name FROM system.jdbc.columns WHERE table_cat = 'fhir' AND table_schem = 'default' AND table_name = '${t}' ORDER BY ordinal_position`,
      expected: policyColumns(t).map(([n]) => [n]),
      ordered: true,
    });
  }
  out.push(
    {
      family: 'metadata',
      sql: `SHOW COLUMNS FROM fhir.default.observation LIKE 'code%'`,
      expected: showColumns('observation').filter(([n]) => String(n).startsWith('code')),
      ordered: true,
    },
    { family: 'metadata', sql: 'SHOW TABLES FROM fhir.default', includes: POLICY_TABLES.map((t) => [t]) },
    { family: 'metadata', sql: "SHOW TABLES FROM fhir.default LIKE 'observation%'", includes: [['observation'], ['observation_component']] },
    { family: 'metadata', sql: 'SHOW SCHEMAS FROM fhir', includes: [['default'], ['information_schema']] },
    { family: 'metadata', sql: 'SHOW CATALOGS', includes: [['fhir']] },
    {
      family: 'metadata',
      sql: `SELECT table_name FROM fhir.information_schema.tables WHERE table_schema = 'default' AND table_name IN (${POLICY_TABLES.map(str).join(', ')})`,
      expected: POLICY_TABLES.map((t) => [t]),
    },
    {
      family: 'metadata',
      sql: `SELECT table_name, count(*) FROM fhir.information_schema.columns WHERE table_schema = 'default' AND table_name IN (${POLICY_TABLES.map(str).join(', ')}) GROUP BY table_name`,
      expected: POLICY_TABLES.map((t) => [t, policyColumns(t).length]),
    },
    {
      family: 'metadata',
      sql: `SELECT table_name FROM fhir.information_schema.columns WHERE table_schema = 'default' AND column_name = 'birth_date' AND table_name IN (${POLICY_TABLES.map(str).join(', ')})`,
      expected: [['patient']],
    },
    { family: 'metadata', sql: "SHOW FUNCTIONS LIKE 'date_%'", answers: true },
    { family: 'metadata', sql: 'SHOW SESSION', answers: true },
    { family: 'metadata', sql: 'SELECT current_user', answers: true },
    { family: 'metadata', sql: 'SELECT version()', answers: true },
  );
  return out;
}

function explain(f: BenignFacts): BenignQuery[] {
  return [
    `EXPLAIN SELECT count(*) FROM ${P}`,
    `EXPLAIN SELECT gender, count(*) FROM ${P} GROUP BY gender`,
    `EXPLAIN SELECT c.code, count(*) FROM ${C} c JOIN ${P} p ON c.patient_id = p.id GROUP BY c.code`,
    `EXPLAIN (TYPE LOGICAL) SELECT count(*) FROM ${O} WHERE code = ${str(f.numericLoinc[0] ?? '')}`,
    `EXPLAIN (TYPE DISTRIBUTED, FORMAT TEXT) SELECT class_code FROM ${E} WHERE start > TIMESTAMP '2024-01-01 00:00:00 UTC'`,
    `EXPLAIN (TYPE IO, FORMAT JSON) SELECT count(*) FROM ${C} WHERE code = ${str(f.conditionCodes[0] ?? '')}`,
  ].map((sql) => ({ family: 'explain', sql, answers: true }));
}

/** PREPARE, then EXECUTE ... USING: the client resends the prepared text the gateway gave back in Added-Prepare. */
function prepared(f: BenignFacts): BenignQuery[] {
  const out: BenignQuery[] = [];
  const byCode = `SELECT count(*), count(DISTINCT patient_id) FROM ${C} WHERE code = ?`;
  for (const code of f.conditionCodes.slice(0, 4)) {
    out.push({
      family: 'prepared',
      setup: [`PREPARE by_code FROM ${byCode}`],
      prepared: { name: 'by_code', text: byCode },
      sql: `EXECUTE by_code USING ${str(code)}`,
      oracleSql: byCode.replace('?', str(code)),
    });
  }
  const range = `SELECT count(DISTINCT patient_id) FROM ${O} WHERE code = ? AND value > ?`;
  for (const code of f.numericLoinc.slice(0, 3)) {
    out.push({
      family: 'prepared',
      setup: [`PREPARE in_range FROM ${range}`],
      prepared: { name: 'in_range', text: range },
      sql: `EXECUTE in_range USING ${str(code)}, ${f.middle[code]}`,
      oracleSql: `SELECT count(DISTINCT patient_id) FROM ${O} WHERE code = ${str(code)} AND value > ${f.middle[code]}`,
    });
  }
  const born = `SELECT gender, count(*) FROM ${P} WHERE birth_date >= ? GROUP BY gender`;
  out.push({
    family: 'prepared',
    setup: [`PREPARE born_since FROM ${born}`],
    prepared: { name: 'born_since', text: born },
    sql: `EXECUTE born_since USING DATE '1990-01-01'`,
    oracleSql: born.replace('?', `DATE '1990-01-01'`),
  });
  // Two statements held at once: both travel in X-Trino-Prepared-Statement on every request.
  const classes = `SELECT class_code, count(*) FROM ${E} WHERE class_code = ? GROUP BY class_code`;
  out.push({
    family: 'prepared',
    setup: [`PREPARE by_code FROM ${byCode}`, `PREPARE classes FROM ${classes}`],
    prepared: { name: 'classes', text: classes },
    sql: `EXECUTE classes USING 'EMER'`,
    oracleSql: classes.replace('?', `'EMER'`),
  });
  const immediate = `SELECT count(*) FROM ${PR} WHERE code = ?`;
  for (const code of f.procedureCodes.slice(0, 2)) {
    out.push({ family: 'prepared', sql: `EXECUTE IMMEDIATE ${str(immediate)} USING ${str(code)}`, oracleSql: immediate.replace('?', str(code)) });
  }
  out.push({
    family: 'prepared',
    setup: [`PREPARE by_code FROM ${byCode}`],
    prepared: { name: 'by_code', text: byCode },
    sql: 'DESCRIBE OUTPUT by_code',
    answers: true,
  });
  out.push({ family: 'prepared', setup: [`PREPARE by_code FROM ${byCode}`], sql: 'DESCRIBE INPUT by_code', answers: true, columns: ['Position', 'Type'] });
  return out;
}

/** USE, then unqualified (and schema-qualified) names resolve to the same policy forms. */
function useThenUnqualified(f: BenignFacts): BenignQuery[] {
  const use = ['USE fhir.default'];
  return [
    { family: 'use', setup: use, sql: 'SELECT count(*) FROM patient', oracleSql: `SELECT count(*) FROM ${P}` },
    {
      family: 'use',
      setup: use,
      sql: 'SELECT gender, count(DISTINCT id) FROM patient GROUP BY gender',
      oracleSql: `SELECT gender, count(DISTINCT id) FROM ${P} GROUP BY gender`,
    },
    {
      family: 'use',
      setup: use,
      sql: "SELECT p.gender, count(*) FROM condition c JOIN patient p ON c.patient_id = p.id WHERE c.icd10_code LIKE 'E11%' GROUP BY p.gender",
      oracleSql: `SELECT p.gender, count(*) FROM ${C} c JOIN ${P} p ON c.patient_id = p.id WHERE c.icd10_code LIKE 'E11%' GROUP BY p.gender`,
    },
    { family: 'use', setup: use, sql: 'SELECT count(*) FROM default.encounter', oracleSql: `SELECT count(*) FROM ${E}` },
    {
      family: 'use',
      setup: use,
      sql: `WITH c AS (SELECT DISTINCT patient_id FROM observation WHERE code = ${str(f.numericLoinc[0] ?? '')}) SELECT count(*) FROM c`,
      oracleSql: `WITH c AS (SELECT DISTINCT patient_id FROM ${O} WHERE code = ${str(f.numericLoinc[0] ?? '')}) SELECT count(*) FROM c`,
    },
    { family: 'use', setup: use, sql: 'SHOW COLUMNS FROM patient', expected: policyColumnTypes('patient').map(([n, t]) => [n, t, '', '']), ordered: true },
    { family: 'use', setup: use, sql: 'SHOW TABLES', includes: POLICY_TABLES.map((t) => [t]) },
    { family: 'use', setup: ['USE fhir.default'], sql: 'SELECT count(*) FROM fhir.default.procedure', oracleSql: `SELECT count(*) FROM ${PR}` },
  ];
}

function valuesAndTable(): BenignQuery[] {
  return [
    { family: 'values', sql: 'VALUES (1, 2), (3, 4)' },
    {
      family: 'values',
      sql: `SELECT t.label, count(p.id) FROM (VALUES ('female'), ('male'), ('other')) AS t(label) LEFT JOIN ${P} p ON p.gender = t.label GROUP BY t.label`,
    },
    { family: 'values', sql: `SELECT count(*) FROM (TABLE ${C}) AS c WHERE c.clinical_status = 'active'` },
  ];
}

export function benignBattery(f: BenignFacts): BenignQuery[] {
  return [
    ...basics(),
    ...demographics(f),
    ...conditions(f),
    ...observations(f),
    ...encounters(f),
    ...proceduresAndMedication(f),
    ...joins(f),
    ...ctes(f),
    ...windows(f),
    ...setOperations(f),
    ...dates(),
    ...ordering(f),
    ...metadata(),
    ...explain(f),
    ...prepared(f),
    ...useThenUnqualified(f),
    ...valuesAndTable(),
  ];
}
