// The privacy-budget ledger: each DP query's ε and δ are reserved before it runs, then committed (a number
// left) or released (nothing left). PostgreSQL does the arithmetic (numeric, exact: amounts travel as decimal
// strings) and the check-and-reserve is one conditional UPDATE, so concurrent gateway processes cannot
// overspend; CHECK constraints refuse an overspent account whatever the caller does (migration 1765100000000).
//
// A reservation never settled (the gateway died mid-query) keeps counting against the account: its answer
// may have left, so it is never silently returned. settleStale() later books such reservations as spent.
import { DataSource } from 'typeorm';
import type { BudgetPeriodKind } from '../registry/consumer.entity';
import { periodContaining } from '../scheduler/periods';

/** ε and δ available per (consumer, project, period). */
export interface BudgetTotals {
  epsilon: number;
  delta: number;
}

export interface ReserveRequest {
  consumerId: string;
  consumerName: string;
  project: string;
  period: BudgetPeriodKind;
  /** The account's totals if this request opens it; an open account keeps the totals it was opened with. */
  totals: BudgetTotals;
  epsilon: number;
  delta: number;
  queryId: string;
  fingerprint: string;
  /** Decides the period charged; now by default. */
  at?: Date;
}

export interface Reservation {
  id: string;
  periodStart: Date;
  periodEnd: Date;
  epsilon: number;
  delta: number;
  remainingEpsilon: number;
  remainingDelta: number;
}

export interface ReleasedAnswer {
  fingerprint: string;
  answer: unknown;
  epsilon: number;
  delta: number;
  releasedAt: Date;
  queryId: string;
}

export interface BudgetFigures {
  total: number;
  spent: number;
  reserved: number;
  remaining: number;
}

export type LedgerEntryState = 'reserved' | 'committed' | 'released';

export interface LedgerEntryView {
  id: string;
  queryId: string;
  fingerprint: string;
  epsilon: number;
  delta: number;
  state: LedgerEntryState;
  reason: string | null;
  createdAt: string;
  settledAt: string | null;
}

/** What ops see of one account (GET /api/v1/consumers/{name}/budget; connector-spec/api/budget.schema.json). */
export interface BudgetAccountView {
  project: string;
  period: BudgetPeriodKind;
  periodStart: string;
  periodEnd: string;
  epsilon: BudgetFigures;
  delta: BudgetFigures;
  /** The latest entries, newest first. */
  entries: LedgerEntryView[];
}

const PERIOD_WORDS: Record<BudgetPeriodKind, string> = { day: 'today', week: 'this week', month: 'this month' };

export interface BudgetShortfall {
  project: string;
  /** The period kind of the account charged (its words: today, this week, this month). */
  period: BudgetPeriodKind;
  requestedEpsilon: number;
  requestedDelta: number;
  remainingEpsilon: number;
  remainingDelta: number;
  totals: BudgetTotals;
  resetsAt: Date;
}

/** A query would take the account past its ε or δ total; says what was asked, what remains and when it resets. */
export class BudgetExhausted extends Error {
  readonly project: string;
  readonly period: BudgetPeriodKind;
  readonly requestedEpsilon: number;
  readonly requestedDelta: number;
  readonly remainingEpsilon: number;
  readonly remainingDelta: number;
  readonly totals: BudgetTotals;
  readonly resetsAt: Date;

