// The registry's TypeORM settings, shared by the application and the migration tooling. Schema changes
// go through migrations only: `synchronize` stays off everywhere.
import { DataSourceOptions } from 'typeorm';
import { AuditEntry } from '../audit/audit-entry.entity';
import { CatalogState } from '../catalogs/catalog-state.entity';
import { DataProduct, DataProductVersion, ProductTable } from '../registry/data-product.entity';
import { BudgetPeriod, Consumer } from '../registry/consumer.entity';
import { Domain } from '../registry/domain.entity';
import { Endpoint, EndpointHealthCheck } from '../registry/endpoint.entity';
import { Registry1763800000000 } from './migrations/1763800000000-registry';

export const ENTITIES = [Domain, Endpoint, EndpointHealthCheck, DataProduct, DataProductVersion, ProductTable, Consumer, BudgetPeriod,
  AuditEntry, CatalogState];

export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [Registry1763800000000],
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    // A restarted PostgreSQL drops every connection: the pool reconnects on the next query.
    extra: { max: 10, connectionTimeoutMillis: 5000 },
  };
}
