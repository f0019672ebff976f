// Migrations run as the schema owner, before the application connects as its own least-privilege role;
// then the owner grants that role exactly what it needs, so a bug or an injection in the service cannot
// change the schema, disable the audit trigger or remove audit entries.
import { DataSource } from 'typeorm';
import type { ControlPlaneConfig } from '../config';
import { connectionOptions, dataSourceOptions } from './data-source';

/** Tables the service may not write: the audit log and released answers are append-only, migrations belong to the owner. */
const APPEND_ONLY = ['audit_log', 'released_answers'];
const OWNER_ONLY = ['migrations'];
/** Kept whole for the record: grants are revoked by an update, never removed; privacy budget spent stays spent. */
const NEVER_DELETED = ['break_glass_grants', 'budget_accounts', 'budget_ledger_entries'];
/** The only columns the service may update (triggers in the budget-ledger migration police the values too). */
const UPDATABLE_COLUMNS: Record<string, string[]> = {
  budget_accounts: ['epsilon_spent', 'epsilon_reserved', 'delta_spent', 'delta_reserved'],
  budget_ledger_entries: ['state', 'reason', 'settled_at'],
};
/** What the retention job prunes. */
const PRUNED = ['audit_log', 'endpoint_health'];

export async function migrateRegistry(config: ControlPlaneConfig): Promise<void> {
  const db = new DataSource(dataSourceOptions(config.registry.owner, { runMigrations: true }));
  try {
    await db.initialize();
  } catch (e) {
    throw new Error(`registry migrations as ${connectionOptions(config.registry.owner).username} failed: ${(e as Error).message}`);
  }
  try {
    await grantLeastPrivilege(db, config);
  } finally {
    await db.destroy();
  }
}

async function grantLeastPrivilege(db: DataSource, config: ControlPlaneConfig): Promise<void> {
  const owner = connectionOptions(config.registry.owner).username;
  const app = connectionOptions(config.registry.app).username;
  const retention = connectionOptions(config.registry.auditRetention).username;
  const id = (name: string): string => `"${name.replace(/"/g, '""')}"`;
  // A deployment that runs everything as one role has nothing to separate (and must not revoke from itself).
  if (app !== owner) {
    await db.query(`grant usage on schema public to ${id(app)}`);
    await db.query(`grant select, insert, update, delete on all tables in schema public to ${id(app)}`);
    await db.query(`grant usage, select on all sequences in schema public to ${id(app)}`);
    await db.query(`revoke update, delete, truncate on ${APPEND_ONLY.join(', ')} from ${id(app)}`);
    await db.query(`revoke insert, update, delete, truncate on ${OWNER_ONLY.join(', ')} from ${id(app)}`);
    await db.query(`revoke delete, truncate on ${NEVER_DELETED.join(', ')} from ${id(app)}`);
    for (const [table, columns] of Object.entries(UPDATABLE_COLUMNS)) {
      await db.query(`revoke update on ${table} from ${id(app)}`);
      await db.query(`grant update (${columns.join(', ')}) on ${table} to ${id(app)}`);
    }
  }
  if (retention !== owner) {
    await db.query(`grant usage on schema public to ${id(retention)}`);
    await db.query(`grant select, delete on ${PRUNED.join(', ')} to ${id(retention)}`);
  }
}
