// How each name in one analyst's statement resolves, given who they are and why they ask: mesh tables to
// their policy forms, the metadata tables clients need (information_schema, system.jdbc, system.metadata)
// as they are or with removed columns filtered out, and everything else refused with the reason.

import type { TableInfo } from '../disclosure/aggregate-query';
import type { Resolution, TableResolver } from '../rewrite/statement-rewriter';
import { quoteIdentifier, quoteString } from '../sql/sql-text';
import type { MeshTable } from './mesh-tables';
import { type PolicyContext, type PolicySources, policyForm, referenceTables } from './policy-form';

type Name = { catalog: string; schema: string; table: string };

/** Column-listing tables and the names of their catalog / schema / table / column columns. */
const COLUMN_LISTS: Record<string, [string, string, string, string]> = {
  'information_schema.columns': ['table_catalog', 'table_schema', 'table_name', 'column_name'],
  'jdbc.columns': ['table_cat', 'table_schem', 'table_name', 'column_name'],
};

/** system tables clients read for metadata; system.runtime (every user's queries) is not among them. */
const SYSTEM_METADATA = new Set([
  'jdbc.attributes',
  'jdbc.catalogs',
  'jdbc.columns',
  'jdbc.procedure_columns',
  'jdbc.procedures',
  'jdbc.pseudo_columns',
  'jdbc.schemas',
  'jdbc.super_tables',
  'jdbc.super_types',
  'jdbc.table_types',
  'jdbc.tables',
  'jdbc.types',
  'jdbc.udts',
  'metadata.catalogs',
  'metadata.schema_properties',
  'metadata.table_properties',
  'metadata.column_properties',
  'metadata.table_comments',
  'metadata.analyze_properties',
  'metadata.materialized_view_properties',
  'metadata.materialized_views',
]);

/** The fhir connector's own tables (domains, circuit breakers): connector-spec, `<catalog>.mesh.*`. */
const MESH_SCHEMA = 'mesh';

export class QueryPolicy implements TableResolver {
  private removedColumns?: { table: string; column: string }[];

  private readonly sources: PolicySources;

  constructor(
    private readonly tables: Map<string, MeshTable>,
    sources: PolicySources,
    private readonly context: PolicyContext,
  ) {
    this.sources = { ...sources, referenceTables: sources.referenceTables ?? referenceTables(tables.values()) };
  }

  resolve(name: Name): Resolution {
    const written = `${name.catalog}.${name.schema}.${name.table}`;
    if (name.catalog === this.sources.catalog && name.schema === this.sources.schema) {
      const table = this.tables.get(name.table);
      if (!table)
        return {
          kind: 'refuse',
          message: `table ${written} is not a published data product of the mesh (SHOW TABLES FROM ${this.sources.catalog}.${this.sources.schema} lists them)`,
        };
      const form = policyForm(table, this.sources, this.context);
      if (!form.ok) return { kind: 'refuse', message: `table ${written} cannot be served safely: ${form.reason}` };
      return { kind: 'replace', sql: form.sql, table: written };
    }
    // The connector's list of domains (ODS code, name, kind, region) is public: analysts choose subsets with it.
    if (name.catalog === this.sources.catalog && name.schema === MESH_SCHEMA && name.table === 'domains') return { kind: 'keep', table: written };
    if (name.catalog === this.sources.catalog && name.schema === MESH_SCHEMA)
      return {
        kind: 'refuse',
        message: `${written} is for the mesh's operators (the admin API); analysts may read ${this.sources.catalog}.${MESH_SCHEMA}.domains`,
      };
    if (name.schema === 'information_schema' && (name.catalog === this.sources.catalog || name.catalog === 'system'))
      return this.metadata(name, `information_schema.${name.table}`);
    if (name.catalog === 'system' && SYSTEM_METADATA.has(`${name.schema}.${name.table}`)) return this.metadata(name, `${name.schema}.${name.table}`);
    if (name.catalog === 'system' && name.schema === 'runtime')
      return { kind: 'refuse', message: `${written} shows other users' queries and is not available through the mesh gateway` };
    if (name.catalog === this.sources.catalog || name.catalog === 'system')
      return { kind: 'refuse', message: `${written} is not available through the mesh gateway` };
    return {
      kind: 'refuse',
      message: `catalog ${name.catalog} is not part of the mesh (the mesh's tables are in ${this.sources.catalog}.${this.sources.schema})`,
    };
  }

