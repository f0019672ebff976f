// The registry's TypeORM settings, shared by the application and the migration tooling. Schema changes
// go through migrations only: `synchronize` stays off everywhere.
import { DataSourceOptions } from 'typeorm';
import { AuditEntry } from '../audit/audit-entry.entity';
import { CatalogState } from '../catalogs/catalog-state.entity';
import type { DbConnection } from '../config';
import { BreakGlassGrant } from '../registry/break-glass.entity';
import { Consumer } from '../registry/consumer.entity';
import { DataProduct, DataProductVersion, ProductTable } from '../registry/data-product.entity';
import { Domain } from '../registry/domain.entity';
import { Endpoint, EndpointHealthCheck } from '../registry/endpoint.entity';
import { readSecretFile } from '../secret-file';
import { Registry1763800000000 } from './migrations/1763800000000-registry';
import { AuditRetentionRole1764950000000 } from './migrations/1764950000000-audit-retention-role';
import { EndpointTokenReference1764950100000 } from './migrations/1764950100000-endpoint-token-reference';
import { BreakGlass1765000000000 } from './migrations/1765000000000-break-glass';
import { BudgetLedger1765100000000 } from './migrations/1765100000000-budget-ledger';

export const ENTITIES = [
  Domain,
  Endpoint,
  EndpointHealthCheck,
  DataProduct,
  DataProductVersion,
  ProductTable,
  Consumer,
  BreakGlassGrant,
  AuditEntry,
  CatalogState,
];

export const MIGRATIONS = [
  Registry1763800000000,
  AuditRetentionRole1764950000000,
  EndpointTokenReference1764950100000,
  BreakGlass1765000000000,
  BudgetLedger1765100000000,
];

/** Host, port, role and database from the URL; the password from its file, read at each new connection. */
export function connectionOptions(connection: DbConnection): {
  host: string;
  port: number;
  username: string;
  database: string;
  password?: string | (() => string);
} {
  const url = new URL(connection.url);
  const file = connection.passwordFile;
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    username: decodeURIComponent(url.username),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    password: file ? () => readSecretFile(file, 'the registry database password') : url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/** The application's data source: it never runs migrations (its role may not change the schema). */
export function dataSourceOptions(connection: DbConnection, options: { runMigrations?: boolean } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    ...connectionOptions(connection),
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: options.runMigrations ?? false,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    // A restarted PostgreSQL drops every connection: the pool reconnects on the next query.
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}
