// The policy form of a mesh table for one query: a subquery over the real table that the gateway puts
// where the analyst named the table. Pure. It keeps the table's column names and types, so metadata,
// joins and client tooling see the same shape, while values follow column-treatments.ts:
//   (SELECT "mesh$r".domain, mesh_pseudonym("mesh$p".nhs_number) AS patient_id, ...
//      FROM fhir.default.encounter AS "mesh$r" JOIN fhir.default.patient AS "mesh$p" ON "mesh$p".id = "mesh$r".patient_id AND ...
//     WHERE NOT contains("mesh$r".security_labels, 'V') AND ...)
// Row filters are written the way the connector pushes them into FHIR search (`NOT contains(labels, 'V')`
// -> `_security:not=V`), so restricted resources are excluded at the source server. Opted-out patients are
// not filtered here at all: the connector drops them before Trino sees a row (see policyForm).
// The pseudonym key is not here: mesh_pseudonym reads it from the session's extra credentials.
import type { PrivacyTag } from '../../registry/data-product.entity';
import { quoteIdentifier, quoteString } from '../sql/sql-text';
import { ColumnTreatment, columnTreatment, NON_PATIENT_RESOURCES, viewColumns } from './column-treatments';

/** The registry's patient table, through which every patient-linked row reaches its NHS number. */
export interface PatientIndex {
  table: string;
  idColumn: string;
  nhsNumberColumn: string;
  securityLabelsColumn: string;
}

/** Where national data opt-outs are read: the trusts' Consent resources, as a mesh table. */
export interface OptOutSource {
  table: string;
  patientColumn: string;
  policyUri: string;
}

/** A table listing every resource of one type once (its key column and labels), to check references against. */
export interface ReferenceTable {
  table: string;
  idColumn: string;
}

export interface PolicySources {
  catalog: string;
  schema: string;
  patientIndex: PatientIndex;
  optOut: OptOutSource;
  /** Resource type -> the table to check references to it against; a reference with none is removed. */
  referenceTables?: ReadonlyMap<string, ReferenceTable>;
}

export interface TableDefinition {
  table: string;
  view: Record<string, unknown>;
  tags: Record<string, PrivacyTag>;
}

export interface PolicyContext {
  /** Security labels whose resources are excluded (V always; sensitivities the purpose does not allow). */
  excludedLabels: readonly string[];
  /** An active break-glass grant: identifiers are returned as stored. */
  breakGlass: boolean;
}

export interface PolicyColumn {
  name: string;
  treatment: ColumnTreatment;
}

export type PolicyForm = { ok: true; sql: string; columns: PolicyColumn[]; removed: { name: string; reason: string }[] } | { ok: false; reason: string };

/** The connector's own column (the ODS code of the domain a row came from): not personal data. */
const DOMAIN_COLUMN = 'domain';
const SECURITY_LABELS = 'security_labels';
const R = '"mesh$r"';
const P = '"mesh$p"';

