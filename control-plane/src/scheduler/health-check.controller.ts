import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Roles } from '../auth/roles';
import { Endpoint } from '../registry/endpoint.entity';
import { checkEndpoints } from './jobs';

/** The scheduled endpoint health check, run now (ops, e.g. from the console after fixing an endpoint). */
@Controller('api/v1/endpoints/health-check')
@Roles('ops')
export class HealthCheckController {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Each endpoint's new check, with its domain and address so the answer reads on its own. */
  @Post()
  @HttpCode(200)
  async checkNow() {
    const checks = await checkEndpoints(this.db);
    const endpoints = new Map((await this.db.getRepository(Endpoint).find({ relations: { domain: true } })).map((e) => [e.id, e]));
    return checks.map((c) => ({ ...c, domain: endpoints.get(c.endpointId)?.domain?.odsCode ?? null, baseUrl: endpoints.get(c.endpointId)?.baseUrl ?? null }));
  }
}
