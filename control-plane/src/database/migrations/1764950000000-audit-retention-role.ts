import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit entries could be deleted by anyone who set `mesh.audit_retention` (any session can set a custom
 * setting). Now only the retention job's role may delete, and only entries older than 30 days: the newest
 * entries, the ones an intruder would want gone, cannot be deleted by any application role.
 */
export class AuditRetentionRole1764950000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      create or replace function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_user = 'mesh_audit_retention' then
          if old.at < now() - interval '30 days' then
            return old;
          end if;
        end if;
        raise exception 'audit_log is append-only (% refused for %)', tg_op, current_user;
      end $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      create or replace function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('mesh.audit_retention', true) = 'on' then
          return old;
        end if;
        raise exception 'audit_log is append-only (% refused)', tg_op;
      end $$`);
  }
}