export function policyForm(def: TableDefinition, sources: PolicySources, context: PolicyContext): PolicyForm {
  const resource = typeof def.view.resource === 'string' ? def.view.resource : '';
  const columns = viewColumns(def.view).map((c) => ({ name: c.name, treatment: columnTreatment(resource, c, def.tags[c.name]) }));
  const tableName = (name: string): string => [sources.catalog, sources.schema, name].map(quoteIdentifier).join('.');

  if (!columns.some((c) => c.name === SECURITY_LABELS)) {
    return { ok: false, reason: `it has no ${SECURITY_LABELS} column, so resources with restricted security labels could not be excluded` };
  }
  const keys = columns.filter((c) => c.treatment.kind === 'pseudonym');
  if (keys.length > 1)
    return { ok: false, reason: `it has ${keys.length} Patient key columns (${keys.map((k) => k.name).join(', ')}); the gateway supports one` };
  const key = keys[0];
  if (!key && !NON_PATIENT_RESOURCES.has(resource)) {
    return {
      ok: false,
      reason: `it reads ${resource || 'an unknown resource type'} without a Patient key column, so opted-out patients could not be excluded`,
    };
  }
  const selfIndexed = key?.treatment.kind === 'pseudonym' && key.treatment.of === 'patient' && def.table === sources.patientIndex.table;
  // The patient's NHS number is needed for the pseudonym only: excluding opted-out patients, patients
  // without an NHS number and restricted Patient resources is the connector's job, at the source, so
  // those rows never reach Trino where an analyst's expression could probe them (session properties
  // fhir.apply_opt_outs / excluded_patient_labels, set by the gateway per purpose).
  const needsPatient = key !== undefined && !context.breakGlass;
  const patient = selfIndexed ? R : P;
  const index = sources.patientIndex;

  const select = [`${R}.${quoteIdentifier(DOMAIN_COLUMN)}`];
  const removed: { name: string; reason: string }[] = [];
  const referenceJoins: string[] = [];
  for (const c of columns) {
    if (c.treatment.kind === 'reference') {
      const target = sources.referenceTables?.get(c.treatment.resource);
      if (!target) {
        removed.push({
          name: c.name,
          reason: `a reference to ${c.treatment.resource}, and no published table lists those resources to check which this consumer may see`,
        });
        continue;
      }
      // NULL where the referenced resource is hidden (restricted label): its id would reveal that it exists.
      const alias = quoteIdentifier(`mesh$ref${referenceJoins.length}`);
      const visible = context.excludedLabels.map((label) => `NOT contains(${SECURITY_LABELS}, ${quoteString(label)})`);
      referenceJoins.push(
        ` LEFT JOIN (SELECT ${quoteIdentifier(target.idColumn)} AS id, ${quoteIdentifier(DOMAIN_COLUMN)} AS domain FROM ${tableName(target.table)}` +
          `${visible.length ? ` WHERE ${visible.join(' AND ')}` : ''}) AS ${alias}` +
          ` ON ${alias}.id = ${R}.${quoteIdentifier(c.name)} AND ${alias}.domain = ${R}.${quoteIdentifier(DOMAIN_COLUMN)}`,
      );
      select.push(`CASE WHEN ${alias}.id IS NOT NULL THEN ${R}.${quoteIdentifier(c.name)} END AS ${quoteIdentifier(c.name)}`);
      continue;
    }
    const expression = columnExpression(c, context.breakGlass, `${patient}.${quoteIdentifier(index.nhsNumberColumn)}`);
    if (expression === undefined) removed.push({ name: c.name, reason: (c.treatment as { reason: string }).reason });
    else select.push(`${expression} AS ${quoteIdentifier(c.name)}`);
  }

  let from = `${tableName(def.table)} AS ${R}`;
  const where = context.excludedLabels.map((label) => `NOT contains(${R}.${SECURITY_LABELS}, ${quoteString(label)})`);
  if (key && needsPatient) {
    if (!selfIndexed) {
      // Resource ids are unique only within a server: the patient is looked up in the row's own domain.
      from +=
        ` JOIN ${tableName(index.table)} AS ${P} ON ${P}.${quoteIdentifier(index.idColumn)} = ${R}.${quoteIdentifier(key.name)}` +
        ` AND ${P}.${quoteIdentifier(DOMAIN_COLUMN)} = ${R}.${quoteIdentifier(DOMAIN_COLUMN)}`;
    }
  }
  from += referenceJoins.join('');
  const sql = `SELECT ${select.join(', ')} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return { ok: true, sql, columns, removed };
}

function columnExpression(c: PolicyColumn, breakGlass: boolean, nhsNumber: string): string | undefined {
  const raw = `${R}.${quoteIdentifier(c.name)}`;
  const t = c.treatment;
  if (t.kind === 'keep' || breakGlass) return raw;
  switch (t.kind) {
    case 'pseudonym':
      return `mesh_pseudonym(${nhsNumber})`;
    case 'birth-year':
      return birthYear(raw);
    case 'postcode-district':
      return postcodeDistrict(raw);
    case 'remove':
    case 'reference': // needs a join: policyForm writes it
      return undefined;
  }
}

/**
 * For each resource type, a table that lists every resource of that type exactly once (no forEach,
 * unionAll or where), with its key and labels: references to that type are checked against it.
 */
export function referenceTables(tables: Iterable<TableDefinition>): Map<string, ReferenceTable> {
  const found = new Map<string, ReferenceTable>();
  for (const t of [...tables].sort((a, b) => a.table.localeCompare(b.table))) {
    const resource = typeof t.view.resource === 'string' ? t.view.resource : undefined;
    if (!resource || found.has(resource) || t.view.where !== undefined || !onePerResource(t.view.select)) continue;
    const columns = viewColumns(t.view);
    const id = columns.find((c) => c.paths.length === 1 && c.paths[0]!.replace(/\s+/g, '') === 'getResourceKey()');
    if (id && columns.some((c) => c.name === SECURITY_LABELS)) found.set(resource, { table: t.table, idColumn: id.name });
  }
  return found;
}

function onePerResource(selects: unknown): boolean {
  if (!Array.isArray(selects)) return true;
  return selects.every((s) => {
    const select = s as Record<string, unknown>;
    return select.forEach === undefined && select.forEachOrNull === undefined && select.unionAll === undefined && onePerResource(select.select);
  });
}

/** A birth date generalised to 1 January of its year (also Trino's column mask, trino-access-rules.ts). */
export function birthYear(column: string): string {
  return `date_trunc('year', ${column})`;
}

/** A UK postcode generalised to its district (outward code); also Trino's column mask. */
export function postcodeDistrict(column: string): string {
  // The inward code is always the last three characters; anything too short or long is not a postcode.
  const compact = `upper(replace(${column}, ' ', ''))`;
  return `CASE WHEN length(${compact}) BETWEEN 5 AND 7 THEN substr(${compact}, 1, length(${compact}) - 3) END`;
}

/**
 * The national data opt-out is held against the NHS number, so a Consent at any trust excludes the person
 * everywhere. A row whose patient has no NHS number cannot be checked and is excluded too. Used by Trino's
 * direct-access rules as a second line behind the connector's exclusion; the gateway's forms rely on the
 * connector alone (a filter inside Trino can be probed by an analyst's expressions).
 */
export function optOutPredicates(nhsNumber: string, sources: PolicySources, tableName: (name: string) => string): string[] {
  const { optOut, patientIndex: index } = sources;
  const consent = '"mesh$c"';
  const consenter = '"mesh$cp"';
  return [
    `${nhsNumber} IS NOT NULL`,
    `NOT EXISTS (SELECT 1 FROM ${tableName(optOut.table)} AS ${consent} JOIN ${tableName(index.table)} AS ${consenter}` +
      ` ON ${consenter}.${quoteIdentifier(index.idColumn)} = ${consent}.${quoteIdentifier(optOut.patientColumn)}` +
      ` AND ${consenter}.${quoteIdentifier(DOMAIN_COLUMN)} = ${consent}.${quoteIdentifier(DOMAIN_COLUMN)}` +
      ` WHERE ${consenter}.${quoteIdentifier(index.nhsNumberColumn)} = ${nhsNumber}` +
      ` AND ${consent}.${quoteIdentifier('status')} = 'active' AND ${consent}.${quoteIdentifier('provision_type')} = 'deny'` +
      ` AND ${consent}.${quoteIdentifier('policy_uri')} = ${quoteString(optOut.policyUri)}` +
      // An opt-out whose provision has ended no longer applies (the person opted back in); one not yet
      // started is honoured already: when in doubt, leave the person out.
      ` AND (${consent}.${quoteIdentifier('provision_end')} IS NULL OR ${consent}.${quoteIdentifier('provision_end')} > current_timestamp))`,
  ];
}
