import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The privacy-budget ledger, replacing budget_periods (per consumer only, no δ, nothing reserved, and never
 * spent by anything). An account is one (consumer, project, period); its figures can never exceed its totals
 * (CHECK), its spent never goes down and its totals never change (trigger). Entries are reserved, then
 * committed or released once; a settled entry is never rewritten (trigger) and none is deleted (grants, in
 * migrate.ts). Released answers are kept so an identical query within the period is answered again for free.
 */
export class BudgetLedger1765100000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    // gist equality on uuid and text, for the constraint that a consumer's periods in a project never overlap.
    await db.query('create extension if not exists btree_gist');
    await db.query('drop table budget_periods');
    await db.query(`create table budget_accounts (
      id uuid primary key default gen_random_uuid(),
      consumer_id uuid not null references consumers (id) on delete cascade,
      project text not null check (length(project) between 1 and 200),
      period_kind varchar(10) not null check (period_kind in ('day', 'week', 'month')),
      period_start timestamptz not null,
      period_end timestamptz not null check (period_end > period_start),
      epsilon_total numeric not null check (epsilon_total >= 0),
      delta_total numeric not null check (delta_total >= 0 and delta_total < 1),
      epsilon_spent numeric not null default 0 check (epsilon_spent >= 0),
      epsilon_reserved numeric not null default 0 check (epsilon_reserved >= 0),
      delta_spent numeric not null default 0 check (delta_spent >= 0),
      delta_reserved numeric not null default 0 check (delta_reserved >= 0),
      created_at timestamptz not null default now(),
      constraint budget_accounts_epsilon_within_total check (epsilon_spent + epsilon_reserved <= epsilon_total),
      constraint budget_accounts_delta_within_total check (delta_spent + delta_reserved <= delta_total),
      unique (consumer_id, project, period_start),
      constraint budget_accounts_no_overlap exclude using gist (consumer_id with =, project with =, tstzrange(period_start, period_end) with &&)
    )`);
    await db.query(`
      create function budget_accounts_guard() returns trigger language plpgsql as $$
      begin
        if (new.id, new.consumer_id, new.project, new.period_kind, new.period_start, new.period_end, new.epsilon_total, new.delta_total, new.created_at)
           is distinct from (old.id, old.consumer_id, old.project, old.period_kind, old.period_start, old.period_end, old.epsilon_total, old.delta_total, old.created_at) then
          raise exception 'budget account %: only spent and reserved amounts change', old.id;
        end if;
        if new.epsilon_spent < old.epsilon_spent or new.delta_spent < old.delta_spent then
          raise exception 'budget account %: spent privacy budget never comes back', old.id;
        end if;
        return new;
      end $$`);
    await db.query('create trigger budget_accounts_guard before update on budget_accounts for each row execute function budget_accounts_guard()');

    await db.query(`create table budget_ledger_entries (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references budget_accounts (id) on delete cascade,
      query_id text not null check (length(query_id) between 1 and 200),
      fingerprint text not null check (length(fingerprint) between 1 and 200),
      epsilon numeric not null check (epsilon >= 0),
      delta numeric not null check (delta >= 0),
      state varchar(10) not null default 'reserved' check (state in ('reserved', 'committed', 'released')),
      reason text,
      created_at timestamptz not null default now(),
      settled_at timestamptz,
      check ((state = 'reserved') = (settled_at is null)),
      check (state <> 'released' or length(coalesce(reason, '')) > 0)
    )`);
    await db.query('create index budget_ledger_entries_by_account on budget_ledger_entries (account_id, created_at desc)');
    await db.query(`create index budget_ledger_entries_open on budget_ledger_entries (created_at) where state = 'reserved'`);
    await db.query(`
      create function budget_ledger_entries_guard() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then
          if new.state <> 'reserved' then
            raise exception 'budget ledger: an entry starts reserved (got %)', new.state;
          end if;
          return new;
        end if;
        if old.state <> 'reserved' then
          raise exception 'budget ledger entry % is % and settled entries are never rewritten', old.id, old.state;
        end if;
        if new.state not in ('committed', 'released') then
          raise exception 'budget ledger entry %: a reservation is settled as committed or released (got %)', old.id, new.state;
        end if;
        if (new.id, new.account_id, new.query_id, new.fingerprint, new.epsilon, new.delta, new.created_at)
           is distinct from (old.id, old.account_id, old.query_id, old.fingerprint, old.epsilon, old.delta, old.created_at) then
          raise exception 'budget ledger entry %: only its state, reason and settlement time change', old.id;
        end if;
        return new;
      end $$`);
    await db.query(`create trigger budget_ledger_entries_guard before insert or update on budget_ledger_entries
      for each row execute function budget_ledger_entries_guard()`);

    await db.query(`create table released_answers (
      consumer_id uuid not null,
      project text not null,
      period_start timestamptz not null,
      fingerprint text not null,
      answer jsonb not null,
      epsilon numeric not null check (epsilon >= 0),
      delta numeric not null check (delta >= 0),
      query_id text not null,
      entry_id uuid not null references budget_ledger_entries (id) on delete cascade,
      released_at timestamptz not null default now(),
      primary key (consumer_id, project, period_start, fingerprint),
      foreign key (consumer_id, project, period_start) references budget_accounts (consumer_id, project, period_start) on delete cascade
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('drop table released_answers');
    await db.query('drop table budget_ledger_entries');
    await db.query('drop function budget_ledger_entries_guard()');
    await db.query('drop table budget_accounts');
    await db.query('drop function budget_accounts_guard()');
    await db.query(`create table budget_periods (
      consumer_id uuid not null references consumers (id) on delete cascade,
      period_start timestamptz not null,
      period_end timestamptz not null,
      epsilon_total numeric not null check (epsilon_total >= 0),
      epsilon_spent numeric not null default 0 check (epsilon_spent >= 0 and epsilon_spent <= epsilon_total),
      primary key (consumer_id, period_start)
    )`);
  }
}
