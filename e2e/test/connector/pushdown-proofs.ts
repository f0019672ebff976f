// What the connector sent to the trusts, read from HAPI's access log, and what EXPLAIN says it will send:
// helpers for the pushdown-proof tests and the bench.
import { AccessLine, isSearchOrPage, param, redacted, withAccessLog } from './access-log';
import { ResultSet, TrinoEngine } from './engines';

export interface ObservedQuery {
  result: ResultSet;
  lines: AccessLine[];
  /** Rows the connector produced for Trino (queryStats.physicalInputPositions): resources fetched, for one-row-per-resource tables. */
  rowsFetched: number;
}

export async function observe(trino: TrinoEngine, sql: string, pushdown: boolean): Promise<ObservedQuery> {
  const { result, lines } = await withAccessLog(() => trino.query(sql, { pushdown }));
  const stats = result.queryId ? await trino.queryStats(result.queryId) : {};
  return { result, lines, rowsFetched: Number(stats.physicalInputPositions ?? stats.rawInputPositions ?? NaN) };
}

/** The search lines (not continuation pages, not `_summary=count` sizing requests) for a type at a domain. */
export function searches(lines: AccessLine[], domain: string, resourceType: string): AccessLine[] {
  return lines.filter((l) => l.domain === domain && l.resourceType === resourceType && !param(l, '_summary').includes('count'));
}

export function trafficFor(lines: AccessLine[], domain: string, resourceType: string): { requests: number; bytes: number; pages: number } {
  const mine = lines.filter((l) => isSearchOrPage(l, domain, resourceType));
  return {
    requests: mine.length,
    bytes: mine.reduce((a, l) => a + l.bytes, 0),
    pages: mine.filter((l) => l.resourceType === undefined).length,
  };
}

/** EXPLAIN's plan text (one row, one column). */
export async function explain(trino: TrinoEngine, sql: string): Promise<string> {
  const { rows } = await trino.query(`EXPLAIN ${sql}`);
  return rows.map((r) => String(r[0])).join('\n');
}

/** `system|code` is in the list searched (the log holds its keyed hash; `%7C` and `|` hash alike). */
export function hasToken(line: AccessLine, name: string, system: string, code: string): boolean {
  return param(line, name).some((v) => v.split(',').includes(redacted(`${system}|${code}`)));
}
