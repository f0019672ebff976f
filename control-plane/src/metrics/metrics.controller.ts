import { Controller, Get, Inject, Res } from '@nestjs/common';
import { Response } from 'express';
import { QueryParams } from '../api/query-params';
import { Roles } from '../auth/roles';
import { MeshMetrics } from './mesh-metrics';

/** Prometheus scrapes here (not under /api/v1: the path scrapers expect), with an ops token. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(MeshMetrics) private readonly metrics: MeshMetrics) {}

  @Get()
  @Roles('ops')
  async scrape(@QueryParams({}) _query: object, @Res() res: Response): Promise<void> {
    const body = await this.metrics.exposition();
    // Written as the registry names it: Express's send() would rewrite the type's parameters.
    res.status(200).setHeader('content-type', this.metrics.contentType);
    res.end(body);
  }
}