  describe(name: Name, like?: string): Resolution {
    const written = `${name.catalog}.${name.schema}.${name.table}`;
    if (name.catalog === this.sources.catalog && name.schema === this.sources.schema) {
      const resolved = this.resolve(name);
      if (resolved.kind === 'refuse') return resolved;
      const hidden = this.removed()
        .filter((r) => r.table === name.table)
        .map((r) => quoteString(r.column));
      const where = [`table_schema = ${quoteString(name.schema)}`, `table_name = ${quoteString(name.table)}`];
      if (hidden.length) where.push(`column_name NOT IN (${hidden.join(', ')})`);
      if (like !== undefined) where.push(`column_name LIKE ${quoteString(like)}`);
      // The shape of Trino's SHOW COLUMNS; Extra and Comment are empty for this connector's columns.
      const sql =
        'SELECT column_name AS "Column", data_type AS "Type", CAST(\'\' AS varchar) AS "Extra", CAST(\'\' AS varchar) AS "Comment"' +
        ` FROM ${quoteIdentifier(this.sources.catalog)}.information_schema.columns WHERE ${where.join(' AND ')} ORDER BY ordinal_position`;
      return { kind: 'replace', sql, table: written };
    }
    const resolved = this.resolve(name);
    return resolved.kind === 'refuse' ? resolved : { kind: 'keep', table: written };
  }

  private metadata(name: Name, key: string): Resolution {
    const written = `${name.catalog}.${name.schema}.${name.table}`;
    const columns = COLUMN_LISTS[key];
    const hidden = this.removed();
    if (!columns || hidden.length === 0) return { kind: 'keep', table: written };
    const [catalog, schema, table, column] = columns.map(quoteIdentifier) as [string, string, string, string];
    const pairs = hidden.map((h) => `(${quoteString(h.table)}, ${quoteString(h.column)})`).join(', ');
    const source = [name.catalog, name.schema, name.table].map(quoteIdentifier).join('.');
    const sql =
      `SELECT * FROM ${source} WHERE NOT (${catalog} = ${quoteString(this.sources.catalog)} AND ${schema} = ${quoteString(this.sources.schema)}` +
      ` AND (${table}, ${column}) IN (VALUES ${pairs}))`;
    return { kind: 'replace', sql, table: written };
  }

  /**
   * A mesh table named in an aggregate query (1 to 3 name parts, the session filling the rest), with its
   * patient key and the columns its policy form keeps: what disclosure/aggregate-query.ts checks against.
   */
  aggregateTable(parts: string[], session: { catalog?: string; schema?: string }): { name: string; info: TableInfo } | undefined {
    // As Trino resolves names: `t` in the session's schema, `s.t` in the session's catalog.
    const [catalog, schema, table] = parts.length >= 3 ? parts : parts.length === 2 ? [session.catalog, ...parts] : [session.catalog, session.schema, ...parts];
    if (catalog !== this.sources.catalog || schema !== this.sources.schema || table === undefined) return undefined;
    const def = this.tables.get(table);
    const form = def && policyForm(def, this.sources, this.context);
    const key = form?.ok ? form.columns.find((c) => c.treatment.kind === 'pseudonym') : undefined;
    if (!def || !form?.ok || !key) return undefined;
    const kept = new Set(['domain', ...form.columns.map((c) => c.name)]);
    for (const r of form.removed) kept.delete(r.name);
    const types = columnTypes(def.view);
    const columns = new Map([...kept].map((c) => [c, types.get(c) ?? { type: c === 'domain' ? 'code' : 'string', collection: false }]));
    return { name: def.table, info: { patientKey: key.name, columns } };
  }

  /** Why each removed column of these tables (qualified names) is absent: to explain Trino's "cannot be resolved". */
  removalReasons(tables: string[]): Map<string, string> {
    const reasons = new Map<string, string>();
    for (const qualified of tables) {
      const table = this.tables.get(qualified.split('.').pop()!);
      if (!table || !qualified.startsWith(`${this.sources.catalog}.${this.sources.schema}.`)) continue;
      const form = policyForm(table, this.sources, this.context);
      if (form.ok) for (const r of form.removed) reasons.set(r.name, `${r.name} is ${r.reason}, removed from ${table.table} by the mesh's privacy policy`);
    }
    return reasons;
  }

  /** Columns the policy forms leave out, for this consumer and purpose. */
  private removed(): { table: string; column: string }[] {
    if (!this.removedColumns) {
      this.removedColumns = [];
      for (const t of this.tables.values()) {
        const form = policyForm(t, this.sources, this.context);
        if (form.ok) for (const r of form.removed) this.removedColumns.push({ table: t.table, column: r.name });
      }
    }
    return this.removedColumns;
  }
}

/** Each ViewDefinition column's SQL-on-FHIR type and whether it is a collection. */
function columnTypes(view: Record<string, unknown>): Map<string, { type: string; collection: boolean }> {
  const out = new Map<string, { type: string; collection: boolean }>();
  const visit = (selects: unknown): void => {
    if (!Array.isArray(selects)) return;
    for (const s of selects as Record<string, unknown>[]) {
      for (const c of Array.isArray(s?.column) ? (s.column as Record<string, unknown>[]) : []) {
        if (typeof c.name === 'string' && !out.has(c.name)) out.set(c.name, { type: String(c.type ?? 'string'), collection: c.collection === true });
      }
      visit(s?.select);
      visit(s?.unionAll);
    }
  };
  visit(view.select);
  return out;
}
