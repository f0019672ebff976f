import { Controller, Get, Inject } from '@nestjs/common';
import { QueryParams } from '../api/query-params';
import { Roles } from '../auth/roles';
import { AuditService } from './audit.service';

const AUDIT_QUERY = { entity: { kind: 'text' }, entityId: { kind: 'text' }, limit: { kind: 'integer', min: 1, max: 1000, default: 100 } } as const;

@Controller('api/v1/audit')
@Roles('ops')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get()
  list(@QueryParams(AUDIT_QUERY) query: { entity?: string; entityId?: string; limit: number }) {
    return this.audit.list(query);
  }

  @Get('verify')
  verify() {
    return this.audit.verify();
  }
}
