// The privacy-budget ledger against the mesh's real registry database, connected as the control plane's own
// least-privilege role (as the gateway is): concurrent reservations never overspend, amounts are exact,
// committed budget stays spent and released budget comes back, identical queries reuse their answer, a new
// period starts fresh, the database itself refuses rewriting the ledger, and ops read it through the API.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { Client, type CustomTypesConfig, types } from 'pg';
import { DataSource } from 'typeorm';
import { BudgetAccountView, BudgetExhausted, BudgetLedger, ReserveRequest } from '../../control-plane/src/privacy/budget-ledger';
import { STALE_RESERVATION_MS } from '../../control-plane/src/scheduler/jobs';
import { api } from '../runtime/demo-registry';
import { connectionString } from '../runtime/postgres';
import { postgres, ROOT } from '../runtime/topology';

const CONSUMER = 'budget-ledger-e2e';
const TOTALS = { epsilon: 1, delta: 1e-5 };

/** The control plane's run-time role: what the gateway's ledger connects as. */
function appDataSource(): Promise<DataSource> {
  return new DataSource({
    type: 'postgres',
    url: connectionString(postgres.registryDatabase, postgres.roles.registryApp),
    extra: { max: 10, types: EXACT_TYPES },
  }).initialize();
}

/**
 * Numeric as PostgreSQL writes it ('1.0'), whatever pg's global parsers say: other suites in the same mocha
 * process switch NUMERIC to Number (connector/engines.ts), which would turn exact figures into floats.
 */
