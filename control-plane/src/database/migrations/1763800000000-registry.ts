import { MigrationInterface, QueryRunner } from 'typeorm';

/** The registry's first schema: domains, endpoints, data products, consumers, budgets, audit log. */
export class Registry1763800000000 implements MigrationInterface {
  name = 'Registry1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      create table domains (
        id uuid primary key default gen_random_uuid(),
        ods_code varchar(10) not null unique check (ods_code ~ '^[A-Z0-9]{3,10}$'),
        name text not null check (length(name) > 0),
        kind varchar(20) not null check (kind in ('trust', 'gp-federation', 'ics', 'national')),
        region text not null,
        owner_contact text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await db.query(`
      create table endpoints (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete restrict,
        base_url text not null unique,
        fhir_version varchar(10) not null,
        auth_secret_ref text check (auth_secret_ref ~ '^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$'),
        status varchar(20) not null check (status in ('active', 'suspended')),
        health varchar(10) not null default 'unknown' check (health in ('unknown', 'up', 'down')),
        last_checked_at timestamptz,
        last_latency_ms integer,
        last_error text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    // The catalog has one base URL per domain.
    await db.query(`create unique index endpoints_one_active_per_domain on endpoints (domain_id) where status = 'active'`);
    await db.query(`
      create table endpoint_health (
        id bigserial primary key,
        endpoint_id uuid not null references endpoints (id) on delete cascade,
        checked_at timestamptz not null,
        ok boolean not null,
        http_status integer,
        latency_ms integer,
        error text
      )`);
    await db.query(`create index endpoint_health_by_endpoint on endpoint_health (endpoint_id, checked_at desc)`);
    await db.query(`
      create table data_products (
        id uuid primary key default gen_random_uuid(),
        name text not null unique check (name ~ '^[a-z][a-z0-9_]{0,40}$'),
        domain_id uuid not null references domains (id) on delete restrict,
        description text not null default '',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await db.query(`
      create table data_product_versions (
        id uuid primary key default gen_random_uuid(),
        product_id uuid not null references data_products (id) on delete cascade,
        version text not null,
        major integer not null check (major >= 0),
        minor integer not null check (minor >= 0),
        patch integer not null check (patch >= 0),
        lifecycle varchar(20) not null check (lifecycle in ('draft', 'published', 'deprecated', 'retired')),
        views jsonb not null,
        column_tags jsonb not null,
        bindings jsonb not null,
        sources text[] not null,
        sla jsonb not null,
        content_hash text not null,
        published_by text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (product_id, major, minor, patch)
      )`);
    await db.query(`
      create table product_tables (
        table_name text primary key check (table_name ~ '^[a-z][a-z0-9_]{0,62}$'),
        product_id uuid not null references data_products (id) on delete cascade,
        view_name text not null
      )`);
    await db.query(`
      create table consumers (
        id uuid primary key default gen_random_uuid(),
        name text not null unique check (name ~ '^[a-z][a-z0-9._-]{1,62}$'),
        kind varchar(10) not null check (kind in ('user', 'team')),
        team_id uuid references consumers (id) on delete restrict,
        roles text[] not null check (roles <@ array['analyst', 'researcher', 'data-product-owner', 'ops']::text[]),
        domain_id uuid references domains (id) on delete restrict,
        allowed_purposes text[] not null,
        policies jsonb not null,
        budget_epsilon numeric check (budget_epsilon is null or budget_epsilon >= 0),
        budget_period varchar(10) not null check (budget_period in ('day', 'week', 'month')),
        token_hash text unique,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check (not ('data-product-owner' = any (roles)) or domain_id is not null)
      )`);
    await db.query(`
      create table budget_periods (
        consumer_id uuid not null references consumers (id) on delete cascade,
        period_start timestamptz not null,
        period_end timestamptz not null,
        epsilon_total numeric not null check (epsilon_total >= 0),
        epsilon_spent numeric not null default 0 check (epsilon_spent >= 0 and epsilon_spent <= epsilon_total),
        primary key (consumer_id, period_start)
      )`);
    await db.query(`
      create table catalog_state (
        catalog text primary key,
        properties_hash text not null,
        applied_at timestamptz not null
      )`);
    await db.query(`
      create table audit_log (
        id bigserial primary key,
        at timestamptz not null,
        actor text not null,
        action text not null,
        entity text not null,
        entity_id text not null,
        before jsonb,
        after jsonb,
        prev_hash text not null,
        hash text not null unique
      )`);
    // Append-only: no UPDATE ever; DELETE only from the retention job, which sets mesh.audit_retention.
    await db.query(`
      create function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('mesh.audit_retention', true) = 'on' then
          return old;
        end if;
        raise exception 'audit_log is append-only (% refused)', tg_op;
      end $$`);
    await db.query(`create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_append_only()`);
    await db.query(`create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_append_only()`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'audit_log',
      'catalog_state',
      'budget_periods',
      'consumers',
      'product_tables',
      'data_product_versions',
      'data_products',
      'endpoint_health',
      'endpoints',
      'domains',
    ]) {
      await db.query(`drop table if exists ${table} cascade`);
    }
    await db.query('drop function if exists audit_log_append_only()');
  }
}
