// Trino's own rules (file-based system access control), rendered from the registry: defence in depth
// behind the gateway. Pure. The admins and the gateway (whose rewritten SQL already carries the policy)
// read the catalog as stored; anyone else who reaches Trino directly gets each served table in the
// strictest policy form, built from the same column treatments as the gateway's (policy-form.ts):
// - removed columns are `allow: false`, hidden from DESCRIBE and information_schema too;
// - Patient keys are masked to NULL: the pseudonym key never reaches Trino's files, so no keyed form exists
//   here, and a raw id would link records back to the trust;
// - birth dates and postcodes are masked to the gateway's generalisations (year, district);
// - a row filter drops V and every sensitivity label (the connector pushes `NOT contains(labels, 'X')` into
//   FHIR search) and, through the patient index, restricted patients and national opt-outs.
// A table the policy form cannot make safe, and any table the registry does not serve, is refused.
import { birthYear, optOutPredicates, type PolicySources, policyForm, postcodeDistrict, type TableDefinition } from '../gateway/policy/policy-form';
import { quoteIdentifier, quoteString } from '../gateway/sql/sql-text';

export interface TrinoPrincipals {
  /** May manage catalogs, see and kill every query, and impersonate: the control plane and the operator. */
  admins: string[];
  /** Runs the gateway's rewritten statements: reads the catalog as stored, since the SQL carries the policy. */
  gateway: string;
}

export interface TrinoAccessRulesInput {
  principals: TrinoPrincipals;
  /** The catalog and schema the tables are served in, the patient index and the opt-out source. */
  sources: PolicySources;
  /** Labels whose resources nobody reaching Trino directly sees: V and every sensitivity label. */
  excludedLabels: readonly string[];
  /** Properties of the catalog anyone may set in a session (none today: see gateway-config.ts). */
  catalogSessionProperties: readonly string[];
  /** System session properties the gateway may pass on for analysts (its allow-list, e.g. query_max_run_time). */
  systemSessionProperties?: readonly string[];
  /** The registry's serving tables with their privacy tags; none before the control plane has run. */
  tables: readonly TableDefinition[];
}

/** The connector's column of each resource's meta.security codes (policy-form.ts requires it on every table). */
const SECURITY_LABELS = 'security_labels';

/**
 * The connector's patient exclusion switches (connector/.../FhirSessionProperties.java): on by default, so that
 * opted-out and restricted patients' rows never leave the connector. Only the admins and the gateway, which sets
 * them per purpose of use (direct care is not subject to the opt-out), may change them.
 */
export const PATIENT_EXCLUSION_SESSION_PROPERTIES = ['apply_opt_outs', 'excluded_patient_labels', 'exclude_patients_without_nhs_number'] as const;

/**
 * The connector properties only the admins and the gateway may set: the exclusion switches, and skip_domains (the
 * gateway's partial results, which it labels; anyone else could silently drop a domain's rows from an answer).
 */
export const GATEWAY_ONLY_SESSION_PROPERTIES = [...PATIENT_EXCLUSION_SESSION_PROPERTIES, 'skip_domains'] as const;

