// The two engines a battery query runs on: Trino over the `fhir` connector (pushdown on or off) and
// PostgreSQL over the ground truth, plus the small rewrite from the shared SQL dialect to PostgreSQL's.
import { Client, types } from 'pg';
import { trinoClient, trinoRest } from '../../runtime/trino-clients';
import { TRINO_USERS } from '../../runtime/trino-security';
import { truthConnectionString } from './truth';

export interface Column {
  name: string;
  type: string;
}

export interface ResultSet {
  columns: Column[];
  rows: unknown[][];
  elapsedMs: number;
  /** Trino's query id (for GET /v1/query/{id}); absent for PostgreSQL. */
  queryId?: string;
}

/**
 * Battery SQL is written for Trino; PostgreSQL gets the same text with the catalog prefix dropped and the
 * two constructs spelled differently in the two dialects: zoned timestamp literals and array membership.
 */
export function toPostgres(sql: string): string {
  return (
    sql
      .replace(/\bfhir\.default\./g, '')
      // Years before 0001: Trino takes the sign (-3000, astronomical), PostgreSQL wants BC (3001 BC).
      .replace(
        /\b(TIMESTAMP|DATE) '-(\d{4,})(-[^']*?)( UTC)?'/g,
        (_, kind: string, year: string, rest: string) =>
          `${kind === 'DATE' ? 'DATE' : 'TIMESTAMPTZ'} '${String(Number(year) + 1).padStart(4, '0')}${rest}${kind === 'DATE' ? '' : '+00'} BC'`,
      )
      .replace(/TIMESTAMP '([^']+?) UTC'/g, "TIMESTAMPTZ '$1+00'")
      .replace(/\bcontains\(\s*([\w.]+)\s*,\s*('[^']*')\s*\)/g, '($2 = ANY($1))')
  );
}

/**
 * The `fhir` catalog as stored: the connector's patient exclusion (opt-outs, patients without an NHS number,
 * restricted patients; on by default) switched off, so connector tests compare every row with the ground
 * truth. Only admins may set these (Trino's access rules); patient-exclusion.e2e.ts tests the exclusion itself.
 */
export const AS_STORED_SESSION: Readonly<Record<string, string>> = {
  'fhir.apply_opt_outs': 'false',
  'fhir.excluded_patient_labels': '',
  'fhir.exclude_patients_without_nhs_number': 'false',
};

export class TrinoEngine {
  private readonly client;

  /**
   * As the operator by default (catalog set-up needs it), reading the catalog as stored; pass TRINO_USERS.analyst
   * to act as an analyst (with the connector's defaults), or `asStored: false` to keep the defaults as the operator.
   */
  constructor(
    readonly user: string = TRINO_USERS.ops,
    private readonly options: { asStored?: boolean } = {},
  ) {
    this.client = trinoClient('fhir-mesh-connector-e2e', user);
  }

  async query(sql: string, options: { pushdown?: boolean; session?: Record<string, string> } = {}): Promise<ResultSet> {
    const started = Date.now();
    const asStored = this.options.asStored ?? this.user === TRINO_USERS.ops;
    const session: Record<string, string> = {
      ...(asStored ? AS_STORED_SESSION : {}),
      ...(options.pushdown === false ? { 'fhir.pushdown_enabled': 'false' } : {}),
      ...options.session,
    };
    const iterator = await this.client.query({ query: sql, session });
    let columns: Column[] | undefined;
    const rows: unknown[][] = [];
    let queryId: string | undefined;
    for await (const result of iterator) {
      queryId ??= result.id;
      if (result.error) {
        throw new Error(`Trino ${result.error.errorName}: ${result.error.message}\n  SQL: ${sql}${options.pushdown === false ? ' (pushdown off)' : ''}`);
      }
      columns ??= result.columns?.map((c) => ({ name: c.name, type: c.type }));
      rows.push(...((result.data ?? []) as unknown[][]));
    }
    if (!columns) throw new Error(`Trino returned no columns for: ${sql}`);
    return { columns, rows, elapsedMs: Date.now() - started, queryId };
  }

  /** The query's statistics from the coordinator's REST API (kept for a while after it finishes). */
  async queryStats(queryId: string): Promise<Record<string, unknown>> {
    const response = await trinoRest(`/v1/query/${queryId}`, this.user);
    if (response.status !== 200) throw new Error(`GET /v1/query/${queryId}: HTTP ${response.status}`);
    const info = JSON.parse(response.body) as { queryStats?: Record<string, unknown> };
    return info.queryStats ?? {};
  }

  /** True when the `fhir` catalog lists its tables (the connector is installed and serving). */
  async serving(): Promise<boolean> {
    try {
      const { rows } = await this.query('SHOW TABLES FROM fhir.default');
      return rows.length > 0;
    } catch {
      return false;
    }
  }
}

// node-pg returns bigint/numeric as strings and dates as local-time Date objects: take numbers and the
// date's own text instead, so PostgreSQL values compare with Trino's JSON values.
types.setTypeParser(types.builtins.INT8, Number);
types.setTypeParser(types.builtins.NUMERIC, Number);
types.setTypeParser(types.builtins.DATE, (text: string) => text);

export class TruthEngine {
  private client: Client | undefined;

  private async connected(): Promise<Client> {
    if (!this.client) {
      const client = new Client({ connectionString: truthConnectionString(), connectionTimeoutMillis: 5000 });
      await client.connect();
      await client.query("SET TIME ZONE 'UTC'"); // date_trunc/extract/CAST AS date on timestamptz as Trino does on UTC values
      this.client = client;
    }
    return this.client;
  }

  /** Runs battery SQL (Trino dialect) after rewriting it for PostgreSQL. */
  async query(sql: string): Promise<ResultSet> {
    const started = Date.now();
    const client = await this.connected();
    const pgSql = toPostgres(sql);
    try {
      const result = await client.query({ text: pgSql, rowMode: 'array' });
      return {
        columns: result.fields.map((f) => ({ name: f.name, type: String(f.dataTypeID) })),
        rows: result.rows as unknown[][],
        elapsedMs: Date.now() - started,
      };
    } catch (e) {
      throw new Error(`PostgreSQL: ${(e as Error).message}\n  SQL: ${pgSql}`);
    }
  }

  async close(): Promise<void> {
    await this.client?.end();
    this.client = undefined;
  }
}
