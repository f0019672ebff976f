import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Res } from '@nestjs/common';
import { Response } from 'express';
import { QueryParams } from '../api/query-params';
import { SchemaValidator } from '../api/schema-validator';
import { CurrentPrincipal } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { Roles } from '../auth/roles';
import { Lifecycle } from '../registry/data-product.entity';
import { ProductsService } from '../registry/products.service';
import { Publication } from './publication';
import { PublishingService } from './publishing.service';

@Controller('api/v1')
export class PublishingController {
  constructor(
    @Inject(PublishingService) private readonly publishing: PublishingService,
    @Inject(ProductsService) private readonly products: ProductsService,
    @Inject(SchemaValidator) private readonly schemas: SchemaValidator,
  ) {}

  // A data product owner sees only their own domain's products; everyone else the whole catalogue.
  @Get('data-products') list(@QueryParams({}) _query: object, @CurrentPrincipal() actor: Principal) {
    return this.products.list(actor);
  }
  @Get('data-products/:name') get(@Param('name') name: string, @CurrentPrincipal() actor: Principal) {
    return this.products.get(name, actor);
  }
  @Get('data-products/:name/versions/:version') version(@Param('name') name: string, @Param('version') version: string, @CurrentPrincipal() actor: Principal) {
    return this.products.version(name, version, actor);
  }

  /** 201 for a new version, 200 when identical content was already published under it. */
  @Post('data-products')
  @Roles('data-product-owner', 'ops')
  async publish(@Body() body: unknown, @CurrentPrincipal() actor: Principal, @Res({ passthrough: true }) res: Response) {
    const result = await this.publishing.publish(this.schemas.validate<Publication>('data-product', body), actor, 'api');
    res.status(result.created ? 201 : 200);
    return result;
  }

  /** Every check publishing makes (the real dry run included) and the diff against the previous version; writes nothing. */
  @Post('data-products/dry-run')
  @Roles('data-product-owner', 'ops')
  @HttpCode(200)
  dryRun(@Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.publishing.dryRunPublication(this.schemas.validate<Publication>('data-product', body), actor);
  }

  /**
   * For a domain's CI: the same publication, authenticated with the CI's data-product-owner token.
   * Answers with a compact summary a build log can show.
   */
  @Post('webhooks/publish')
  @Roles('data-product-owner', 'ops')
  async webhook(@Body() body: unknown, @CurrentPrincipal() actor: Principal, @Res({ passthrough: true }) res: Response) {
    const result = await this.publishing.publish(this.schemas.validate<Publication>('data-product', body), actor, 'webhook');
    res.status(result.created ? 201 : 200);
    return {
      product: result.product,
      version: result.version,
      created: result.created,
      tables: result.tables,
      dryRun: result.dryRun,
      problems: result.serving?.problems ?? [],
    };
  }

  @Patch('data-products/:name/versions/:version')
  @Roles('data-product-owner', 'ops')
  lifecycle(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    const { lifecycle } = this.schemas.validate<{ lifecycle: Lifecycle }>('lifecycle-change', body);
    return this.publishing.changeLifecycle(name, version, lifecycle, actor);
  }
}
