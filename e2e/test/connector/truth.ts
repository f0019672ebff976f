// Independent ground truth for the `fhir` connector: one hand-written flattener per table turns the
// synthetic NDJSON into the rows its ViewDefinition should give, reading the resource JSON directly
// (no FHIRPath evaluation, so an evaluator bug cannot hide here), and loads them into PostgreSQL
// database `mesh_truth` under the same table and column names as Trino.
import { Client } from 'pg';
import { connectionString } from '../../runtime/postgres';
import { DOMAINS, DomainSpec } from '../../runtime/topology';
import { Resource, readResources } from '../ground-truth';
import { PG_TYPE, TABLES, TableSchema } from './schema';

export const TRUTH_DATABASE = 'mesh_truth';

export type Value = string | number | boolean | null | string[];
export type Row = Record<string, Value>;
export type TruthTables = Record<string, Row[]>;

const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';

/**
 * meta.lastUpdated is stamped by the FHIR server when the data is loaded; the NDJSON does not carry it.
 * The truth holds this stand-in instead, and the battery only asks questions whose answer is the same
 * for any instant between the data's reference date and now (IS NOT NULL, > 2025-07-01, < 2000-01-01).
 */
export const LAST_UPDATED_STAND_IN = new Date().toISOString();

interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface CodeableConcept {
  coding?: Coding[];
}
interface Reference {
  reference?: string;
}
interface Quantity {
  value?: number;
  code?: string;
}

// ---- small readers over the resource JSON ----

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function obj<T>(value: unknown): T | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as T) : undefined;
}

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Codings of one or several CodeableConcepts, in document order. */
function codings(concepts: CodeableConcept | CodeableConcept[] | undefined): Coding[] {
  const all = Array.isArray(concepts) ? concepts : concepts ? [concepts] : [];
  return all.flatMap((c) => c.coding ?? []);
}

/** First `field` of the codings (optionally of one system) that have that field. */
function firstOf(concepts: CodeableConcept | CodeableConcept[] | undefined, field: 'code' | 'display', system?: string): string | null {
  for (const coding of codings(concepts)) {
    if (system !== undefined && coding.system !== system) continue;
    const v = coding[field];
    if (typeof v === 'string') return v;
  }
  return null;
}

/** The id a reference points at when it points at `type` ("Patient/abc", ".../Patient/abc/_history/2"). */
function referenceKey(ref: Reference | undefined, type: string): string | null {
  const text = ref?.reference;
  if (typeof text !== 'string') return null;
  const parts = text.replace(/\/_history\/[^/]+$/, '').split('/');
  const id = parts.pop();
  const refType = parts.pop();
  return refType === type && id ? id : null;
}

/** A FHIR date/dateTime/instant as an ISO instant: a partial value is the start of its period, in UTC. */
function instant(value: unknown): string | null {
  const text = str(value);
  if (text === null) return null;
  if (/^\d{4}$/.test(text)) return `${text}-01-01T00:00:00Z`;
  if (/^\d{4}-\d{2}$/.test(text)) return `${text}-01T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${text}T00:00:00Z`;
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(text)) return `${text}Z`; // no offset given: read as UTC
  return text;
}

function date(value: unknown): string | null {
  const text = str(value);
  if (text === null) return null;
  if (/^\d{4}$/.test(text)) return `${text}-01-01`;
  if (/^\d{4}-\d{2}$/.test(text)) return `${text}-01`;
  return text.slice(0, 10);
}

function securityCodes(r: Resource): string[] {
  const meta = obj<{ security?: Coding[] }>(r.meta);
  return (meta?.security ?? []).map((c) => c.code).filter((c): c is string => typeof c === 'string');
}

function common(r: Resource): Row {
  return { last_updated: LAST_UPDATED_STAND_IN, security_labels: securityCodes(r) };
}

// ---- one flattener per table ----

function condition(r: Resource): Row[] {
  return [
    {
      id: r.id,
      patient_id: referenceKey(obj(r.subject), 'Patient'),
      encounter_id: referenceKey(obj(r.encounter), 'Encounter'),
      code: firstOf(obj(r.code), 'code', SNOMED),
      code_display: firstOf(obj(r.code), 'display', SNOMED),
      icd10_code: firstOf(obj(r.code), 'code', ICD10),
      clinical_status: firstOf(obj(r.clinicalStatus), 'code'),
      verification_status: firstOf(obj(r.verificationStatus), 'code'),
      onset: instant(r.onsetDateTime),
      abatement: instant(r.abatementDateTime),
      recorded_date: instant(r.recordedDate),
      ...common(r),
    },
  ];
}

