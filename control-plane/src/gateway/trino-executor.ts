// Runs one statement in Trino to completion inside the gateway, for answers the gateway must see whole
// before releasing anything (disclosure control): follows nextUri itself and collects the rows. Limits
// keep a runaway statement from holding the gateway's memory.
import { type QueryCostTally, queryCostOf } from './query-cost';
import type { ProtocolError } from './trino-protocol';
import type { TrinoRelay } from './trino-relay';

export interface ResultSet {
  /** As Trino describes them (typeSignature included), to be passed on to clients unchanged. */
  columns: { name: string; type: string; typeSignature?: unknown }[];
  rows: unknown[][];
}

export class TrinoQueryFailed extends Error {
  constructor(
    message: string,
    readonly errorName: string,
    /** Trino's own error object, when Trino failed the statement: passed on to the client unchanged. */
    readonly trinoError?: ProtocolError,
  ) {
    super(message);
  }
}

export class TrinoExecutor {
  constructor(private readonly relay: TrinoRelay) {}

  /** @param cost where the run's cost (its last page's stats) is added, whether it finishes or fails */
  async run(sql: string, headers: Record<string, string>, maxRows: number, cost?: QueryCostTally): Promise<ResultSet> {
    let response = await this.relay.request('POST', '/v1/statement', headers, sql);
    const out: ResultSet = { columns: [], rows: [] };
    for (;;) {
      if (response.status !== 200)
        throw new TrinoQueryFailed(`Trino answered HTTP ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`, 'GENERIC_INTERNAL_ERROR');
      const page = JSON.parse(response.body.toString('utf8')) as {
        id: string;
        nextUri?: string;
        columns?: { name: string; type: string; typeSignature?: unknown }[];
        data?: unknown[][];
        error?: ProtocolError;
        stats?: unknown;
      };
      // Trino's figures grow page by page; the last page's are the statement's.
      const last = page.error || !page.nextUri ? queryCostOf(page.stats) : undefined;
      cost?.add(last);
      if (page.error) throw new TrinoQueryFailed(page.error.message, page.error.errorName, page.error);
      if (page.columns && !out.columns.length) out.columns = page.columns.map((c) => ({ name: c.name, type: c.type, typeSignature: c.typeSignature }));
      for (const row of page.data ?? []) out.rows.push(row);
      if (out.rows.length > maxRows) {
        if (!last) cost?.add(queryCostOf(page.stats));
        await this.relay.request('DELETE', `/v1/query/${page.id}`, {}).catch(() => undefined);
        throw new TrinoQueryFailed(`the result has more than ${maxRows} rows, more than the gateway checks in one answer; narrow the query`, 'QUERY_REJECTED');
      }
      if (!page.nextUri) return out;
      const next = new URL(page.nextUri);
      response = await this.relay.request('GET', next.pathname + next.search, headersForPaging(headers));
    }
  }
}

function headersForPaging(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k === 'user-agent') out[k] = v;
  return out;
}
