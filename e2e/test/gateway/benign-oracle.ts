// The oracle for benign queries through the gateway: the policy form of every table, computed here in
// TypeScript from the connector's ground truth (truth.ts, a hand-written flattener over the NDJSON), not
// from the gateway's SQL, and loaded into its own PostgreSQL schema of `mesh_truth` so that the analyst's
// SQL can run there too. The rules are the issue's, written out independently of control-plane/:
// - patient keys become the project's pseudonym of the NHS number (the same person at two trusts is one
//   pseudonym); birth_date becomes 1 January of its year; postcode becomes its district (outward code);
//   nhs_number, family_name and given_name are gone;
// - resources labelled V are never seen; PSY/HIV/SDV only where the purpose allows them; a restricted
//   Patient resource restricts everything about that patient;
// - where the national data opt-out applies, a patient whose NHS number has an opt-out at any trust is
//   excluded everywhere, and so is a row whose patient has no NHS number (it cannot be checked);
// - a reference to a clinical resource (encounter_id, reason_condition_id) is NULL unless the resource it
//   points at, at the same trust, is one the purpose may see: a hidden record's id would reveal it.
import { Client } from 'pg';
import { PseudonymKeys, pseudonym } from '../../../control-plane/src/gateway/pseudonym-keys';
import { DEMO_ANALYST } from '../../runtime/demo-registry';
import { SECRETS } from '../../runtime/secrets';
import { toPostgres } from '../connector/engines';
import { PG_TYPE, TABLES, type TableSchema, TRINO_TYPE } from '../connector/schema';
import { loadTruth, type Row, type TruthTables, truthConnectionString, truthTables } from '../connector/truth';
import { optedOut } from '../ground-truth';

export interface PurposeRules {
  /** The schema of `mesh_truth` holding this purpose's policy form. */
  schema: string;
  excludedLabels: readonly string[];
  optOut: boolean;
}

/** research and planning: every restricted label excluded, opt-outs applied. */
export const RESEARCH_RULES: PurposeRules = { schema: 'policy', excludedLabels: ['V', 'PSY', 'HIV', 'SDV'], optOut: true };
/** direct care: sensitive resources seen, opt-outs not applied; V never, identifiers still removed. */
export const DIRECT_CARE_RULES: PurposeRules = { schema: 'policy_direct_care', excludedLabels: ['V'], optOut: false };

/** Columns no purpose sees (break-glass aside): direct identifiers without a safe coarser form. */
export const REMOVED_COLUMNS: Record<string, readonly string[]> = { patient: ['nhs_number', 'family_name', 'given_name'] };

/** Reference columns to clinical resources, and the table listing what they point at (same trust). */
export const CLINICAL_REFERENCES: Record<string, Record<string, string>> = {
  condition: { encounter_id: 'encounter' },
  medication_request: { encounter_id: 'encounter', reason_condition_id: 'condition' },
  observation: { encounter_id: 'encounter' },
  procedure: { encounter_id: 'encounter' },
};

/** A table's policy form, column by column, in Trino's order. */
export function policyColumns(table: string): TableSchema['columns'] {
  const schema = TABLES.find((t) => t.name === table);
  if (!schema) throw new Error(`no table ${table}`);
  const removed = REMOVED_COLUMNS[table] ?? [];
  return schema.columns.filter(([name]) => !removed.includes(name));
}

/** What SHOW COLUMNS / information_schema should list for a table: [name, Trino type]. */
export function policyColumnTypes(table: string): [string, string][] {
  return policyColumns(table).map(([name, type]) => [name, TRINO_TYPE[type]]);
}

/** The project's pseudonym key, derived the way the control plane does from the mesh's master key file. */
export function projectKey(project: string = DEMO_ANALYST.project): string {
  return new PseudonymKeys(SECRETS.pseudonymKey).forProject(project);
}

/** A UK postcode's district: the outward code, i.e. all but the three-character inward code. */
export function postcodeDistrict(postcode: string | null): string | null {
  if (postcode === null) return null;
  const compact = postcode.replace(/ /g, '').toUpperCase();
  return compact.length >= 5 && compact.length <= 7 ? compact.slice(0, -3) : null;
}

function labelsOf(row: Row): string[] {
  return (row.security_labels as string[] | null) ?? [];
}

