import { Controller, Get, Inject, Post } from '@nestjs/common';
import { Roles } from '../auth/roles';
import { CatalogService } from './catalog.service';

@Controller('api/v1/catalogs')
export class CatalogsController {
  constructor(@Inject(CatalogService) private readonly catalogs: CatalogService) {}

  @Get()
  async status() {
    const { domains, tables } = await this.catalogs.desired();
    return {
      mappingsDir: this.catalogs.mappingsDir,
      catalogsDir: this.catalogs.catalogsDir,
      domains: domains.map((d) => d.odsCode),
      tables: tables.map((t) => t.table),
    };
  }

  /** Every Trino node's circuit breaker per domain: which endpoints fail fast now, since when, and why. */
  @Get('circuits')
  @Roles('ops')
  circuits() {
    return this.catalogs.circuits();
  }

  @Post('reconcile')
  @Roles('ops')
  reconcile() {
    return this.catalogs.sync('requested by ops');
  }
}
