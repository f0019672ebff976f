// The connector battery: SQL in the subset Trino and PostgreSQL run identically (see engines.toPostgres),
// over every bound column of every table, joins within and across trusts, aggregates, LIMIT, ORDER BY
// and empty answers. Constants come from the ground truth (facts.ts), so nothing here is an answer.
import { Facts } from './facts';
import { TABLES } from './schema';

export interface BatteryQuery {
  /** Trino dialect; `fhir.default.` is dropped for PostgreSQL. */
  sql: string;
  /** ORDER BY gives a total order: rows are compared in sequence. */
  ordered?: boolean;
  /** LIMIT without ORDER BY: only the row count and that each row is a true answer are checked. */
  limit?: number;
  /**
   * Array values are compared as sets: set for every query selecting security_labels, because HAPI keeps
   * meta.security as a set and serves it in its own order, not the order of the loaded NDJSON.
   */
  unorderedArrays?: boolean;
  /** A deliberate edge case whose true answer is empty. */
  empty?: boolean;
  /** Test title instead of the SQL, for SQL too long to read (thousands of IN values, long literals). */
  title?: string;
}

/** `n` ids: the given real ones first, then made-up ones of the same shape that match nothing. */
export function paddedIds(real: readonly string[], n: number, prefix: string): string[] {
  const made = Array.from({ length: Math.max(0, n - real.length) }, (_, i) => `${prefix}-no-such-${String(i).padStart(31, '0')}`);
  return [...new Set(real)].concat(made).slice(0, n);
}

/** `TIMESTAMP '2020-01-01 00:00:00.000 UTC'` for an ISO instant (rewritten to TIMESTAMPTZ for PostgreSQL). */
export function ts(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`not an instant: ${iso}`);
  return `TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')} UTC'`;
}

