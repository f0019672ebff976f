import { Controller, Get, Inject, Query } from '@nestjs/common';
import { Roles } from '../auth/roles';
import { AuditService } from './audit.service';

@Controller('api/v1/audit')
@Roles('ops')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get()
  list(@Query('entity') entity?: string, @Query('entityId') entityId?: string, @Query('limit') limit?: string) {
    return this.audit.list({ entity, entityId, limit: Math.min(Number(limit ?? 100) || 100, 1000) });
  }

  @Get('verify')
  verify() { return this.audit.verify(); }
}