  constructor(s: BudgetShortfall) {
    super(
      `privacy budget exhausted for project ${s.project}: this query needs ε=${figure(s.requestedEpsilon)}, δ=${figure(s.requestedDelta)}; ` +
        `${figure(s.remainingEpsilon)} of ε=${figure(s.totals.epsilon)} and ${figure(s.remainingDelta)} of δ=${figure(s.totals.delta)} remain ${PERIOD_WORDS[s.period]}; ` +
        `the budget resets at ${s.resetsAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    );
    this.name = 'BudgetExhausted';
    this.project = s.project;
    this.period = s.period;
    this.requestedEpsilon = s.requestedEpsilon;
    this.requestedDelta = s.requestedDelta;
    this.remainingEpsilon = s.remainingEpsilon;
    this.remainingDelta = s.remainingDelta;
    this.totals = s.totals;
    this.resetsAt = s.resetsAt;
  }
}

/** δ-sized amounts read best as 1e-6, ε-sized ones as 0.2. */
export function figure(n: number): string {
  return n !== 0 && Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
}

/** The exact decimal an amount is stored as; a negative, infinite or NaN amount is refused before any SQL. */
export function decimal(value: number, what: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`${what} must be a finite number ≥ 0; got ${String(value)}`);
  return String(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Settled by settleStale: the reason written into each entry it books as spent. */
export function staleReason(olderThanMs: number): string {
  return `not settled within ${Math.round(olderThanMs / 1000)} s (gateway stopped mid-query?): booked as spent, since its answer may have been released`;
}

interface AccountRow {
  id: string;
  period_kind: BudgetPeriodKind;
  period_start: Date;
  period_end: Date;
  epsilon_total: string;
  delta_total: string;
  epsilon_spent: string;
  delta_spent: string;
  epsilon_reserved: string;
  delta_reserved: string;
  epsilon_remaining: string;
  delta_remaining: string;
  project: string;
}

const ACCOUNT_COLUMNS = `id, project, period_kind, period_start, period_end, epsilon_total, delta_total, epsilon_spent, delta_spent,
  epsilon_reserved, delta_reserved, epsilon_total - epsilon_spent - epsilon_reserved as epsilon_remaining,
  delta_total - delta_spent - delta_reserved as delta_remaining`;

export class BudgetLedger {
  constructor(private readonly db: DataSource) {}

  /**
   * Atomically reserves ε and δ in the account of (consumer, project, the period containing `at`), creating
   * the account lazily with `totals`; throws BudgetExhausted when spent + reserved + asked > total for ε or δ.
   */
  async reserve(r: ReserveRequest): Promise<Reservation> {
    if (!UUID.test(r.consumerId)) throw new RangeError(`budget reservation: consumerId '${r.consumerId}' is not a consumer id`);
    const epsilon = decimal(r.epsilon, 'ε of the query');
    const delta = decimal(r.delta, 'δ of the query');
    for (const [name, value] of [
      ['project', r.project],
      ['queryId', r.queryId],
      ['fingerprint', r.fingerprint],
    ] as const) {
      if (typeof value !== 'string' || value.length === 0 || value.length > 200)
        throw new RangeError(`budget reservation: ${name} must be 1 to 200 characters`);
    }
    const account = await this.account(r, r.at ?? new Date());
    // One statement: the account row is locked by the UPDATE, whose condition PostgreSQL re-checks against
    // the latest committed figures when a concurrent reservation got there first.
    const [reserved] = await this.rows<{ id: string; epsilon_remaining: string; delta_remaining: string }>(
      `with account as (
         update budget_accounts set epsilon_reserved = epsilon_reserved + $2::numeric, delta_reserved = delta_reserved + $3::numeric
         where id = $1
           and epsilon_spent + epsilon_reserved + $2::numeric <= epsilon_total
           and delta_spent + delta_reserved + $3::numeric <= delta_total
         returning id, epsilon_total - epsilon_spent - epsilon_reserved as epsilon_remaining, delta_total - delta_spent - delta_reserved as delta_remaining
       ), entry as (
         insert into budget_ledger_entries (account_id, query_id, fingerprint, epsilon, delta)
         select id, $4, $5, $2::numeric, $3::numeric from account
         returning id
       )
       select entry.id, account.epsilon_remaining, account.delta_remaining from entry, account`,
      [account.id, epsilon, delta, r.queryId, r.fingerprint],
    );
    if (!reserved) {
      const [now] = await this.rows<AccountRow>(`select ${ACCOUNT_COLUMNS} from budget_accounts where id = $1`, [account.id]);
      throw new BudgetExhausted({
        project: now!.project,
        period: now!.period_kind,
        requestedEpsilon: r.epsilon,
        requestedDelta: r.delta,
        remainingEpsilon: Number(now!.epsilon_remaining),
        remainingDelta: Number(now!.delta_remaining),
        totals: { epsilon: Number(now!.epsilon_total), delta: Number(now!.delta_total) },
        resetsAt: now!.period_end,
      });
    }
    return {
      id: reserved.id,
      periodStart: account.period_start,
      periodEnd: account.period_end,
      epsilon: r.epsilon,
      delta: r.delta,
      remainingEpsilon: Number(reserved.epsilon_remaining),
      remainingDelta: Number(reserved.delta_remaining),
    };
  }

  /** The reserved amounts become spent; `answer` (unless undefined) is kept as the released answer for (consumer, project, period, fingerprint). */
  async commit(reservationId: string, answer: unknown): Promise<void> {
    // Serialised first: an answer that cannot be stored must not leave the entry half-settled.
    const json = answer === undefined ? null : JSON.stringify(answer);
    await this.settle(reservationId, 'committed', null, json);
  }

  /** Nothing was released (the query failed before any number left): the reservation is returned to the account. */
  async release(reservationId: string, reason: string): Promise<void> {
    if (typeof reason !== 'string' || reason.trim() === '') throw new RangeError(`releasing budget reservation ${reservationId}: a reason is required`);
    await this.settle(reservationId, 'released', reason.trim(), null);
  }

  /**
   * An answer already released for the same fingerprint (identical query) in the account containing `at`:
   * re-sent without spending again. That account's own period decides, even if ops have since changed the
   * consumer's period kind (a new kind takes effect when the current period ends).
   */
  async releasedAnswer(
    consumerId: string,
    project: string,
    _period: BudgetPeriodKind,
    fingerprint: string,
    at = new Date(),
  ): Promise<ReleasedAnswer | undefined> {
    const [row] = await this.rows<{ fingerprint: string; answer: unknown; epsilon: string; delta: string; released_at: Date; query_id: string }>(
      `select r.fingerprint, r.answer, r.epsilon, r.delta, r.released_at, r.query_id
       from budget_accounts a
       join released_answers r on r.consumer_id = a.consumer_id and r.project = a.project and r.period_start = a.period_start
       where a.consumer_id = $1 and a.project = $2 and a.period_start <= $3 and a.period_end > $3 and r.fingerprint = $4`,
      [consumerId, project, at, fingerprint],
    );
    if (!row) return undefined;
    return {
      fingerprint: row.fingerprint,
      answer: row.answer,
      epsilon: Number(row.epsilon),
      delta: Number(row.delta),
      releasedAt: row.released_at,
      queryId: row.query_id,
    };
  }

  /** Every account of the consumer (optionally one project), newest period first, each with its latest `entries` ledger entries. */
  async accounts(consumerId: string, project?: string, entries = 20): Promise<BudgetAccountView[]> {
    const accounts = await this.rows<AccountRow>(
      `select ${ACCOUNT_COLUMNS} from budget_accounts where consumer_id = $1 and ($2::text is null or project = $2) order by period_start desc, project`,
      [consumerId, project ?? null],
    );
    const latest = await this.rows<{
      id: string;
      account_id: string;
      query_id: string;
      fingerprint: string;
      epsilon: string;
      delta: string;
      state: LedgerEntryState;
      reason: string | null;
      created_at: Date;
      settled_at: Date | null;
    }>(
      `select * from (
         select e.*, row_number() over (partition by account_id order by created_at desc, id) as n
         from budget_ledger_entries e where account_id = any ($1::uuid[])
       ) latest where n <= $2 order by created_at desc, id`,
      [accounts.map((a) => a.id), entries],
    );
    return accounts.map((a) => ({
      project: a.project,
      period: a.period_kind,
      periodStart: a.period_start.toISOString(),
      periodEnd: a.period_end.toISOString(),
      epsilon: figures(a.epsilon_total, a.epsilon_spent, a.epsilon_reserved, a.epsilon_remaining),
      delta: figures(a.delta_total, a.delta_spent, a.delta_reserved, a.delta_remaining),
      entries: latest
        .filter((e) => e.account_id === a.id)
        .map((e) => ({
          id: e.id,
          queryId: e.query_id,
          fingerprint: e.fingerprint,
          epsilon: Number(e.epsilon),
          delta: Number(e.delta),
          state: e.state,
          reason: e.reason,
          createdAt: e.created_at.toISOString(),
          settledAt: e.settled_at?.toISOString() ?? null,
        })),
    }));
  }

  /** ε spent in every account whose period has not ended, of every consumer (for /metrics). */
  async currentEpsilonSpent(now = new Date()): Promise<{ consumer: string; project: string; periodStart: Date; spent: number }[]> {
    const rows = await this.rows<{ consumer: string; project: string; period_start: Date; epsilon_spent: string }>(
      `select c.name as consumer, a.project, a.period_start, a.epsilon_spent
       from budget_accounts a join consumers c on c.id = a.consumer_id
       where a.period_start <= $1 and a.period_end > $1 order by c.name, a.project`,
      [now],
    );
    return rows.map((r) => ({ consumer: r.consumer, project: r.project, periodStart: r.period_start, spent: Number(r.epsilon_spent) }));
  }

  /**
   * Books reservations older than `olderThanMs` as spent (conservative: the gateway that held them may have
   * sent the answer before it stopped). They counted against their accounts all along; returns how many.
   */
  async settleStale(olderThanMs: number): Promise<number> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new RangeError(`settleStale: olderThanMs must be a finite number ≥ 0; got ${olderThanMs}`);
    const [row] = await this.rows<{ settled: number }>(
      `with stale as (
         update budget_ledger_entries set state = 'committed', reason = $2, settled_at = now()
         where state = 'reserved' and created_at < now() - $1::numeric * interval '1 millisecond'
         returning account_id, epsilon, delta
       ), per_account as (
         select account_id, sum(epsilon) as epsilon, sum(delta) as delta from stale group by account_id
       ), booked as (
         update budget_accounts a
         set epsilon_reserved = a.epsilon_reserved - p.epsilon, epsilon_spent = a.epsilon_spent + p.epsilon,
             delta_reserved = a.delta_reserved - p.delta, delta_spent = a.delta_spent + p.delta
         from per_account p where a.id = p.account_id
         returning a.id
       )
       select count(*)::int as settled from stale`,
      [String(olderThanMs), staleReason(olderThanMs)],
    );
    return row!.settled;
  }

  /** The account containing `at`, opened with the request's totals if there is none. */
  private async account(r: ReserveRequest, at: Date): Promise<AccountRow> {
    const find = () =>
      this.rows<AccountRow>(
        `select ${ACCOUNT_COLUMNS} from budget_accounts where consumer_id = $1 and project = $2 and period_start <= $3 and period_end > $3`,
        [r.consumerId, r.project, at],
      );
    const [found] = await find();
    if (found) return found;
    const { start, end } = periodContaining(r.period, at);
    if (r.totals.delta >= 1) throw new RangeError(`the δ total must be below 1; got ${r.totals.delta}`);
    try {
      // Clipped to the consumer's neighbouring periods in the project, so a changed period kind starts when
      // the current period ends instead of opening a second budget beside it. A concurrent opening of the
      // same period loses quietly (on conflict) and finds the winner's account.
      await this.rows(
        `insert into budget_accounts (consumer_id, project, period_kind, period_start, period_end, epsilon_total, delta_total)
         select $1, $2, $3,
           greatest($4::timestamptz, coalesce((select max(period_end) from budget_accounts where consumer_id = $1 and project = $2 and period_end <= $6), '-infinity')),
           least($5::timestamptz, coalesce((select min(period_start) from budget_accounts where consumer_id = $1 and project = $2 and period_start > $6), 'infinity')),
           $7::numeric, $8::numeric
         on conflict do nothing`,
        [r.consumerId, r.project, r.period, start, end, at, decimal(r.totals.epsilon, 'the ε total'), decimal(r.totals.delta, 'the δ total')],
      );
    } catch (e) {
      if ((e as { code?: string }).code === '23503')
        throw new Error(`no consumer '${r.consumerName}' (${r.consumerId}) in the registry: its budget cannot be opened`);
      throw e;
    }
    const [opened] = await find();
    if (!opened) throw new Error(`budget account for consumer '${r.consumerName}', project ${r.project} at ${at.toISOString()} could not be opened`);
    return opened;
  }

  private async settle(id: string, state: 'committed' | 'released', reason: string | null, answer: string | null): Promise<void> {
    if (!UUID.test(id)) throw new RangeError(`no budget reservation '${id}' (not a reservation id)`);
    const [settled] = await this.rows<{ id: string }>(
      `with entry as (
         update budget_ledger_entries set state = $2::text, reason = $3::text, settled_at = now()
         where id = $1 and state = 'reserved'
         returning id, account_id, query_id, fingerprint, epsilon, delta
       ), account as (
         update budget_accounts a
         set epsilon_reserved = a.epsilon_reserved - e.epsilon, delta_reserved = a.delta_reserved - e.delta,
             epsilon_spent = a.epsilon_spent + case when $2::text = 'committed' then e.epsilon else 0 end,
             delta_spent = a.delta_spent + case when $2::text = 'committed' then e.delta else 0 end
         from entry e where a.id = e.account_id
         returning a.consumer_id, a.project, a.period_start
       ), answer as (
         -- The first identical query's answer stays: a second one that ran concurrently paid, but is not kept.
         insert into released_answers (consumer_id, project, period_start, fingerprint, answer, epsilon, delta, query_id, entry_id)
         select a.consumer_id, a.project, a.period_start, e.fingerprint, $4::jsonb, e.epsilon, e.delta, e.query_id, e.id
         from entry e, account a where $4::jsonb is not null
         on conflict do nothing
       )
       select id from entry`,
      [id, state, reason, answer],
    );
    if (settled) return;
    const [existing] = await this.rows<{ state: LedgerEntryState }>('select state from budget_ledger_entries where id = $1', [id]);
    throw new Error(existing ? `budget reservation ${id} is already ${existing.state}` : `no budget reservation ${id}`);
  }

  /** Rows of one statement, whatever its kind (TypeORM's plain query() shapes UPDATE results differently). */
  private async rows<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    const runner = this.db.createQueryRunner();
    try {
      return (await runner.query(sql, parameters, true)).records as T[];
    } finally {
      await runner.release();
    }
  }
}

function figures(total: string, spent: string, reserved: string, remaining: string): BudgetFigures {
  return { total: Number(total), spent: Number(spent), reserved: Number(reserved), remaining: Number(remaining) };
}