/** Every table's rows as the given purpose sees them through the gateway. */
export function policyTables(rules: PurposeRules, key: string, truth: TruthTables = truthTables()): TruthTables {
  const optedOutNhs = rules.optOut ? optedOut().nhsNumbers : new Set<string>();
  const restricted = (row: Row): boolean => labelsOf(row).some((l) => rules.excludedLabels.includes(l));
  const patients = new Map<string, Row>();
  for (const p of truth.patient ?? []) patients.set(`${p.domain}/${p.id}`, p);
  /** The patient a row is about, if this purpose may see anything about them. */
  const visiblePatient = (domain: unknown, id: unknown): Row | undefined => {
    const p = patients.get(`${domain}/${id}`);
    if (!p || restricted(p)) return undefined;
    const nhs = p.nhs_number as string | null;
    if (rules.optOut && (nhs === null || optedOutNhs.has(nhs))) return undefined;
    return p;
  };
  const pseudonymOf = (p: Row): string | null => (p.nhs_number === null ? null : pseudonym(key, p.nhs_number as string));
  const visibleIds = new Map<string, Set<string>>();
  for (const table of new Set(Object.values(CLINICAL_REFERENCES).flatMap((refs) => Object.values(refs)))) {
    visibleIds.set(table, new Set((truth[table] ?? []).filter((r) => !restricted(r)).map((r) => `${r.domain}/${r.id}`)));
  }

  const out: TruthTables = {};
  for (const schema of TABLES) {
    const names = policyColumns(schema.name).map(([n]) => n);
    const rows: Row[] = [];
    for (const row of truth[schema.name] ?? []) {
      if (restricted(row)) continue;
      const p = visiblePatient(row.domain, schema.name === 'patient' ? row.id : row.patient_id);
      if (!p) continue;
      const form: Row = { ...row };
      if (schema.name === 'patient') {
        form.id = pseudonymOf(p);
        form.birth_date = row.birth_date === null ? null : `${String(row.birth_date).slice(0, 4)}-01-01`;
        form.postcode = postcodeDistrict(row.postcode as string | null);
      } else {
        form.patient_id = pseudonymOf(p);
        for (const [column, target] of Object.entries(CLINICAL_REFERENCES[schema.name] ?? {})) {
          if (!visibleIds.get(target)?.has(`${row.domain}/${row[column]}`)) form[column] = null;
        }
      }
      rows.push(Object.fromEntries(names.map((n) => [n, form[n] ?? null])));
    }
    out[schema.name] = rows;
  }
  return out;
}

function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** (Re)creates `mesh_truth` (public: the raw truth) and one schema per purpose holding its policy form. */
export async function loadPolicyTruth(purposes: readonly PurposeRules[] = [RESEARCH_RULES, DIRECT_CARE_RULES]): Promise<void> {
  await loadTruth();
  const key = projectKey();
  const client = new Client({ connectionString: truthConnectionString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(20261122)'); // the lock truth.ts's loaders take turns on
    for (const rules of purposes) {
      const tables = policyTables(rules, key);
      await client.query(`DROP SCHEMA IF EXISTS ${quoted(rules.schema)} CASCADE`);
      await client.query(`CREATE SCHEMA ${quoted(rules.schema)}`);
      for (const schema of TABLES) {
        const name = `${quoted(rules.schema)}.${quoted(schema.name)}`;
        const columns = policyColumns(schema.name)
          .map(([n, t]) => `${quoted(n)} ${PG_TYPE[t]}`)
          .join(', ');
        await client.query(`CREATE TABLE ${name} (${columns})`);
        await client.query(`INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, $1::json)`, [JSON.stringify(tables[schema.name] ?? [])]);
        await client.query(`ANALYZE ${name}`);
      }
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}

/**
 * Analyst SQL (Trino dialect) for PostgreSQL: the connector battery's translation (engines.toPostgres),
 * plus the one spelling benign queries need that it lacks: Trino's `double` is PostgreSQL's `double precision`.
 */
export function toPolicyPostgres(sql: string): string {
  return toPostgres(sql).replace(/\bAS double\)/gi, 'AS double precision)');
}

/** Runs analyst SQL over one purpose's policy form in `mesh_truth`. */
export class PolicyTruthEngine {
  private client: Promise<Client> | undefined;

  constructor(readonly rules: PurposeRules) {}

  /** One connection, however many first queries arrive at once (a second one would be left open and hang mocha). */
  private connected(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client({ connectionString: truthConnectionString(), connectionTimeoutMillis: 5000 });
      await client.connect();
      // Unqualified names are this purpose's policy form; dates and timestamps read in UTC, as Trino's are.
      await client.query(`SET search_path TO ${quoted(this.rules.schema)}`);
      await client.query("SET TIME ZONE 'UTC'");
      return client;
    })();
    return this.client;
  }

  async query(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    const client = await this.connected();
    const pgSql = toPolicyPostgres(sql);
    try {
      const result = await client.query({ text: pgSql, rowMode: 'array' });
      return { columns: result.fields.map((f) => f.name), rows: result.rows as unknown[][] };
    } catch (e) {
      throw new Error(`oracle (PostgreSQL, ${this.rules.schema}): ${(e as Error).message}\n  SQL: ${pgSql}`);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await (await client?.catch(() => undefined))?.end();
  }
}