function consent(r: Resource): Row[] {
  const provision = obj<{ type?: string; period?: { start?: string; end?: string }; purpose?: Coding[] }>(r.provision);
  return [
    {
      id: r.id,
      patient_id: referenceKey(obj(r.patient), 'Patient'),
      status: str(r.status),
      scope_code: firstOf(obj(r.scope), 'code', CONSENT_SCOPE),
      category_code: firstOf(list<CodeableConcept>(r.category), 'code', LOINC),
      provision_type: str(provision?.type),
      provision_start: instant(provision?.period?.start),
      provision_end: instant(provision?.period?.end),
      policy_uri:
        list<{ uri?: string }>(r.policy)
          .map((p) => p.uri)
          .find((u) => typeof u === 'string') ?? null,
      purpose_codes: list<Coding>(provision?.purpose)
        .map((c) => c.code)
        .filter((c): c is string => typeof c === 'string'),
      date_time: instant(r.dateTime),
      ...common(r),
    },
  ];
}

function encounter(r: Resource): Row[] {
  const period = obj<{ start?: string; end?: string }>(r.period);
  return [
    {
      id: r.id,
      patient_id: referenceKey(obj(r.subject), 'Patient'),
      status: str(r.status),
      class_code: str(obj<Coding>(r.class)?.code),
      type_code: firstOf(list<CodeableConcept>(r.type), 'code', SNOMED),
      type_display: firstOf(list<CodeableConcept>(r.type), 'display', SNOMED),
      start: instant(period?.start),
      end: instant(period?.end),
      service_provider_id: referenceKey(obj(r.serviceProvider), 'Organization'),
      ...common(r),
    },
  ];
}

function medicationRequest(r: Resource): Row[] {
  const reasons = list<Reference>(r.reasonReference)
    .map((ref) => referenceKey(ref, 'Condition'))
    .filter((k) => k !== null);
  return [
    {
      id: r.id,
      patient_id: referenceKey(obj(r.subject), 'Patient'),
      encounter_id: referenceKey(obj(r.encounter), 'Encounter'),
      status: str(r.status),
      intent: str(r.intent),
      medication_code: firstOf(obj(r.medicationCodeableConcept), 'code'),
      medication_display: firstOf(obj(r.medicationCodeableConcept), 'display'),
      authored_on: instant(r.authoredOn),
      requester_id: referenceKey(obj(r.requester), 'Practitioner'),
      reason_condition_id: reasons[0] ?? null,
      ...common(r),
    },
  ];
}

function observation(r: Resource): Row[] {
  const quantity = obj<Quantity>(r.valueQuantity);
  return [
    {
      id: r.id,
      patient_id: referenceKey(obj(r.subject), 'Patient'),
      encounter_id: referenceKey(obj(r.encounter), 'Encounter'),
      status: str(r.status),
      category: firstOf(list<CodeableConcept>(r.category), 'code'),
      code: firstOf(obj(r.code), 'code', LOINC),
      code_display: firstOf(obj(r.code), 'display', LOINC),
      effective: instant(r.effectiveDateTime),
      issued: instant(r.issued),
      value: num(quantity?.value),
      unit: str(quantity?.code),
      value_code: firstOf(obj(r.valueCodeableConcept), 'code'),
      value_string: str(r.valueString),
      ...common(r),
    },
  ];
}

/** forEach component: one row per component, none for an observation without components. */
function observationComponent(r: Resource): Row[] {
  const parent: Row = {
    id: r.id,
    patient_id: referenceKey(obj(r.subject), 'Patient'),
    code: firstOf(obj(r.code), 'code', LOINC),
    effective: instant(r.effectiveDateTime),
    ...common(r),
  };
  return list<{ code?: CodeableConcept; valueQuantity?: Quantity }>(r.component).map((c) => ({
    ...parent,
    component_code: firstOf(c.code, 'code', LOINC),
    component_display: firstOf(c.code, 'display', LOINC),
    component_value: num(c.valueQuantity?.value),
    component_unit: str(c.valueQuantity?.code),
  }));
}

function patient(r: Resource): Row[] {
  const official = list<{ use?: string; family?: string; given?: string[] }>(r.name).filter((n) => n.use === 'official');
  const home = list<{ use?: string; postalCode?: string }>(r.address).filter((a) => a.use === 'home');
  return [
    {
      id: r.id,
      nhs_number:
        list<{ system?: string; value?: string }>(r.identifier)
          .filter((i) => i.system === NHS_NUMBER)
          .map((i) => i.value)
          .find((v) => typeof v === 'string') ?? null,
      family_name: official.map((n) => n.family).find((f) => typeof f === 'string') ?? null,
      given_name: official.flatMap((n) => n.given ?? []).find((g) => typeof g === 'string') ?? null,
      gender: str(r.gender),
      birth_date: date(r.birthDate),
      postcode: home.map((a) => a.postalCode).find((p) => typeof p === 'string') ?? null,
      deceased_at: instant(r.deceasedDateTime),
      managing_organization_id: referenceKey(obj(r.managingOrganization), 'Organization'),
      ...common(r),
    },
  ];
}