/** Trino matches user, catalog, schema and table patterns as whole-string Java regular expressions. */
export function exactly(name: string): string {
  return name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

function anyOf(names: readonly string[]): string {
  if (names.length === 0) throw new Error('Trino access rules need at least one admin principal');
  return names.map(exactly).join('|');
}

/** Rules for `access-control.name=file`: the first matching rule of each section decides; no match denies. */
export function trinoAccessRules(input: TrinoAccessRulesInput): Record<string, unknown> {
  const admins = anyOf(input.principals.admins);
  const gateway = exactly(input.principals.gateway);
  const catalog = exactly(input.sources.catalog);
  const gatewayOnlyProperties = GATEWAY_ONLY_SESSION_PROPERTIES.map(exactly).join('|');
  return {
    catalogs: [
      // 'owner' (not 'all') is what CREATE/DROP CATALOG require in 476.
      { user: admins, catalog: '.*', allow: 'owner' },
      { catalog, allow: 'read-only' },
      // Clients need system.jdbc and system.metadata for their metadata calls; runtime is refused below.
      { catalog: 'system', allow: 'read-only' },
      { catalog: '.*', allow: 'none' },
    ],
    schemas: [{ user: admins, owner: true }, { owner: false }],
    tables: [
      { user: admins, privileges: ['SELECT', 'INSERT', 'DELETE', 'UPDATE', 'OWNERSHIP', 'GRANT_SELECT'] },
      // Queries, tasks, nodes and transactions of every user, with their SQL text.
      { catalog: 'system', schema: 'runtime', privileges: [] },
      { catalog: 'system', privileges: ['SELECT'] },
      { user: gateway, catalog, privileges: ['SELECT'] },
      // Sorted, so the same registry always renders the same file whatever order it lists products in.
      ...[...input.tables].sort((a, b) => a.table.localeCompare(b.table)).map((table) => directTableRule(table, input)),
      // Tables the registry does not serve (yet): nothing for anyone but the admins and the gateway.
      { catalog, privileges: [] },
    ],
    procedures: [{ user: admins, catalog: 'system', schema: 'runtime', procedure: 'kill_query', privileges: ['EXECUTE'] }],
    queries: [
      { user: admins, allow: ['execute', 'view', 'kill'] },
      // Everyone else: their own queries only (Trino always lets an owner see and kill their own).
      { allow: ['execute'] },
    ],
    system_information: [{ user: admins, allow: ['read', 'write'] }],
    system_session_properties: [
      { user: admins, allow: true },
      ...(input.systemSessionProperties?.length ? [{ user: gateway, property: input.systemSessionProperties.map(exactly).join('|'), allow: true }] : []),
      { allow: false },
    ],
    catalog_session_properties: [
      { user: admins, allow: true },
      { user: gateway, catalog, property: gatewayOnlyProperties, allow: true },
      // Before the allow-list, so that no configuration can let anyone else lift the exclusion or skip a domain.
      { catalog, property: gatewayOnlyProperties, allow: false },
      ...input.catalogSessionProperties.map((property) => ({ catalog, property: exactly(property), allow: true })),
      { allow: false },
    ],
    impersonation: [{ original_user: admins, new_user: '.*', allow: true }],
  };
}

/** The rule for one served table as seen by a user who is neither admin nor gateway. */
function directTableRule(table: TableDefinition, input: TrinoAccessRulesInput): Record<string, unknown> {
  const { sources } = input;
  const target = { catalog: exactly(sources.catalog), schema: exactly(sources.schema), table: exactly(table.table) };
  const form = policyForm(table, sources, { excludedLabels: input.excludedLabels, breakGlass: false });
  const served = new Set(input.tables.map((t) => t.table));
  const missing = [sources.patientIndex.table, sources.optOut.table].filter((t) => !served.has(t));
  const key = form.ok ? form.columns.find((c) => c.treatment.kind === 'pseudonym') : undefined;
  // Without the patient index and opt-out tables the filter could not be analysed: refuse rather than fail open.
  if (!form.ok || (key && missing.length > 0)) return { ...target, privileges: [] };

  const columns: Record<string, unknown>[] = [];
  for (const c of form.columns) {
    const column = quoteIdentifier(c.name);
    // A reference to a clinical resource is hidden here: a mask cannot check the target's labels.
    if (c.treatment.kind === 'remove' || c.treatment.kind === 'reference') columns.push({ name: c.name, allow: false });
    else if (c.treatment.kind === 'pseudonym') columns.push({ name: c.name, mask: 'NULL' });
    else if (c.treatment.kind === 'birth-year') columns.push({ name: c.name, mask: birthYear(column) });
    else if (c.treatment.kind === 'postcode-district') columns.push({ name: c.name, mask: postcodeDistrict(column) });
  }

  const labels = (column: string) => input.excludedLabels.map((label) => `NOT contains(${column}, ${quoteString(label)})`);
  const filter = labels(quoteIdentifier(SECURITY_LABELS));
  if (key) {
    // Uncorrelated on the table's own columns (so no name inside can capture them): the patients this
    // user may see are those not restricted, with an NHS number, and not opted out.
    const index = sources.patientIndex;
    const patient = '"mesh$p"';
    const tableName = (name: string): string => [sources.catalog, sources.schema, name].map(quoteIdentifier).join('.');
    const visible = [
      ...labels(`${patient}.${quoteIdentifier(index.securityLabelsColumn)}`),
      ...optOutPredicates(`${patient}.${quoteIdentifier(index.nhsNumberColumn)}`, sources, tableName),
    ];
    filter.push(
      `${quoteIdentifier(key.name)} IN (SELECT ${patient}.${quoteIdentifier(index.idColumn)} FROM ${tableName(index.table)} AS ${patient} WHERE ${visible.join(' AND ')})`,
    );
  }
  return {
    ...target,
    privileges: ['SELECT'],
    ...(columns.length ? { columns } : {}),
    // The filter reads the patient and consent tables as the gateway, to whom no filter applies: as this
    // user, the patient table's own filter would be recursive.
    ...(filter.length ? { filter: filter.join(' AND '), filter_environment: { user: input.principals.gateway } } : {}),
  };
}
