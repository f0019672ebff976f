// Every statement through the gateway in the registry's hash-chained audit log: `query.started` before any
// result is released (a query whose record cannot be written is cancelled), then `query.finished`,
// `query.failed`, `query.cancelled`, or `query.refused` for what never reached Trino.
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { MissingDomain } from './partial-results';
import type { QueryCost } from './query-cost';

export interface QueryRecord {
  user: string;
  purpose?: string;
  project?: string;
  sql: string;
  rewrittenSql?: string;
  /** Prepared statements the query could execute: name -> analyst's text. */
  prepared?: Record<string, string>;
  tables: string[];
  domains: string[];
  breakGlass?: { grant: string; reason: string; expiresAt: string };
  /** Disclosure control applied to an aggregate answer: mode, ε and δ spent, noise scales, suppression. */
  disclosure?: Record<string, unknown>;
  /** A partial answer (the analyst asked for one): the domains left out and why. */
  partial?: { missingDomains: MissingDomain[] };
  /** The statement's deadline (Trino's query_max_run_time), in ms. */
  deadlineMs?: number;
  /** W3C trace id of the statement: on every FHIR request it caused (the FHIR servers' access logs). */
  traceId?: string;
}

export interface QueryOutcome {
  outcome: 'finished' | 'failed' | 'cancelled' | 'refused' | 'abandoned';
  rows?: number;
  error?: string;
  durationMs: number;
  disclosure?: Record<string, unknown>;
  partial?: { missingDomains: MissingDomain[] };
  /** What Trino spent on the statement (all its runs), where Trino reported it. */
  trino?: QueryCost;
}

/** Where the end of every statement is counted (metrics/mesh-metrics.ts): once, when its outcome is decided. */
export interface QueryOutcomeCounter {
  queryEnded(outcome: QueryOutcome['outcome'], purpose: string | undefined, durationMs: number): void;
}

export class QueryAudit {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly outcomes?: QueryOutcomeCounter,
  ) {}

  started(queryId: string, record: QueryRecord): Promise<void> {
    return this.write(record.user, 'query.started', queryId, record);
  }

  ended(queryId: string, record: QueryRecord, outcome: QueryOutcome): Promise<void> {
    this.outcomes?.queryEnded(outcome.outcome, record.purpose, outcome.durationMs);
    const entry = outcome.outcome === 'refused' ? { ...record, ...outcome } : { user: record.user, ...outcome };
    return this.write(record.user, `query.${outcome.outcome}`, queryId, entry);
  }

  private async write(actor: string, action: string, queryId: string, after: unknown): Promise<void> {
    await this.db.transaction((manager) => this.audit.record(manager, { actor, action, entity: 'query', entityId: queryId, after }));
  }
}
