// Queries in flight through the gateway: whose they are (only the user who started a query may page
// through or cancel it) and what to audit when they end. In memory: after a control-plane restart a
// client's next page gets "query not found", never another user's results.
import type { QueryRecord } from './query-audit';
import type { QueryCost } from './query-cost';
import type { Replacement } from './rewrite/statement-rewriter';

export interface TrackedQuery {
  id: string;
  ownerId: string;
  record: QueryRecord;
  startedAt: number;
  rows: number;
  /** Written before the first result is released; a query whose record failed is cancelled. */
  auditStarted: Promise<void>;
  /** The PREPARE this query runs: its Added-Prepare header goes back to the client as the analyst wrote it. */
  prepared?: { name: string; sql: string };
  /** Columns the policy removed from the query's tables, with the reason shown when Trino cannot resolve one. */
  removedColumns: Map<string, string>;
  /** The analyst's text, what Trino ran, and the replacements between them: Trino's error positions are mapped back. */
  source?: { original: string; rewritten: string; replaced: Replacement[] };
  endedAt?: number;
  /** Trino's figures on the latest page relayed: the final ones once the last page has passed. */
  cost?: QueryCost;
}

export class QueryTracker {
  private readonly queries = new Map<string, TrackedQuery>();

  constructor(private readonly retentionMs: number) {}

  add(query: TrackedQuery): void {
    this.sweep();
    this.queries.set(query.id, query);
  }

  /** The query if this user owns it; otherwise undefined, whether it exists or not (ids are not revealed). */
  owned(id: string, ownerId: string): TrackedQuery | undefined {
    const query = this.queries.get(id);
    return query && query.ownerId === ownerId ? query : undefined;
  }

  get size(): number {
    return this.queries.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, q] of this.queries) {
      if (q.endedAt !== undefined && now - q.endedAt > this.retentionMs) this.queries.delete(id);
      // A client that stopped paging: Trino abandons the query after query.client.timeout (5 min).
      else if (q.endedAt === undefined && now - q.startedAt > 24 * 3600_000) this.queries.delete(id);
    }
  }
}
