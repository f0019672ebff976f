import { Controller, Get, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '../auth/roles';
import { openApiDocument } from './openapi';
import { SchemaValidator } from './schema-validator';

@Controller('api')
export class SystemController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(SchemaValidator) private readonly schemas: SchemaValidator,
  ) {}

  @Get('openapi.json')
  @Public()
  openapi() {
    return openApiDocument(this.schemas);
  }

  /** Ready when the registry answers (the mesh runtime waits on this). */
  @Get('v1/health')
  @Public()
  async health() {
    await this.db.query('select 1');
    return { status: 'ok' };
  }
}