function procedure(r: Resource): Row[] {
  const performed = obj<{ start?: string; end?: string }>(r.performedPeriod);
  return [
    {
      id: r.id,
      patient_id: referenceKey(obj(r.subject), 'Patient'),
      encounter_id: referenceKey(obj(r.encounter), 'Encounter'),
      status: str(r.status),
      code: firstOf(obj(r.code), 'code', SNOMED),
      code_display: firstOf(obj(r.code), 'display', SNOMED),
      performed_start: instant(performed?.start),
      performed_end: instant(performed?.end),
      reason_code: firstOf(list<CodeableConcept>(r.reasonCode), 'code', SNOMED),
      ...common(r),
    },
  ];
}

const FLATTENERS: Record<string, { resourceType: string; flatten: (r: Resource) => Row[] }> = {
  condition: { resourceType: 'Condition', flatten: condition },
  consent: { resourceType: 'Consent', flatten: consent },
  encounter: { resourceType: 'Encounter', flatten: encounter },
  medication_request: { resourceType: 'MedicationRequest', flatten: medicationRequest },
  observation: { resourceType: 'Observation', flatten: observation },
  observation_component: { resourceType: 'Observation', flatten: observationComponent },
  patient: { resourceType: 'Patient', flatten: patient },
  procedure: { resourceType: 'Procedure', flatten: procedure },
};

/** The connector's `domain` column: the domain's code in upper case, as in `fhir.domains`. */
export function domainCode(domain: DomainSpec): string {
  return domain.id.toUpperCase();
}

let cached: TruthTables | undefined;

/** Every table's rows over every domain, computed once per process from the NDJSON. */
export function truthTables(): TruthTables {
  if (cached) return cached;
  const tables: TruthTables = {};
  for (const schema of TABLES) {
    const f = FLATTENERS[schema.name];
    if (!f) throw new Error(`no flattener for table ${schema.name}`);
    tables[schema.name] = DOMAINS.flatMap((domain) =>
      readResources(domain, f.resourceType).flatMap((r) => f.flatten(r).map((row) => ordered(schema, { domain: domainCode(domain), ...row }))),
    );
  }
  cached = tables;
  return tables;
}

/** Exactly the schema's columns, in order; a flattener that misses or invents one fails loudly. */
function ordered(schema: TableSchema, row: Row): Row {
  const names = schema.columns.map(([n]) => n);
  const extra = Object.keys(row).filter((k) => !names.includes(k));
  const missing = names.filter((n) => !(n in row));
  if (extra.length || missing.length) throw new Error(`${schema.name}: flattener columns differ (extra ${extra}, missing ${missing})`);
  return Object.fromEntries(names.map((n) => [n, row[n] ?? null]));
}

export function truthConnectionString(): string {
  return connectionString(TRUTH_DATABASE);
}

/**
 * (Re)creates `mesh_truth` tables from the NDJSON. The database uses the C collation so that ORDER BY
 * on text sorts by code point, as Trino does. One transaction: a concurrent reader sees old or new.
 */
export async function loadTruth(tables: TruthTables = truthTables()): Promise<void> {
  const admin = new Client({ connectionString: connectionString('postgres'), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    const existing = await admin.query<{ datcollate: string }>('SELECT datcollate FROM pg_database WHERE datname = $1', [TRUTH_DATABASE]);
    if (existing.rows[0] && existing.rows[0].datcollate !== 'C') {
      await admin.query(`DROP DATABASE ${TRUTH_DATABASE} WITH (FORCE)`);
    }
    if (existing.rows[0]?.datcollate !== 'C') {
      await admin.query(`CREATE DATABASE ${TRUTH_DATABASE} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      }); // created meanwhile by another run
    }
  } finally {
    await admin.end();
  }

  const client = new Client({ connectionString: truthConnectionString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(20261122)'); // two loaders (test and bench) take turns
    for (const schema of TABLES) {
      const columns = schema.columns.map(([n, t]) => `"${n}" ${PG_TYPE[t]}`).join(', ');
      await client.query(`DROP TABLE IF EXISTS "${schema.name}"`);
      await client.query(`CREATE TABLE "${schema.name}" (${columns})`);
      // json_populate_recordset turns JSON arrays into text[] and ISO strings into timestamptz/date.
      await client.query(`INSERT INTO "${schema.name}" SELECT * FROM json_populate_recordset(NULL::"${schema.name}", $1::json)`, [
        JSON.stringify(tables[schema.name] ?? []),
      ]);
      await client.query(`ANALYZE "${schema.name}"`);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  const started = Date.now();
  loadTruth().then(
    () => {
      const counts = Object.entries(truthTables())
        .map(([t, rows]) => `${t}=${rows.length}`)
        .join(' ');
      console.log(`truth: loaded ${TRUTH_DATABASE} (${counts}) in ${Date.now() - started} ms`);
    },
    (e: unknown) => {
      console.error(`truth: ${(e as Error).stack ?? String(e)}`);
      process.exit(1);
    },
  );
}
