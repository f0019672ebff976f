// One error shape for every failure: {statusCode, error, message, ...details}. Database constraint
// violations become 409/400 naming the constraint's subject instead of a 500; body-parser refusals keep
// their 4xx. Refusals (401, 403, 409, and any 4xx refusal of a write) are audited before the answer goes out.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, Logger } from '@nestjs/common';
import { Request, Response } from 'express';
import { DataSource, QueryFailedError } from 'typeorm';
import { RefusalAudit } from '../audit/refusals';
import { Principal } from '../auth/principal';
import { tokenHash } from '../auth/tokens';
import { Consumer } from '../registry/consumer.entity';
import { printable } from './request-checks';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('api');

  constructor(
    @Inject(RefusalAudit) private readonly refusals: RefusalAudit,
    @Inject(DataSource) private readonly db: DataSource,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const request = host.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = toResponse(exception);
    if (status >= 500) this.log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (isRefusal(request.method, status)) await this.audit(request, status, typeof body.message === 'string' ? body.message : JSON.stringify(body.message));
    response.status(status).json({ statusCode: status, error: REASONS[status] ?? 'Error', ...body });
  }

  /** Who was refused: the authenticated consumer, else the consumer the token names (refused before the guard ran), else anonymous. */
  private async audit(request: Request & { principal?: Principal }, status: number, reason: string): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    let actor = request.principal?.name;
    if (!actor && token && status !== 401) {
      actor = (
        await this.db
          .getRepository(Consumer)
          .findOne({ where: { tokenHash: tokenHash(token) }, select: { name: true } })
          .catch(() => null)
      )?.name;
    }
    const route = (request.route as { path?: unknown } | undefined)?.path;
    await this.refusals.refused({
      actor: actor ?? 'anonymous',
      source: actor ? `consumer:${actor}` : `address:${request.ip ?? request.socket.remoteAddress ?? 'unknown'}`,
      method: request.method,
      route: printable(typeof route === 'string' ? route : request.path),
      status,
      reason: printable(reason, 500),
      // Never the token: a prefix of its hash tells repeated attempts with one token apart.
      ...(!actor ? { tokenSha256Prefix: token ? tokenHash(token).slice(0, 12) : 'none' } : {}),
    });
  }
}

/** 401, 403 and 409 on any request; any other 4xx on a write. Reads of missing things (GET 404) are not refusals. */
export function isRefusal(method: string, status: number): boolean {
  return status === 401 || status === 403 || status === 409 || (status >= 400 && status < 500 && WRITES.has(method.toUpperCase()));
}

function toResponse(exception: unknown): { status: number; body: Record<string, unknown> } {
  if (exception instanceof HttpException) {
    const payload = exception.getResponse();
    const body: Record<string, unknown> = typeof payload === 'string' ? { message: payload } : { ...(payload as Record<string, unknown>) };
    delete body.statusCode;
    delete body.error;
    return { status: exception.getStatus(), body };
  }
  const parser = bodyParserError(exception);
  if (parser) return parser;
  if (exception instanceof QueryFailedError) {
    const driver = exception.driverError as { code?: string; detail?: string; constraint?: string };
    // 23505 unique, 23503 foreign key, 23514 check, 23P01 exclusion
    if (driver.code === '23505') return { status: 409, body: { message: `already exists: ${driver.detail ?? driver.constraint}` } };
    if (driver.code === '23503') return { status: 409, body: { message: `still referenced or missing reference: ${driver.detail ?? driver.constraint}` } };
    if (driver.code === '23514') return { status: 400, body: { message: `violates ${driver.constraint ?? 'a check constraint'}` } };
    // 22021 invalid byte sequence (NUL), 22P05 untranslatable character: request checks catch these first.
    if (driver.code === '22021' || driver.code === '22P05')
      return { status: 400, body: { message: 'a value contains a NUL character or bytes PostgreSQL text cannot hold' } };
  }
  return { status: 500, body: { message: 'internal error; see the control plane log' } };
}

/** body-parser's errors (too large, not JSON, unsupported charset) carry their 4xx status and a type. */
function bodyParserError(exception: unknown): { status: number; body: Record<string, unknown> } | undefined {
  const e = exception as { type?: unknown; status?: unknown; limit?: unknown; length?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object' || typeof e.type !== 'string' || typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  if (e.type === 'entity.too.large') {
    const limit = Number(e.limit);
    const length = Number(e.length);
    return {
      status: 413,
      body: {
        message: `request body${Number.isFinite(length) ? ` of ${length} bytes` : ''} is larger than the limit of ${limit} bytes (${(limit / 1048576).toFixed(0)} MB)`,
        limit,
      },
    };
  }
  if (e.type === 'encoding.unsupported')
    return { status: 415, body: { message: 'compressed request bodies (Content-Encoding) are not accepted: send the JSON uncompressed' } };
  if (e.type === 'entity.parse.failed') return { status: 400, body: { message: `request body is not valid JSON: ${printable(String(e.message), 200)}` } };
  return { status: e.status, body: { message: printable(String(e.message), 200) } };
}