const EXACT_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.NUMERIC ? (value: string) => value : types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** The harness's superuser, for reading figures the API does not show and back-dating an entry. */
async function registry<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: connectionString(postgres.registryDatabase), types: EXACT_TYPES });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The rejection of `work`, which must fail. */
async function failure(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

function monthStart(at: Date, months = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
}

describe('budget ledger (real PostgreSQL, as the control plane app role)', function () {
  this.timeout(300_000);
  let consumerId = '';
  let consumerToken = '';
  let gatewayA: DataSource;
  let gatewayB: DataSource;
  let ledger: BudgetLedger;
  const now = new Date();
  let n = 0;

  const request = (project: string, over: Partial<ReserveRequest> = {}): ReserveRequest => {
    n += 1;
    return {
      consumerId,
      consumerName: CONSUMER,
      project,
      period: 'month',
      totals: TOTALS,
      epsilon: 0.1,
      delta: 0,
      queryId: `e2e-${project}-${n}`,
      fingerprint: `fp-${project}-${n}`,
      ...over,
    };
  };

  const account = async (project: string, at = now) =>
    (
      await registry<Record<string, string>>(
        `select epsilon_total, epsilon_spent, epsilon_reserved, delta_total, delta_spent, delta_reserved,
           (epsilon_spent + epsilon_reserved = epsilon_total) as epsilon_exactly_full
         from budget_accounts where consumer_id = $1 and project = $2 and period_start <= $3 and period_end > $3`,
        [consumerId, project, at],
      )
    )[0];

  before(async () => {
    await api('DELETE', `/consumers/${CONSUMER}`);
    const created = await api('POST', '/consumers', {
      name: CONSUMER,
      kind: 'user',
      roles: ['analyst'],
      allowedPurposes: ['research'],
      budget: { epsilon: TOTALS.epsilon, period: 'month' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    consumerId = created.body.id;
    consumerToken = created.body.token;
    // Two pools: two gateway processes racing for one account.
    gatewayA = await appDataSource();
    gatewayB = await appDataSource();
    ledger = new BudgetLedger(gatewayA);
  });

  after(async () => {
    await gatewayA?.destroy();
    await gatewayB?.destroy();
    expect((await api('DELETE', `/consumers/${CONSUMER}`)).status).to.equal(204);
    // Deleting the consumer takes its accounts, entries and answers with it (and nothing else).
    expect(await registry('select 1 from budget_accounts where consumer_id = $1', [consumerId])).to.have.length(0);
    expect(await registry('select 1 from released_answers where consumer_id = $1', [consumerId])).to.have.length(0);
  });

  it('admits exactly 10 of 50 parallel reservations of ε=0.1 against ε=1.0, and the account is exact afterwards', async () => {
    const ledgers = [new BudgetLedger(gatewayA), new BudgetLedger(gatewayB)];
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => ledgers[i % 2]!.reserve(request('parallel'))));
    const admitted = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason as Error);
    expect(admitted).to.have.length(10);
    expect(refused).to.have.length(40);
    // Exact decimals: each admission left a different tenth, down to exactly 0.
    expect(admitted.map((r) => r.remainingEpsilon).sort()).to.deep.equal([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    const resetsAt = monthStart(now, 1);
    for (const e of refused) {
      expect(e).to.be.instanceOf(BudgetExhausted);
      expect(e).to.include({ remainingEpsilon: 0, remainingDelta: 1e-5, requestedEpsilon: 0.1, requestedDelta: 0 });
      expect((e as BudgetExhausted).resetsAt.getTime()).to.equal(resetsAt.getTime());
    }
    expect(refused[0]!.message).to.equal(
      `privacy budget exhausted for project parallel: this query needs ε=0.1, δ=0; 0 of ε=1 and 1e-5 of δ=1e-5 remain this month; the budget resets at ${resetsAt.toISOString().replace('.000Z', 'Z')}`,
    );
    const figures = await account('parallel');
    expect(figures).to.include({ epsilon_exactly_full: true });
    expect(Number(figures!.epsilon_reserved)).to.equal(1);
    expect(Number(figures!.epsilon_spent)).to.equal(0);
    const entries = await registry<{ state: string; n: number; epsilon: string }>(
      `select e.state, count(*)::int as n, sum(e.epsilon)::text as epsilon from budget_ledger_entries e
       join budget_accounts a on a.id = e.account_id where a.consumer_id = $1 and a.project = 'parallel' group by e.state`,
      [consumerId],
    );
    expect(entries).to.deep.equal([{ state: 'reserved', n: 10, epsilon: '1.0' }]);
    expect(await registry('select 1 from budget_accounts where consumer_id = $1 and project = $2', [consumerId, 'parallel'])).to.have.length(1);

    for (const r of admitted) await ledger.commit(r.id, { rows: [[r.id]] });
    expect(await account('parallel')).to.include({ epsilon_spent: '1.0', epsilon_reserved: '0.0', epsilon_exactly_full: true });
  });

  it('returns released reservations to the account and keeps committed ones spent; each settles once', async () => {
    const a = await ledger.reserve(request('settle', { epsilon: 0.3 }));
    const b = await ledger.reserve(request('settle', { epsilon: 0.3 }));
    const c = await ledger.reserve(request('settle', { epsilon: 0.3 }));
    expect(c.remainingEpsilon).to.equal(0.1);
    await ledger.commit(a.id, { rows: [[42]] });
    await ledger.release(b.id, 'Trino failed before the first page');
    expect(await account('settle')).to.include({ epsilon_spent: '0.3', epsilon_reserved: '0.3' });
    // 0.4 is back (B's 0.3 and the 0.1 never reserved): 0.5 is too much, 0.4 fits exactly.
    expect((await failure(ledger.reserve(request('settle', { epsilon: 0.5 })))).message).to.contain('0.4 of ε=1');
    const d = await ledger.reserve(request('settle', { epsilon: 0.4 }));
    expect(d.remainingEpsilon).to.equal(0);

    expect((await failure(ledger.release(a.id, 'too late'))).message).to.equal(`budget reservation ${a.id} is already committed`);
    expect((await failure(ledger.commit(b.id, {}))).message).to.equal(`budget reservation ${b.id} is already released`);
    expect((await failure(ledger.commit('00000000-0000-4000-8000-000000000000', {}))).message).to.match(/^no budget reservation /);
    expect((await failure(ledger.release(c.id, '  '))).message).to.match(/a reason is required/);
    const states = await registry<{ id: string; state: string; reason: string | null; settled: boolean }>(
      'select id, state, reason, settled_at is not null as settled from budget_ledger_entries where id = any ($1)',
      [[a.id, b.id, c.id]],
    );
    expect(states.find((s) => s.id === a.id)).to.include({ state: 'committed', reason: null, settled: true });
    expect(states.find((s) => s.id === b.id)).to.include({ state: 'released', reason: 'Trino failed before the first page', settled: true });
    expect(states.find((s) => s.id === c.id)).to.include({ state: 'reserved', settled: false });
  });

  it("books a reservation left unsettled for a day as spent, never returning it (the control plane's scheduler)", async () => {
    const r = await ledger.reserve(request('stale', { epsilon: 0.25, delta: 1e-6 }));
    const fresh = await ledger.reserve(request('stale', { epsilon: 0.25 }));
    // Back-dated by the superuser with triggers off: the app role cannot touch created_at.
    const client = new Client({ connectionString: connectionString(postgres.registryDatabase), types: EXACT_TYPES });
    await client.connect();
    try {
      await client.query('set session_replication_role = replica');
      const ago = `${Math.round(STALE_RESERVATION_MS / 1000) + 3600} seconds`;
      await client.query(`update budget_ledger_entries set created_at = now() - $2::interval where id = $1`, [r.id, ago]);
    } finally {
      await client.end();
    }
    // The budgets job runs every minute.
    const deadline = Date.now() + 75_000;
    let entry: { state: string; reason: string | null } | undefined;
    do {
      if (entry) await new Promise((resolve) => setTimeout(resolve, 2000));
      [entry] = await registry<{ state: string; reason: string | null }>('select state, reason from budget_ledger_entries where id = $1', [r.id]);
    } while (entry!.state === 'reserved' && Date.now() < deadline);
    expect(entry).to.include({ state: 'committed' });
    expect(entry!.reason).to.match(/^not settled within 86400 s .*booked as spent/);
    expect(await account('stale')).to.include({ epsilon_spent: '0.25', epsilon_reserved: '0.25', delta_spent: '0.000001', delta_reserved: '0.000000' });
    expect((await registry<{ state: string }>('select state from budget_ledger_entries where id = $1', [fresh.id]))[0]!.state).to.equal('reserved');
    await ledger.release(fresh.id, 'test over');
    expect(await ledger.settleStale(STALE_RESERVATION_MS)).to.equal(0);
  });

  it('re-sends the answer released for an identical query this period, and only then', async () => {
    const answer = { columns: ['n'], rows: [[143]], epsilon: 0.5, interval: [139, 147] };
    const first = await ledger.reserve(request('reuse', { epsilon: 0.5, fingerprint: 'same-query', queryId: 'q-first' }));
    expect(await ledger.releasedAnswer(consumerId, 'reuse', 'month', 'same-query')).to.equal(undefined);
    await ledger.commit(first.id, answer);
    const again = await ledger.releasedAnswer(consumerId, 'reuse', 'month', 'same-query');
    expect(again).to.deep.include({ fingerprint: 'same-query', answer, epsilon: 0.5, delta: 0, queryId: 'q-first' });
    expect(again!.releasedAt).to.be.instanceOf(Date);
    // A concurrent twin that also ran (and paid) does not replace the answer already released.
    const twin = await ledger.reserve(request('reuse', { epsilon: 0.5, fingerprint: 'same-query', queryId: 'q-twin' }));
    await ledger.commit(twin.id, { columns: ['n'], rows: [[150]] });
    expect((await ledger.releasedAnswer(consumerId, 'reuse', 'month', 'same-query'))!.queryId).to.equal('q-first');
    // Not for another fingerprint, project or period; nor for a query that released nothing.
    expect(await ledger.releasedAnswer(consumerId, 'reuse', 'month', 'other-query')).to.equal(undefined);
    expect(await ledger.releasedAnswer(consumerId, 'settle', 'month', 'same-query')).to.equal(undefined);
    expect(await ledger.releasedAnswer(consumerId, 'reuse', 'month', 'same-query', monthStart(now, 1))).to.equal(undefined);
    const failed = await ledger.reserve(request('reuse-failed', { fingerprint: 'failed-query' }));
    await ledger.release(failed.id, 'query failed');
    expect(await ledger.releasedAnswer(consumerId, 'reuse-failed', 'month', 'failed-query')).to.equal(undefined);
  });

  it('enforces δ independently of ε, exactly', async () => {
    const totals = { epsilon: 10, delta: 1e-5 };
    await ledger.reserve(request('delta', { totals, epsilon: 0.1, delta: 4e-6 }));
    await ledger.reserve(request('delta', { totals, epsilon: 0.1, delta: 4e-6 }));
    const refused = (await failure(ledger.reserve(request('delta', { totals, epsilon: 0.1, delta: 4e-6 })))) as BudgetExhausted;
    expect(refused).to.be.instanceOf(BudgetExhausted).and.include({ remainingEpsilon: 9.8, remainingDelta: 2e-6, requestedDelta: 4e-6 });
    expect(refused.message).to.contain('this query needs ε=0.1, δ=4e-6; 9.8 of ε=10 and 2e-6 of δ=1e-5 remain this month');
    const last = await ledger.reserve(request('delta', { totals, epsilon: 0.1, delta: 2e-6 }));
    expect(last).to.include({ remainingDelta: 0, remainingEpsilon: 9.7 });
    expect(await account('delta')).to.include({ delta_reserved: '0.000010', delta_total: '0.00001' });
  });

  it('starts each period fresh, and a changed period kind only when the current period ends', async () => {
    const full = await ledger.reserve(request('period', { epsilon: 1 }));
    await ledger.commit(full.id, undefined);
    expect((await failure(ledger.reserve(request('period')))).message).to.contain('0 of ε=1');
    // A daily budget set mid-month does not open a second budget beside this month's.
    expect((await failure(ledger.reserve(request('period', { period: 'day' })))).message).to.contain('remain this month');
    const next = await ledger.reserve(request('period', { at: new Date(monthStart(now, 1).getTime() + 3 * 86_400_000) }));
    expect(next.periodStart.getTime()).to.equal(monthStart(now, 1).getTime());
    expect(next.periodEnd.getTime()).to.equal(monthStart(now, 2).getTime());
    expect(next.remainingEpsilon).to.equal(0.9);

    // Week Mon 8 – Mon 15 Feb 2027 opened first; month accounts around it are clipped, never overlapping.
    const feb = (day: number) => new Date(Date.UTC(2027, 1, day, 12));
    const week = await ledger.reserve(request('switch', { period: 'week', at: feb(10) }));
    const after = await ledger.reserve(request('switch', { period: 'month', at: feb(20) }));
    const before = await ledger.reserve(request('switch', { period: 'month', at: feb(3) }));
    const day = (d: Date) => d.toISOString().slice(0, 10);
    expect([week, before, after].map((r) => `${day(r.periodStart)}..${day(r.periodEnd)}`)).to.deep.equal([
      '2027-02-08..2027-02-15',
      '2027-02-01..2027-02-08',
      '2027-02-15..2027-03-01',
    ]);
    expect((await ledger.reserve(request('switch', { period: 'week', at: feb(11) }))).periodStart.getTime()).to.equal(week.periodStart.getTime());
  });

  it('refuses bad amounts before any SQL', async () => {
    expect((await failure(ledger.reserve(request('bad', { epsilon: -0.1 })))).message).to.match(/ε of the query must be a finite number ≥ 0; got -0.1/);
    expect((await failure(ledger.reserve(request('bad', { delta: Number.NaN })))).message).to.match(/δ of the query must be a finite number ≥ 0/);
    expect((await failure(ledger.reserve(request('bad', { totals: { epsilon: 1, delta: 1 } })))).message).to.match(/δ total must be below 1/);
    expect((await failure(ledger.reserve(request('', {})))).message).to.match(/project must be 1 to 200 characters/);
    expect(await registry('select 1 from budget_accounts where consumer_id = $1 and project = $2', [consumerId, 'bad'])).to.have.length(0);
  });

  it('lets the app role neither delete ledger entries nor rewrite settled ones, nor give spent budget back', async () => {
    const r = await ledger.reserve(request('guards', { epsilon: 0.2 }));
    await ledger.commit(r.id, { rows: [] });
    const [acc] = await registry<{ id: string }>('select id from budget_accounts where consumer_id = $1 and project = $2', [consumerId, 'guards']);
    const sql = (text: string, params: unknown[] = []) => failure(gatewayA.query(text, params));

    expect((await sql('delete from budget_ledger_entries where id = $1', [r.id])).message).to.match(/permission denied for table budget_ledger_entries/);
    expect((await sql(`update budget_ledger_entries set state = 'reserved', settled_at = null where id = $1`, [r.id])).message).to.match(
      /is committed and settled entries are never rewritten/,
    );
    expect((await sql('update budget_ledger_entries set epsilon = 0 where id = $1', [r.id])).message).to.match(
      /permission denied for table budget_ledger_entries/,
    );
    expect(
      (
        await sql(
          `insert into budget_ledger_entries (account_id, query_id, fingerprint, epsilon, delta, state, settled_at) values ($1, 'x', 'x', 0, 0, 'released', now())`,
          [acc!.id],
        )
      ).message,
    ).to.match(/an entry starts reserved/);
    expect((await sql('delete from budget_accounts where id = $1', [acc!.id])).message).to.match(/permission denied for table budget_accounts/);
    expect((await sql('update budget_accounts set epsilon_total = 100 where id = $1', [acc!.id])).message).to.match(
      /permission denied for table budget_accounts/,
    );
    expect((await sql('update budget_accounts set epsilon_spent = 0 where id = $1', [acc!.id])).message).to.match(/spent privacy budget never comes back/);
    const overspent = await sql('update budget_accounts set epsilon_reserved = epsilon_reserved + 0.81 where id = $1', [acc!.id]);
    expect(overspent.message).to.match(/budget_accounts_epsilon_within_total/);
    expect((await sql('delete from released_answers where consumer_id = $1', [consumerId])).message).to.match(/permission denied for table released_answers/);
    expect((await sql(`update released_answers set answer = '{}' where consumer_id = $1`, [consumerId])).message).to.match(
      /permission denied for table released_answers/,
    );
    expect(await account('guards')).to.include({ epsilon_spent: '0.2', epsilon_reserved: '0.0' });
  });

  it('shows ops every account through the API (schema-valid, exact figures) and refuses everyone else', async () => {
    const validate = addFormats(new Ajv2020({ allErrors: true, strict: true })).compile(
      JSON.parse(fs.readFileSync(path.join(ROOT, 'connector-spec', 'api', 'budget.schema.json'), 'utf8')),
    );
    const all = await api('GET', `/consumers/${CONSUMER}/budget`);
    expect(all.status, JSON.stringify(all.body)).to.equal(200);
    expect(validate(all.body), JSON.stringify(validate.errors)).to.equal(true);
    const accounts = all.body.accounts as BudgetAccountView[];
    expect(all.body.consumer).to.equal(CONSUMER);
    // Newest period first: the 2027 test periods, next month's, then this month's.
    const starts = accounts.map((a) => Date.parse(a.periodStart));
    expect(starts).to.deep.equal([...starts].sort((x, y) => y - x));
    const parallel = accounts.find((a) => a.project === 'parallel')!;
    expect(parallel).to.deep.include({ period: 'month', periodStart: monthStart(now).toISOString(), periodEnd: monthStart(now, 1).toISOString() });
    expect(parallel.epsilon).to.deep.equal({ total: 1, spent: 1, reserved: 0, remaining: 0 });
    expect(parallel.delta).to.deep.equal({ total: 1e-5, spent: 0, reserved: 0, remaining: 1e-5 });
    expect(parallel.entries).to.have.length(10);
    expect(parallel.entries.every((e) => e.state === 'committed' && e.epsilon === 0.1 && e.settledAt !== null)).to.equal(true);
    const settle = accounts.find((a) => a.project === 'settle')!;
    expect(settle.epsilon).to.deep.equal({ total: 1, spent: 0.3, reserved: 0.7, remaining: 0 });
    expect(settle.entries.map((e) => e.state).sort()).to.deep.equal(['committed', 'released', 'reserved', 'reserved']);

    const one = await api('GET', `/consumers/${CONSUMER}/budget?project=delta&entries=2`);
    expect(one.status).to.equal(200);
    expect(one.body.accounts.map((a: BudgetAccountView) => a.project)).to.deep.equal(['delta']);
    expect(one.body.accounts[0].entries).to.have.length(2);
    expect(one.body.accounts[0].delta).to.deep.equal({ total: 1e-5, spent: 0, reserved: 1e-5, remaining: 0 });

    expect((await api('GET', `/consumers/${CONSUMER}/budget?project=nothing-here`)).body).to.deep.equal({ consumer: CONSUMER, accounts: [] });
    expect((await api('GET', `/consumers/${CONSUMER}/budget?entries=5000`)).status).to.equal(400);
    expect((await api('GET', `/consumers/${CONSUMER}/budget?projet=delta`)).status).to.equal(400);
    expect((await api('GET', '/consumers/no-such-consumer/budget')).status).to.equal(404);
    const self = await api('GET', `/consumers/${CONSUMER}/budget`, undefined, consumerToken);
    expect(self.status).to.equal(403);
    expect(JSON.stringify(self.body)).to.not.contain('parallel');
    expect((await api('GET', `/consumers/${CONSUMER}/budget`, undefined, 'mesh_not-a-token')).status).to.equal(401);
  });
});