export function str(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function strList(values: readonly string[]): string {
  return values.map(str).join(', ');
}

/** Every column but last_updated, whose true value the NDJSON does not hold (see truth.ts). */
export function columnsOf(table: string, alias = ''): string {
  const schema = TABLES.find((t) => t.name === table);
  if (!schema) throw new Error(`no table ${table}`);
  return schema.columns
    .filter(([n]) => n !== 'last_updated')
    .map(([n]) => `${alias}${n === 'end' ? '"end"' : n}`)
    .join(', ');
}

/** The same SQL without its final LIMIT, to check a LIMIT answer against. */
export function withoutLimit(sql: string): string {
  return sql.replace(/\s+LIMIT\s+\d+\s*$/i, '');
}

export function battery(f: Facts): BatteryQuery[] {
  const c = f.condition;
  const o = f.observation;
  const e = f.encounter;
  const p = f.patient;
  const pr = f.procedure;
  const m = f.medication;
  const cs = f.consent;
  const C = 'fhir.default.condition';
  const O = 'fhir.default.observation';
  const OC = 'fhir.default.observation_component';
  const E = 'fhir.default.encounter';
  const P = 'fhir.default.patient';
  const PR = 'fhir.default.procedure';
  const M = 'fhir.default.medication_request';
  const CS = 'fhir.default.consent';

  return [
    // ---- condition: every bound column ----
    { sql: `SELECT ${columnsOf('condition')} FROM ${C} WHERE code = ${str(c.topCode)}`, unorderedArrays: true },
    { sql: `SELECT domain, id, code FROM ${C} WHERE code IN (${str(c.rareCode)})` },
    { sql: `SELECT code, count(*) FROM ${C} WHERE code IN (${strList(c.topCodes)}) GROUP BY code` },
    { sql: `SELECT domain, id, code, icd10_code FROM ${C} WHERE icd10_code = ${str(c.topIcd10)}` },
    { sql: `SELECT ${columnsOf('condition')} FROM ${C} WHERE id = ${str(c.ids[0] ?? '')}`, unorderedArrays: true },
    { sql: `SELECT domain, id, onset FROM ${C} WHERE id IN (${strList(c.ids)})` },
    { sql: `SELECT id, code, onset, abatement FROM ${C} WHERE patient_id = ${str(c.richPatient)}` },
    { sql: `SELECT domain, patient_id, count(*) FROM ${C} WHERE patient_id IN (${strList(c.patients)}) GROUP BY domain, patient_id` },
    { sql: `SELECT id, code FROM ${C} WHERE encounter_id = ${str(c.encounter)}` },
    { sql: `SELECT domain, count(*) FROM ${C} WHERE clinical_status = 'resolved' GROUP BY domain` },
    {
      sql: `SELECT clinical_status, count(*) FROM ${C} WHERE verification_status = 'confirmed' AND clinical_status IN ('active', 'recurrence', 'relapse') GROUP BY clinical_status`,
    },
    { sql: `SELECT id, onset FROM ${C} WHERE onset >= ${ts(c.onsetHigh)}` },
    { sql: `SELECT id, onset FROM ${C} WHERE code = ${str(c.topCode)} AND onset > ${ts(c.onsetValue)}` },
    { sql: `SELECT count(*) FROM ${C} WHERE onset <= ${ts(c.onsetValue)}` },
    { sql: `SELECT count(*), min(onset), max(onset) FROM ${C} WHERE onset < ${ts(c.onsetLow)}` },
    { sql: `SELECT id, onset FROM ${C} WHERE onset BETWEEN ${ts(c.onsetLow)} AND ${ts(c.onsetHigh)} AND clinical_status = 'active'` },
    { sql: `SELECT id, abatement FROM ${C} WHERE abatement >= ${ts(c.abatementValue)}` },
    { sql: `SELECT domain, count(*) FROM ${C} WHERE abatement IS NULL GROUP BY domain` },
    { sql: `SELECT id, recorded_date FROM ${C} WHERE recorded_date BETWEEN ${ts(c.recordedValue)} AND TIMESTAMP '2100-01-01 00:00:00 UTC'` },
    { sql: `SELECT domain, count(*) FROM ${C} WHERE last_updated IS NOT NULL GROUP BY domain` },
    { sql: `SELECT count(*) FROM ${C} WHERE last_updated > TIMESTAMP '2025-07-01 00:00:00 UTC'` },
    { sql: `SELECT id, security_labels FROM ${C} WHERE contains(security_labels, 'PSY')`, unorderedArrays: true },
    { sql: `SELECT domain, count(*) FROM ${C} WHERE NOT contains(security_labels, 'R') GROUP BY domain` },
    { sql: `SELECT id FROM ${C} WHERE contains(security_labels, 'R') AND NOT contains(security_labels, 'PSY')` },
    { sql: `SELECT id, code_display FROM ${C} WHERE code IN (${strList(c.topCodes)}) AND code_display LIKE '%(finding)%' AND onset >= ${ts(c.onsetLow)}` },
    { sql: `SELECT id, code FROM ${C} WHERE code = ${str(c.topCode)} OR code = ${str(c.rareCode)}` },

    // ---- observation ----
    { sql: `SELECT ${columnsOf('observation')} FROM ${O} WHERE code = ${str(o.code)} AND value >= ${o.valueHigh}`, unorderedArrays: true },
    { sql: `SELECT id, value FROM ${O} WHERE code = ${str(o.code)} AND value > ${o.value}` },
    { sql: `SELECT count(*), min(value), max(value) FROM ${O} WHERE code = ${str(o.code)} AND value < ${o.valueLow}` },
    { sql: `SELECT count(*) FROM ${O} WHERE code = ${str(o.code)} AND value <= ${o.value}` },
    { sql: `SELECT id, value, unit FROM ${O} WHERE value BETWEEN ${o.valueLow} AND ${o.value} AND code = ${str(o.code)}` },
    { sql: `SELECT id, value FROM ${O} WHERE code = ${str(o.code)} AND value = ${o.value}` },
    { sql: `SELECT code, count(*) FROM ${O} WHERE code IN (${strList(o.codes)}) GROUP BY code` },
    { sql: `SELECT id, category, value_code FROM ${O} WHERE value_code = ${str(o.valueCode)}` },
    { sql: `SELECT id, effective FROM ${O} WHERE effective >= ${ts(o.effectiveLow)} AND effective < ${ts(o.effectiveHigh)}` },
    { sql: `SELECT id, effective FROM ${O} WHERE effective > ${ts(o.effectiveValue)} AND category = 'vital-signs'` },
    { sql: `SELECT id, code, value, value_string FROM ${O} WHERE patient_id = ${str(o.patient)} AND code IN (${strList(o.codes)})` },
    { sql: `SELECT id, status, code FROM ${O} WHERE encounter_id = ${str(o.encounter)} AND status = 'final'` },
    { sql: `SELECT id, issued FROM ${O} WHERE id = ${str(o.id)}` },
    { sql: `SELECT id, security_labels FROM ${O} WHERE contains(security_labels, 'HIV')`, unorderedArrays: true },
    {
      sql: `SELECT code, unit, count(*), avg(value), min(value), max(value) FROM ${O} WHERE category = 'vital-signs' AND value IS NOT NULL GROUP BY code, unit`,
    },
    { sql: `SELECT id, value_string FROM ${O} WHERE category IN ('survey', 'social-history') AND value_string IS NOT NULL` },
    { sql: `SELECT id, issued FROM ${O} WHERE code = ${str(o.code)} AND issued >= ${ts(o.effectiveValue)}` },
    // Observation is read in _lastUpdated slices at every trust: the slices' bounds meet the filter's.
    {
      sql: `SELECT domain, count(*) FROM ${O} WHERE last_updated > TIMESTAMP '2025-07-01 00:00:00 UTC' AND last_updated < TIMESTAMP '2100-01-01 00:00:00 UTC' GROUP BY domain`,
    },

    // ---- observation_component (forEach component) ----
    {
      sql: `SELECT ${columnsOf('observation_component')} FROM ${OC} WHERE component_code = ${str(f.component.code)} AND component_value >= ${f.component.value}`,
      unorderedArrays: true,
    },
    { sql: `SELECT component_code, count(*), count(component_value) FROM ${OC} WHERE code = ${str(f.component.panel)} GROUP BY component_code` },
    {
      sql: `SELECT component_code, avg(component_value), min(component_value), max(component_value) FROM ${OC} WHERE component_value BETWEEN 50 AND 200 GROUP BY component_code`,
    },
    { sql: `SELECT id, component_code FROM ${OC} WHERE effective >= ${ts(f.component.effectiveValue)} AND patient_id = ${str(f.component.patient)}` },

    // ---- encounter ----
    { sql: `SELECT ${columnsOf('encounter')} FROM ${E} WHERE class_code = 'EMER'`, unorderedArrays: true },
    { sql: `SELECT class_code, count(*) FROM ${E} WHERE class_code IN ('IMP', 'HH', 'VR') GROUP BY class_code` },
    { sql: `SELECT domain, count(*) FROM ${E} WHERE type_code = ${str(e.typeCode)} AND status = 'finished' GROUP BY domain` },
    { sql: `SELECT id, start, "end" FROM ${E} WHERE start >= ${ts(e.startLow)} AND start <= ${ts(e.startHigh)}` },
    { sql: `SELECT id, "end" FROM ${E} WHERE "end" < ${ts(e.endValue)}` },
    // start and end both bind to Encounter's date: one lower and one upper bound reach the server (HAPI-1923, HAPI-1924).
    {
      sql: `SELECT id, start, "end" FROM ${E} WHERE start BETWEEN ${ts(e.startLow)} AND ${ts(e.startHigh)} AND "end" BETWEEN ${ts(e.startLow)} AND TIMESTAMP '2100-01-01 00:00:00 UTC'`,
    },
    { sql: `SELECT count(*) FROM ${E} WHERE start = ${ts(e.startValue)} AND "end" < ${ts(e.endValue)}` },
    { sql: `SELECT count(*) FROM ${E} WHERE start > ${ts(e.startValue)} AND service_provider_id = ${str(e.provider)}` },
    { sql: `SELECT id, patient_id, class_code FROM ${E} WHERE patient_id IN (${strList(e.patients)}) AND class_code <> 'AMB'` },
    { sql: `SELECT id, security_labels FROM ${E} WHERE id = ${str(e.id)} OR contains(security_labels, 'V')`, unorderedArrays: true },

    // ---- patient ----
    { sql: `SELECT ${columnsOf('patient')} FROM ${P} WHERE nhs_number = ${str(p.sharedNhsNumber)}`, unorderedArrays: true },
    { sql: `SELECT domain, id, nhs_number FROM ${P} WHERE nhs_number IN (${strList(p.nhsNumbers)})` },
    { sql: `SELECT id, family_name, given_name FROM ${P} WHERE family_name = ${str(p.family)}` },
    { sql: `SELECT id FROM ${P} WHERE family_name = ${str(p.family.toLowerCase())}`, empty: true },
    { sql: `SELECT id FROM ${P} WHERE family_name = ${str(p.maidenOnly)}`, empty: true },
    { sql: `SELECT id FROM ${P} WHERE family_name = ${str(p.family.slice(0, 3))}`, empty: true },
    { sql: `SELECT id, given_name FROM ${P} WHERE given_name = ${str(p.given)}` },
    { sql: `SELECT id, postcode FROM ${P} WHERE postcode = ${str(p.postcode)}` },
    { sql: `SELECT domain, gender, count(*) FROM ${P} WHERE gender = 'female' GROUP BY domain, gender` },
    { sql: `SELECT id, birth_date FROM ${P} WHERE birth_date >= DATE '${p.birthHigh}'` },
    { sql: `SELECT count(*) FROM ${P} WHERE birth_date < DATE '${p.birthLow}'` },
    { sql: `SELECT id, birth_date FROM ${P} WHERE birth_date BETWEEN DATE '${p.birthLow}' AND DATE '${p.birthValue}' AND gender = 'male'` },
    { sql: `SELECT id FROM ${P} WHERE birth_date = DATE '${p.birthValue}'` },
    { sql: `SELECT count(*) FROM ${P} WHERE managing_organization_id = ${str(p.organization)} AND deceased_at IS NULL` },
    { sql: `SELECT id, nhs_number FROM ${P} WHERE id IN (${strList(p.ids)})` },

    // ---- procedure ----
    { sql: `SELECT ${columnsOf('procedure')} FROM ${PR} WHERE code = ${str(pr.code)} AND performed_start >= ${ts(pr.performedLow)}`, unorderedArrays: true },
    { sql: `SELECT domain, count(*), count(DISTINCT patient_id) FROM ${PR} WHERE reason_code = ${str(pr.reasonCode)} GROUP BY domain` },
    {
      sql: `SELECT id, performed_start, performed_end FROM ${PR} WHERE performed_start BETWEEN ${ts(pr.performedLow)} AND ${ts(pr.performedHigh)} AND status = 'completed'`,
    },
    { sql: `SELECT count(*) FROM ${PR} WHERE performed_end <= ${ts(pr.performedValue)} AND patient_id IN (${strList(pr.patients)})` },
    { sql: `SELECT id, code FROM ${PR} WHERE encounter_id = ${str(pr.encounter)}` },

    // ---- medication_request ----
    {
      sql: `SELECT ${columnsOf('medication_request')} FROM ${M} WHERE medication_code = ${str(m.code)} AND authored_on >= ${ts(m.authoredValue)}`,
      unorderedArrays: true,
    },
    {
      sql: `SELECT status, intent, count(*) FROM ${M} WHERE medication_code IN (${strList(m.codes)}) AND status IN ('active', 'stopped') GROUP BY status, intent`,
    },
    { sql: `SELECT id, authored_on FROM ${M} WHERE authored_on > ${ts(m.authoredLow)} AND authored_on < ${ts(m.authoredHigh)} AND intent = 'order'` },
    { sql: `SELECT id, requester_id FROM ${M} WHERE requester_id = ${str(m.requester)}` },
    { sql: `SELECT id, reason_condition_id FROM ${M} WHERE encounter_id = ${str(m.encounter)} AND reason_condition_id IS NOT NULL` },

    // ---- consent (the national data opt-out the gateway reads) ----
    { sql: `SELECT ${columnsOf('consent')} FROM ${CS} WHERE status = 'active' AND provision_type = 'deny'`, unorderedArrays: true },
    { sql: `SELECT domain, count(*) FROM ${CS} WHERE scope_code = 'patient-privacy' AND category_code = '59284-0' GROUP BY domain` },
    { sql: `SELECT id, purpose_codes FROM ${CS} WHERE contains(purpose_codes, ${str(cs.purpose)}) AND policy_uri = ${str(cs.policyUri)}` },
    { sql: `SELECT id, patient_id FROM ${CS} WHERE patient_id IN (${strList(cs.patients)})` },
    {
      sql: `SELECT id, provision_start, provision_end FROM ${CS} WHERE provision_start >= ${ts(cs.startValue)} AND (provision_end IS NULL OR provision_end > ${ts(cs.startValue)})`,
    },
    { sql: `SELECT count(*) FROM ${CS} WHERE date_time < ${ts(cs.dateTimeValue)}` },
    { sql: `SELECT id FROM ${CS} WHERE contains(purpose_codes, 'NO-SUCH-PURPOSE')`, empty: true },

    // ---- the connector's own domain column ----
    { sql: `SELECT count(*), count(DISTINCT code) FROM ${C} WHERE domain = 'RTH'` },
    { sql: `SELECT domain, count(*) FROM ${P} WHERE domain IN ('RX1', 'RR8') GROUP BY domain` },

    // ---- joins ----
    { sql: `SELECT p.nhs_number, c.id, c.onset FROM ${C} c JOIN ${P} p ON c.patient_id = p.id AND c.domain = p.domain WHERE c.code = ${str(c.topCode)}` },
    {
      sql: `SELECT c.code, count(*) FROM ${C} c JOIN ${P} p ON c.patient_id = p.id WHERE p.gender = 'female' AND c.code IN (${strList(c.topCodes)}) GROUP BY c.code`,
    },
    { sql: `SELECT DISTINCT p.nhs_number FROM ${C} c JOIN ${P} p ON c.patient_id = p.id WHERE c.code = ${str(c.rareCode)} AND c.onset >= ${ts(c.rareOnset)}` },
    { sql: `SELECT a.nhs_number, a.domain, b.domain FROM ${P} a JOIN ${P} b ON a.nhs_number = b.nhs_number AND a.domain < b.domain` },
    {
      sql: `SELECT p.domain, count(c.id) FROM ${P} p LEFT JOIN ${C} c ON c.patient_id = p.id WHERE p.nhs_number = ${str(p.sharedNhsNumber)} GROUP BY p.domain`,
    },
    { sql: `SELECT e.class_code, count(*) FROM ${E} e JOIN ${C} c ON c.encounter_id = e.id WHERE e.class_code IN ('EMER', 'IMP') GROUP BY e.class_code` },
    { sql: `SELECT m.id, c.code FROM ${M} m JOIN ${C} c ON m.reason_condition_id = c.id WHERE c.code IN (${strList(m.reasonCodes)}) AND m.status = 'active'` },
    { sql: `SELECT p.gender, count(*), avg(o.value) FROM ${O} o JOIN ${P} p ON o.patient_id = p.id WHERE o.code = ${str(o.code)} GROUP BY p.gender` },
    { sql: `SELECT id, nhs_number FROM ${P} p WHERE EXISTS (SELECT 1 FROM ${C} c WHERE c.patient_id = p.id AND c.code = ${str(c.rareCode)})` },
    {
      sql: `SELECT id, code FROM ${PR} WHERE patient_id IN (SELECT id FROM ${P} WHERE nhs_number = ${str(p.sharedNhsNumber)}) AND performed_start >= ${ts(pr.performedValue)}`,
    },
    // The gateway's opted-out set: NHS numbers with an active NDOP deny at any trust.
    {
      sql: `SELECT DISTINCT p.nhs_number FROM ${CS} c JOIN ${P} p ON p.id = c.patient_id WHERE c.status = 'active' AND c.provision_type = 'deny' AND c.policy_uri = ${str(cs.policyUri)}`,
    },

    // ---- aggregates ----
    { sql: `SELECT domain, count(*), count(DISTINCT patient_id), count(abatement) FROM ${C} GROUP BY domain` },
    { sql: `SELECT domain, min(start), max("end") FROM ${E} GROUP BY domain` },
    { sql: `SELECT EXTRACT(YEAR FROM onset) AS y, count(*) FROM ${C} WHERE code = ${str(c.topCode)} GROUP BY EXTRACT(YEAR FROM onset)` },
    {
      sql: `SELECT count(*) FILTER (WHERE contains(security_labels, 'V')), count(*) FILTER (WHERE cardinality(security_labels) = 0) FROM ${O} WHERE code IN (${strList(o.codes)})`,
    },

    // ---- LIMIT (unordered: count and membership only) and ORDER BY with a total order ----
    { sql: `SELECT id, code FROM ${O} WHERE code = ${str(o.code)} LIMIT 5`, limit: 5 },
    { sql: `SELECT id FROM ${C} LIMIT 10`, limit: 10 },
    { sql: `SELECT id, onset FROM ${C} WHERE code = ${str(c.topCode)} ORDER BY onset DESC, id LIMIT 10`, ordered: true },
    { sql: `SELECT domain, code, count(*) AS n FROM ${C} GROUP BY domain, code ORDER BY n DESC, domain, code LIMIT 10`, ordered: true },
    { sql: `SELECT id, value FROM ${O} WHERE code = ${str(o.code)} AND value IS NOT NULL ORDER BY value DESC, id LIMIT 7`, ordered: true },
    { sql: `SELECT nhs_number, domain FROM ${P} ORDER BY birth_date, nhs_number, domain LIMIT 5`, ordered: true },

    // ---- empty answers ----
    { sql: `SELECT id FROM ${C} WHERE code = 'no-such-code'`, empty: true },
    { sql: `SELECT id FROM ${C} WHERE patient_id = 'no-such-patient'`, empty: true },
    { sql: `SELECT count(*) FROM ${C} WHERE onset > TIMESTAMP '2100-01-01 00:00:00 UTC'` },
    { sql: `SELECT id FROM ${O} WHERE code = ${str(o.code)} AND value > 1e12`, empty: true },
    { sql: `SELECT id FROM ${E} WHERE contains(security_labels, 'NOPE')`, empty: true },
    { sql: `SELECT id FROM ${P} WHERE nhs_number IN ('0000000000', '1111111111')`, empty: true },
    { sql: `SELECT id FROM ${C} WHERE last_updated < TIMESTAMP '2000-01-01 00:00:00 UTC'`, empty: true },

    // ---- dates outside FHIR's years 0001..9999 (never pushed: year -3000 was once sent as ge3001-...) ----
    { sql: `SELECT count(*) FROM ${C} WHERE onset > TIMESTAMP '-3000-01-01 00:00:00 UTC'` },
    { sql: `SELECT count(*), min(onset) FROM ${C} WHERE onset < TIMESTAMP '10000-01-01 00:00:00 UTC' AND code = ${str(c.topCode)}` },
    { sql: `SELECT id FROM ${C} WHERE onset > TIMESTAMP '10000-01-01 00:00:00 UTC'`, empty: true },
    { sql: `SELECT id FROM ${C} WHERE onset <= TIMESTAMP '-0001-12-31 23:59:59 UTC'`, empty: true },
    { sql: `SELECT count(*) FROM ${C} WHERE onset BETWEEN TIMESTAMP '0001-01-01 00:00:00 UTC' AND TIMESTAMP '9999-12-31 23:59:59.999 UTC'` },
    { sql: `SELECT count(*) FROM ${C} WHERE last_updated > TIMESTAMP '-3000-01-01 00:00:00 UTC'` },
    // Observation is read in _lastUpdated slices: out-of-range bounds must not reach them either.
    {
      sql: `SELECT domain, count(*) FROM ${O} WHERE last_updated BETWEEN TIMESTAMP '-3000-01-01 00:00:00 UTC' AND TIMESTAMP '10000-01-01 00:00:00 UTC' GROUP BY domain`,
    },
    { sql: `SELECT id FROM ${C} WHERE last_updated > TIMESTAMP '10000-01-01 00:00:00 UTC'`, empty: true },
    { sql: `SELECT count(*) FROM ${E} WHERE start > TIMESTAMP '-3000-01-01 00:00:00 UTC' AND "end" < TIMESTAMP '10000-01-01 00:00:00 UTC'` },
    { sql: `SELECT id, start FROM ${E} WHERE start >= ${ts(e.startHigh)} AND "end" > TIMESTAMP '-3000-01-01 00:00:00 UTC'` },
    { sql: `SELECT id FROM ${E} WHERE "end" < TIMESTAMP '-3000-01-01 00:00:00 UTC'`, empty: true },
    { sql: `SELECT count(*) FROM ${P} WHERE birth_date > DATE '-3000-01-01'` },
    { sql: `SELECT count(*), min(birth_date) FROM ${P} WHERE birth_date < DATE '10000-01-01'` },
    { sql: `SELECT id FROM ${P} WHERE birth_date >= DATE '10000-01-01'`, empty: true },
    { sql: `SELECT id, birth_date FROM ${P} WHERE birth_date BETWEEN DATE '${p.birthLow}' AND DATE '10000-01-01'` },

    // ---- searches HAPI cannot take (URL over 8 kB, values over its index lengths) are not sent whole ----
    {
      title: 'condition: patient_id IN (2,000 ids) is read without it (the URL would be ~100 kB)',
      sql: `SELECT id, patient_id FROM ${C} WHERE patient_id IN (${strList(paddedIds(c.patients, 2000, 'rx1'))})`,
    },
    {
      title: 'observation: patient_id IN (2,000 ids) AND code, only code is sent',
      sql: `SELECT patient_id, count(*) FROM ${O} WHERE patient_id IN (${strList(paddedIds([o.patient, ...c.patients], 2000, 'rth'))}) AND code = ${str(o.code)} GROUP BY patient_id`,
    },
    // Three lists of 100 each passed the old 100-value cap and made a ~14 kB URL: HTTP 400.
    {
      title: 'condition: three IN lists of 100 values each (patient_id, encounter_id, id) fit after dropping the longest',
      sql:
        `SELECT id FROM ${C} WHERE patient_id IN (${strList(paddedIds(c.patients, 100, 'rx1'))}) ` +
        `AND encounter_id IN (${strList(paddedIds([c.encounter], 100, 'rx1'))}) AND id IN (${strList(paddedIds(c.ids, 100, 'rx1'))})`,
    },
    { title: 'patient: family_name = a 9,000-character literal', sql: `SELECT id FROM ${P} WHERE family_name = ${str('x'.repeat(9000))}`, empty: true },
    {
      title: 'patient: family_name = an 800-character literal (HAPI-1260 refuses string values over 768)',
      sql: `SELECT id FROM ${P} WHERE family_name = ${str(`${p.family}${'y'.repeat(800)}`)}`,
      empty: true,
    },
    {
      title: 'condition: code IN (a 9,000-character literal, a real code)',
      sql: `SELECT id FROM ${C} WHERE code IN (${str('9'.repeat(9000))}, ${str(c.rareCode)})`,
    },
  ];
}
