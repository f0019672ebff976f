import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The connector reads token variables named FHIR_MESH_TOKEN_* only (Trino's environment holds other
 * secrets), so the registry refuses other names too. NOT VALID: rows from before keep loading, and the
 * connector reports them by name.
 */
export class EndpointTokenReference1764950100000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query('alter table endpoints drop constraint if exists endpoints_auth_secret_ref_check');
    await db.query(`alter table endpoints add constraint endpoints_auth_secret_ref_check
      check (auth_secret_ref ~ '^(env:FHIR_MESH_TOKEN_[A-Za-z0-9_]+|file:/.+)$') not valid`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('alter table endpoints drop constraint if exists endpoints_auth_secret_ref_check');
    await db.query(`alter table endpoints add constraint endpoints_auth_secret_ref_check
      check (auth_secret_ref ~ '^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$') not valid`);
  }
}
