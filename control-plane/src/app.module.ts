// The control plane's module graph, one module per concern, as in ARCHITECTURE.md. The privacy module
// (disclosure control) arrives with its issue.
import { Global, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiErrorFilter } from './api/errors';
import { SchemaValidator } from './api/schema-validator';
import { SystemController } from './api/system.controller';
import { AuditController } from './audit/audit.controller';
import { AuditService } from './audit/audit.service';
import { RefusalAudit } from './audit/refusals';
import { AuthGuard } from './auth/auth.guard';
import { bootstrapOps } from './auth/ops-bootstrap';
import { CatalogService } from './catalogs/catalog.service';
import { CatalogsController } from './catalogs/catalogs.controller';
import { CONFIG, ControlPlaneConfig } from './config';
import { dataSourceOptions } from './database/data-source';
import { migrateRegistry } from './database/migrate';
import { GatewayModule } from './gateway/gateway.module';
import { MetricsModule } from './metrics/metrics.module';
import { BudgetLedger } from './privacy/budget-ledger';
import { PublishingController } from './publishing/publishing.controller';
import { PublishingService } from './publishing/publishing.service';
import { BreakGlassService } from './registry/break-glass.service';
import { ConsumersService } from './registry/consumers.service';
import { DomainsService } from './registry/domains.service';
import { EndpointsService } from './registry/endpoints.service';
import { ProductsService } from './registry/products.service';
import { ConsumersController, DomainsController } from './registry/registry.controller';
import { RegistryEvents } from './registry/registry-events';
import { HealthCheckController } from './scheduler/health-check.controller';
import { SchedulerService } from './scheduler/scheduler.service';

@Global()
@Module({})
class ConfigModule {
  static with(config: ControlPlaneConfig) {
    return {
      module: ConfigModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: SchemaValidator, useValue: new SchemaValidator(config.specDir) },
      ],
      exports: [CONFIG, SchemaValidator],
    };
  }
}

@Global()
@Module({ providers: [AuditService, RefusalAudit], controllers: [AuditController], exports: [AuditService, RefusalAudit] })
class AuditModule {}

@Module({
  providers: [
    DomainsService,
    EndpointsService,
    ConsumersService,
    BreakGlassService,
    ProductsService,
    RegistryEvents,
    { provide: BudgetLedger, useFactory: (db: DataSource) => new BudgetLedger(db), inject: [DataSource] },
  ],
  controllers: [DomainsController, ConsumersController],
  exports: [DomainsService, EndpointsService, ConsumersService, ProductsService, RegistryEvents],
})
class RegistryModule {}

@Module({ imports: [RegistryModule], providers: [CatalogService], controllers: [CatalogsController], exports: [CatalogService] })
class CatalogsModule implements OnApplicationBootstrap {
  constructor(
    @Inject(CatalogService) private readonly catalogs: CatalogService,
    @Inject(RegistryEvents) private readonly events: RegistryEvents,
  ) {}

  onApplicationBootstrap(): void {
    // Domain and endpoint changes alter the catalog; products sync themselves when they publish.
    this.events.onChanged((what) => void this.catalogs.sync(what).catch(() => undefined));
  }
}

@Module({ imports: [RegistryModule, CatalogsModule], providers: [PublishingService], controllers: [PublishingController] })
class PublishingModule {}

@Module({ imports: [CatalogsModule], providers: [SchedulerService], controllers: [HealthCheckController] })
class SchedulerModule {}

@Module({})
export class AppModule implements OnApplicationBootstrap {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CatalogService) private readonly catalogs: CatalogService,
  ) {}

  static with(config: ControlPlaneConfig) {
    return {
      module: AppModule,
      imports: [
        ConfigModule.with(config),
        // Migrations first, as the schema owner; then the service connects as its least-privilege role.
        TypeOrmModule.forRootAsync({
          useFactory: async () => {
            await migrateRegistry(config);
            return { ...dataSourceOptions(config.registry.app), retryAttempts: 10, retryDelay: 2000 };
          },
        }),
        AuditModule,
        MetricsModule,
        RegistryModule,
        CatalogsModule,
        PublishingModule,
        SchedulerModule,
        GatewayModule,
      ],
      controllers: [SystemController],
      providers: [
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await bootstrapOps(this.db, this.audit, this.config.opsTokenFile);
    // Whatever Trino had (a previous run, a restart), make it match the registry now.
    await this.catalogs.sync('start-up');
  }
}
