// Recent gateway statements for ops (GET /api/v1/queries), read back from the audit log the gateway writes
// (query-audit.ts): each statement's `query.started` paired with the record that ended it, or its lone
// `query.refused` for what never reached Trino.
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type QueryHistoryOutcome = 'finished' | 'failed' | 'cancelled' | 'refused' | 'abandoned' | 'running';
export const QUERY_OUTCOMES: readonly QueryHistoryOutcome[] = ['finished', 'failed', 'cancelled', 'refused', 'abandoned', 'running'];

export interface QueryHistoryEntry {
  queryId: string;
  user: string;
  purpose: string | null;
  project: string | null;
  startedAt: string;
  endedAt: string | null;
  outcome: QueryHistoryOutcome;
  sql: string;
  rewrittenSql: string | null;
  tables: string[];
  domains: string[];
  rows: number | null;
  durationMs: number | null;
  error: string | null;
  traceId: string | null;
  deadlineMs: number | null;
  disclosure: { mode?: string; epsilon?: number; delta?: number } | null;
  partial: { missingDomains: unknown[] } | null;
  trino: { cpuMs: number; processedRows: number; processedBytes: number; peakMemoryBytes: number } | null;
}

/** An audit entry of entity `query` as stored: `after` holds the gateway's record. */
export interface QueryAuditEntry {
  at: Date | string;
  actor: string;
  action: string;
  entityId: string;
  after: unknown;
}

type Fields = Record<string, unknown>;

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const iso = (at: Date | string): string => (at instanceof Date ? at.toISOString() : new Date(at).toISOString());

/** The budget a DP answer spent, from the gateway's disclosure record (epsilonSpent, deltaSpent, mode). */
function disclosureOf(record: unknown): QueryHistoryEntry['disclosure'] {
  if (record === null || typeof record !== 'object') return null;
  const d = record as Fields;
  const out: { mode?: string; epsilon?: number; delta?: number } = {};
  if (typeof d.mode === 'string') out.mode = d.mode;
  const epsilon = count(d.epsilonSpent ?? d.epsilon);
  const delta = count(d.deltaSpent ?? d.delta);
  if (epsilon !== null) out.epsilon = epsilon;
  if (delta !== null) out.delta = delta;
  return out;
}

function trinoStats(record: unknown): QueryHistoryEntry['trino'] {
  if (record === null || typeof record !== 'object') return null;
  const t = record as Fields;
  return {
    cpuMs: count(t.cpuMs) ?? 0,
    processedRows: count(t.processedRows) ?? 0,
    processedBytes: count(t.processedBytes) ?? 0,
    peakMemoryBytes: count(t.peakMemoryBytes) ?? 0,
  };
}

/**
 * One statement from its first record (`query.started`, or `query.refused` alone) and the record that
 * ended it (undefined while it runs, or when the gateway stopped before writing it).
 */
export function queryHistoryEntry(first: QueryAuditEntry, end: QueryAuditEntry | undefined): QueryHistoryEntry {
  const start = (first.after ?? {}) as Fields;
  const last = first.action === 'query.refused' ? first : end;
  const ended = (last?.after ?? {}) as Fields;
  const outcome = last ? (last.action.slice('query.'.length) as QueryHistoryOutcome) : 'running';
  const partial = (ended.partial ?? start.partial) as { missingDomains: unknown[] } | undefined;
  return {
    queryId: first.entityId,
    user: text(start.user) ?? first.actor,
    purpose: text(start.purpose),
    project: text(start.project),
    startedAt: iso(first.at),
    endedAt: last ? iso(last.at) : null,
    outcome: QUERY_OUTCOMES.includes(outcome) ? outcome : 'running',
    sql: text(start.sql) ?? '',
    rewrittenSql: text(start.rewrittenSql),
    tables: strings(start.tables),
    domains: strings(start.domains),
    rows: count(ended.rows),
    durationMs: count(ended.durationMs),
    error: text(ended.error),
    traceId: text(start.traceId),
    deadlineMs: count(start.deadlineMs),
    disclosure: disclosureOf(ended.disclosure ?? start.disclosure),
    partial: partial && Array.isArray(partial.missingDomains) ? { missingDomains: partial.missingDomains } : null,
    trino: trinoStats(ended.trino),
  };
}

export interface QueryHistoryFilter {
  limit: number;
  user?: string;
  outcome?: QueryHistoryOutcome;
}

interface PairedRow {
  at: Date;
  actor: string;
  action: string;
  entity_id: string;
  after: unknown;
  end_at: Date | null;
  end_action: string | null;
  end_after: unknown;
}

@Injectable()
export class QueryHistory {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Newest first. The outcome filter applies before the limit, so `limit` statements of that outcome come back. */
  async recent(filter: QueryHistoryFilter): Promise<QueryHistoryEntry[]> {
    const rows: PairedRow[] = await this.db.query(
      `with ends as (
         select distinct on (entity_id) entity_id, at, action, after from audit_log
         where entity = 'query' and action not in ('query.started', 'query.refused')
         order by entity_id, id
       )
       select s.at, s.actor, s.action, s.entity_id, s.after, e.at as end_at, e.action as end_action, e.after as end_after
       from audit_log s left join ends e on e.entity_id = s.entity_id and s.action = 'query.started'
       where s.entity = 'query' and s.action in ('query.started', 'query.refused')
         and ($1::text is null or s.actor = $1)
         and ($2::text is null or (case when s.action = 'query.refused' then 'query.refused' else coalesce(e.action, 'query.running') end) = 'query.' || $2)
       order by s.id desc
       limit $3`,
      [filter.user ?? null, filter.outcome ?? null, filter.limit],
    );
    return rows.map((r) =>
      queryHistoryEntry(
        { at: r.at, actor: r.actor, action: r.action, entityId: r.entity_id, after: r.after },
        r.end_action ? { at: r.end_at!, actor: r.actor, action: r.end_action, entityId: r.entity_id, after: r.end_after } : undefined,
      ),
    );
  }
}
