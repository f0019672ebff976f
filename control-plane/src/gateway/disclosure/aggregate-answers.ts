// Answers an aggregate-only consumer's query: analyse it (aggregate-query.ts), build the bounded
// measurement SQL (aggregate-sql.ts) around the policy form, reserve ε/δ in the budget ledger, run it in
// Trino, release protected numbers (release.ts), and commit the spend with the released answer, so an
// identical query in the same period gets the same answer again for free (repeating a query to average
// the noise away gains nothing). Any failure before numbers leave releases the reservation.
import { createHash } from 'node:crypto';
import { BudgetExhausted, type BudgetLedger, type Reservation } from '../../privacy/budget-ledger';
import type { DifferentialPrivacyPolicy, SmallNumbersPolicy } from '../../privacy/disclosure-policy';
import type { Analyst, QueryPurpose } from '../access';
import type { QueryPolicy } from '../policy/query-policy';
import type { QueryCostTally } from '../query-cost';
import { type RewriteOptions, rewriteStatement } from '../rewrite/statement-rewriter';
import type { ParsedStatement } from '../sql/trino-parser';
import type { TrinoExecutor } from '../trino-executor';
import type { ProtocolColumn } from '../trino-protocol';
import { type AggregateQuery, analyseAggregateQuery, NotAllowed, normalise } from './aggregate-query';
import { measurementsQuery, rowsQuery } from './aggregate-sql';
import { keyDomain } from './public-keys';
import { dpCost, type ProtectedResult, releaseWithDifferentialPrivacy, releaseWithSmallNumberSuppression } from './release';

/** A refusal to show the analyst (the protocol's PERMISSION_DENIED / QUERY_REJECTED / NOT_SUPPORTED). */
export class AggregateRefused extends Error {
  constructor(
    message: string,
    readonly errorName: 'PERMISSION_DENIED' | 'QUERY_REJECTED' | 'NOT_SUPPORTED' | 'SYNTAX_ERROR' = 'PERMISSION_DENIED',
  ) {
    super(message);
  }
}

export interface AggregateRequest {
  sql: string;
  parsed: ParsedStatement;
  analyst: Analyst;
  purpose: QueryPurpose;
  policy: DifferentialPrivacyPolicy | SmallNumbersPolicy;
  resolver: QueryPolicy;
  options: RewriteOptions;
  /** ε the analyst asked for (extra credential `epsilon`), at most the policy's per-query ε. */
  requestedEpsilon?: number;
  /** Headers for Trino (pseudonym key, patient exclusion session). */
  trinoHeaders: Record<string, string>;
  /** Where the cost of the Trino runs behind the answer is added (for the audit). */
  trinoCost?: QueryCostTally;
  queryId: string;
  domains: ReadonlyMap<string, readonly string[]>;
}

export interface AggregateAnswer {
  columns: ProtocolColumn[];
  rows: unknown[][];
  notes: string[];
  rewrittenSql: string;
  tables: string[];
  audit: Record<string, unknown>;
}

const BUDGET_NOTE = 'budget left';

/** The ledger account that caps a consumer across all their projects. */
export const ALL_PROJECTS = '(all projects)';

/** Most groups the gateway reads back from Trino for one aggregate answer. */
const MAX_GROUPS = 50_000;

export class AggregateAnswers {
  constructor(
    private readonly ledger: BudgetLedger,
    private readonly trino: TrinoExecutor,
  ) {}

