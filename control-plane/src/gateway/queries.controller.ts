import { BadRequestException, Controller, Get, Inject } from '@nestjs/common';
import { QueryParams } from '../api/query-params';
import { printable } from '../api/request-checks';
import { Roles } from '../auth/roles';
import { QUERY_OUTCOMES, QueryHistory, QueryHistoryOutcome } from './query-history';

const QUERIES_QUERY = { limit: { kind: 'integer', min: 1, max: 500, default: 50 }, user: { kind: 'text' }, outcome: { kind: 'text' } } as const;

/** Recent analyst statements through the gateway, from the audit log: ops only (they hold analysts' SQL). */
@Controller('api/v1/queries')
@Roles('ops')
export class QueriesController {
  constructor(@Inject(QueryHistory) private readonly history: QueryHistory) {}

  @Get()
  list(@QueryParams(QUERIES_QUERY) query: { limit: number; user?: string; outcome?: string }) {
    if (query.outcome !== undefined && !QUERY_OUTCOMES.includes(query.outcome as QueryHistoryOutcome)) {
      throw new BadRequestException(`query parameter 'outcome' must be one of ${QUERY_OUTCOMES.join(', ')}; got '${printable(query.outcome, 40)}'`);
    }
    return this.history.recent({ limit: query.limit, user: query.user, outcome: query.outcome as QueryHistoryOutcome | undefined });
  }
}
