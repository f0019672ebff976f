import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { QueryParams } from '../api/query-params';
import { SchemaValidator } from '../api/schema-validator';
import { CurrentPrincipal } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { Roles } from '../auth/roles';
import { BudgetLedger } from '../privacy/budget-ledger';
import { BreakGlassInput, BreakGlassService } from './break-glass.service';
import { ConsumerInput, ConsumersService } from './consumers.service';
import { DomainInput, DomainsService } from './domains.service';
import { EndpointInput, EndpointsService } from './endpoints.service';

/** Domains and their endpoints: everyone authenticated reads, ops write. */
@Controller('api/v1')
export class DomainsController {
  constructor(
    @Inject(DomainsService) private readonly domains: DomainsService,
    @Inject(EndpointsService) private readonly endpoints: EndpointsService,
    @Inject(SchemaValidator) private readonly schemas: SchemaValidator,
  ) {}

  // List routes take no filters: a filter-like parameter is refused rather than silently ignored.
  @Get('domains') listDomains(@QueryParams({}) _query: object) {
    return this.domains.list();
  }
  @Get('domains/:ods') getDomain(@Param('ods') ods: string) {
    return this.domains.get(ods);
  }

  @Post('domains')
  @Roles('ops')
  createDomain(@Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.domains.create(this.schemas.validate<DomainInput>('domain', body), actor);
  }

  @Patch('domains/:ods')
  @Roles('ops')
  updateDomain(@Param('ods') ods: string, @Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.domains.update(ods, this.schemas.validate<Partial<DomainInput>>('domain', body, 'patch'), actor);
  }

  @Delete('domains/:ods')
  @Roles('ops')
  @HttpCode(204)
  removeDomain(@Param('ods') ods: string, @CurrentPrincipal() actor: Principal) {
    return this.domains.remove(ods, actor);
  }

  @Get('endpoints') listEndpoints(@QueryParams({}) _query: object) {
    return this.endpoints.list();
  }
  @Get('endpoints/:id') getEndpoint(@Param('id', ParseUUIDPipe) id: string) {
    return this.endpoints.get(id);
  }
  @Get('endpoints/:id/health')
  endpointHealth(
    @Param('id', ParseUUIDPipe) id: string,
    @QueryParams({ limit: { kind: 'integer', min: 1, max: 1000, default: 50 } }) query: { limit: number },
  ) {
    return this.endpoints.history(id, query.limit);
  }

  @Post('endpoints')
  @Roles('ops')
  createEndpoint(@Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.endpoints.create(this.schemas.validate<EndpointInput>('endpoint', body), actor);
  }

  @Patch('endpoints/:id')
  @Roles('ops')
  updateEndpoint(@Param('id', ParseUUIDPipe) id: string, @Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.endpoints.update(id, this.schemas.validate<Partial<EndpointInput>>('endpoint', body, 'patch'), actor);
  }

  @Delete('endpoints/:id')
  @Roles('ops')
  @HttpCode(204)
  removeEndpoint(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() actor: Principal) {
    return this.endpoints.remove(id, actor);
  }
}

/** Consumers hold policies and budgets: ops only, except a consumer reading itself (`/me`). */
@Controller('api/v1')
export class ConsumersController {
  constructor(
    @Inject(ConsumersService) private readonly consumers: ConsumersService,
    @Inject(BreakGlassService) private readonly breakGlass: BreakGlassService,
    @Inject(BudgetLedger) private readonly budgets: BudgetLedger,
    @Inject(SchemaValidator) private readonly schemas: SchemaValidator,
  ) {}

  @Get('me') me(@CurrentPrincipal() actor: Principal) {
    return this.consumers.get(actor.name);
  }

  @Get('consumers') @Roles('ops') list(@QueryParams({}) _query: object) {
    return this.consumers.list();
  }
  @Get('consumers/:name') @Roles('ops') get(@Param('name') name: string) {
    return this.consumers.get(name);
  }

  @Post('consumers')
  @Roles('ops')
  create(@Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.consumers.create(this.schemas.validate<ConsumerInput>('consumer', body), actor);
  }

  @Patch('consumers/:name')
  @Roles('ops')
  update(@Param('name') name: string, @Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.consumers.update(name, this.schemas.validate<Partial<ConsumerInput>>('consumer', body, 'patch'), actor);
  }

  @Post('consumers/:name/token')
  @Roles('ops')
  rotate(@Param('name') name: string, @CurrentPrincipal() actor: Principal) {
    return this.consumers.rotateToken(name, actor);
  }

  @Delete('consumers/:name')
  @Roles('ops')
  @HttpCode(204)
  remove(@Param('name') name: string, @CurrentPrincipal() actor: Principal) {
    return this.consumers.remove(name, actor);
  }

  /** Break-glass for direct care: time-limited, reasoned, ops only; every use is flagged in the query audit. */
  @Post('consumers/:name/break-glass')
  @Roles('ops')
  grantBreakGlass(@Param('name') name: string, @Body() body: unknown, @CurrentPrincipal() actor: Principal) {
    return this.breakGlass.grant(name, this.schemas.validate<BreakGlassInput>('break-glass', body), actor);
  }

  @Get('consumers/:name/break-glass') @Roles('ops') listBreakGlass(@Param('name') name: string, @QueryParams({}) _query: object) {
    return this.breakGlass.list(name);
  }

  @Delete('consumers/:name/break-glass/:id')
  @Roles('ops')
  revokeBreakGlass(@Param('name') name: string, @Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() actor: Principal) {
    return this.breakGlass.revoke(name, id, actor);
  }

  /** Every consumer with a differential-privacy budget and what each of its accounts has spent (ε), for the console. */
  @Get('budgets')
  @Roles('ops')
  async allBudgets(@QueryParams({}) _query: object) {
    const withBudget = (await this.consumers.list()).filter((c) => c.budget !== null);
    return Promise.all(
      withBudget.map(async (c) => ({
        consumer: c.name,
        budgetEpsilon: c.budget!.epsilon,
        period: c.budget!.period,
        accounts: (await this.budgets.accounts(c.id, undefined, 0)).map((a) => ({
          project: a.project,
          periodStart: a.periodStart,
          periodEnd: a.periodEnd,
          spent: a.epsilon.spent,
          reserved: a.epsilon.reserved,
          remaining: a.epsilon.remaining,
        })),
      })),
    );
  }

  /** The consumer's privacy-budget accounts (connector-spec/api/budget.schema.json). */
  @Get('consumers/:name/budget')
  @Roles('ops')
  async budget(
    @Param('name') name: string,
    @QueryParams({ project: { kind: 'text' }, entries: { kind: 'integer', min: 0, max: 1000, default: 20 } }) query: { project?: string; entries: number },
  ) {
    const consumer = await this.consumers.get(name);
    return { consumer: consumer.name, accounts: await this.budgets.accounts(consumer.id, query.project, query.entries) };
  }
}