  async answer(r: AggregateRequest): Promise<AggregateAnswer> {
    let q: AggregateQuery;
    try {
      q = analyseAggregateQuery(
        r.sql,
        { table: (parts) => r.resolver.aggregateTable(parts, r.options.session), bounds: (t, c) => boundsOf(r.policy, t, c) },
        r.parsed,
      );
    } catch (e) {
      if (e instanceof NotAllowed) throw new AggregateRefused(e.message);
      throw e;
    }
    const rows = rewriteStatement(rowsQuery(q), r.options);
    if (!rows.ok) throw new AggregateRefused(rows.refusal.message, rows.refusal.errorName);
    const domains = q.keys.map((k) => keyDomain(k.table, k.column, k.transform, r.domains.get(k.table) ?? []));
    const bounded = r.policy.mode === 'differential-privacy' ? { maxRowsPerPatient: r.policy.maxRowsPerPatient } : undefined;
    const { sql, columns } = measurementsQuery(q, rows.sql, { bounded, domains });
    const base = { rewrittenSql: sql, tables: rows.tables };

    if (r.policy.mode === 'small-numbers') {
      const measured = await this.measure(sql, r, q.keys.length);
      const released = releaseWithSmallNumberSuppression(q, r.policy, domains, columns, measured.measured);
      return { ...base, ...this.shape(released, measured.keyColumns, q), audit: { mode: r.policy.mode, ...released.detail } };
    }

    const policy = r.policy;
    if (!r.analyst.budget)
      throw new AggregateRefused(`${r.analyst.name} has no differential-privacy budget: ask the mesh operators to set one (budget.epsilon)`);
    const epsilon = r.requestedEpsilon ?? policy.epsilonPerQuery;
    if (!(epsilon > 0) || epsilon > policy.epsilonPerQuery)
      throw new AggregateRefused(
        `epsilon=${r.requestedEpsilon} is not allowed: a query may spend ε in (0, ${policy.epsilonPerQuery}] under ${r.analyst.name}'s policy`,
      );
    const cost = dpCost(q, policy, epsilon, domains);
    // Same analyst text, session, project and ε within a period: the answer already released is given again.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([normalise(r.sql), r.options.session.catalog ?? '', r.options.session.schema ?? '', r.purpose.purpose, epsilon]))
      .digest('hex');
    const period = r.analyst.budget.period;
    const previous = await this.ledger.releasedAnswer(r.analyst.id, r.purpose.project, period, fingerprint);
    if (previous) {
      const answer = previous.answer as AggregateAnswer;
      return {
        ...answer,
        // The budget figure it carried is out of date; the rest describes the numbers, which are the same.
        notes: [
          `the same query was answered at ${previous.releasedAt.toISOString()}; that answer is given again and no budget is spent`,
          ...answer.notes.filter((n) => !n.startsWith(BUDGET_NOTE)),
        ],
        audit: { ...answer.audit, repeatOf: previous.queryId, epsilonSpent: 0, deltaSpent: 0 },
      };
    }
    const reserve = (project: string) =>
      this.ledger.reserve({
        consumerId: r.analyst.id,
        consumerName: r.analyst.name,
        project,
        period,
        totals: { epsilon: r.analyst.budget!.epsilon, delta: policy.deltaBudget },
        epsilon: cost.epsilon,
        delta: cost.delta,
        queryId: r.queryId,
        fingerprint,
      });
    // Charged twice: to the project (what ops see per project) and to the consumer as a whole, so that the same
    // person holding several projects (different pseudonyms, the same patients) never spends more than the budget.
    let reservation: Reservation;
    let overall: Reservation;
    try {
      reservation = await reserve(r.purpose.project);
      try {
        overall = await reserve(ALL_PROJECTS);
      } catch (e) {
        await this.ledger.release(reservation.id, 'the consumer-wide budget could not cover the query').catch(() => undefined);
        throw e;
      }
    } catch (e) {
      if (e instanceof BudgetExhausted) throw new AggregateRefused(e.message, 'QUERY_REJECTED');
      throw e;
    }
    let answer: AggregateAnswer;
    try {
      const measured = await this.measure(sql, r, q.keys.length);
      const released = releaseWithDifferentialPrivacy(q, policy, cost, domains, columns, measured.measured);
      const left = Math.min(reservation.remainingEpsilon, overall.remainingEpsilon);
      const leftDelta = Math.min(reservation.remainingDelta, overall.remainingDelta);
      const remaining = `${BUDGET_NOTE} for project ${r.purpose.project}: ε=${fmt(left)}${cost.delta ? `, δ=${fmt(leftDelta)}` : ''} until ${reservation.periodEnd.toISOString()}`;
      answer = {
        ...base,
        ...this.shape({ ...released, notes: [...released.notes, remaining] }, measured.keyColumns, q),
        audit: { mode: policy.mode, epsilonSpent: cost.epsilon, deltaSpent: cost.delta, reservation: reservation.id, ...released.detail },
      };
    } catch (e) {
      const reason = (e as Error).message || 'the query failed before any number was released';
      for (const id of [reservation.id, overall.id]) await this.ledger.release(id, reason).catch(() => undefined);
      throw e;
    }
    // Committed before the answer leaves: if this fails nothing is released (and the reservations stay spent).
    await this.ledger.commit(reservation.id, answer);
    await this.ledger.commit(overall.id, undefined);
    return answer;
  }

  private async measure(sql: string, r: AggregateRequest, keyCount: number) {
    const result = await this.trino.run(sql, r.trinoHeaders, MAX_GROUPS, r.trinoCost);
    const names = result.columns.map((c) => c.name);
    return {
      keyColumns: result.columns.slice(0, keyCount),
      measured: {
        keyTypes: result.columns.slice(0, keyCount).map((c) => c.type),
        rows: result.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))),
      },
    };
  }

  private shape(released: ProtectedResult, keyColumns: ProtocolColumn[], q: AggregateQuery): Pick<AggregateAnswer, 'columns' | 'rows' | 'notes'> {
    // Key columns keep Trino's own description (typeSignature) so JDBC reads them as Trino would send them.
    const columns = released.columns.map((c) => {
      const output = q.outputs.find((o) => o.name === c.name);
      const trino = output?.kind === 'key' ? keyColumns[output.key] : undefined;
      return trino ? { ...trino, name: c.name } : { name: c.name, type: c.type };
    });
    return { columns, rows: released.rows, notes: released.notes };
  }
}

function boundsOf(policy: DifferentialPrivacyPolicy | SmallNumbersPolicy, table: string, column: string) {
  return policy.mode === 'differential-privacy' ? policy.bounds[`${table}.${column}`] : { lower: -Number.MAX_VALUE, upper: Number.MAX_VALUE };
}

function fmt(v: number): string {
  return String(Math.round(v * 1e9) / 1e9);
}
