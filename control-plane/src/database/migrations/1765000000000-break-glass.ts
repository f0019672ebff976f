import { MigrationInterface, QueryRunner } from 'typeorm';

/** Break-glass grants: reasoned, at most 24 hours, never deleted (revocation is an update, kept in the audit). */
export class BreakGlass1765000000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`create table break_glass_grants (
      id uuid primary key default gen_random_uuid(),
      consumer_id uuid not null references consumers (id) on delete cascade,
      purpose text not null,
      reason text not null check (length(reason) >= 20),
      granted_by text not null,
      granted_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      revoked_by text,
      check (expires_at > granted_at and expires_at <= granted_at + interval '24 hours'),
      check ((revoked_at is null) = (revoked_by is null))
    )`);
    await db.query('create index break_glass_grants_active on break_glass_grants (consumer_id, expires_at) where revoked_at is null');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('drop table break_glass_grants');
  }
}
