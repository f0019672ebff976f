// One error shape for every failure: {statusCode, error, message, ...details}. Database constraint
// violations become 409/400 naming the constraint's subject instead of a 500.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { Response } from 'express';
import { QueryFailedError } from 'typeorm';

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('api');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = toResponse(exception);
    if (status >= 500) this.log.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    response.status(status).json({ statusCode: status, error: REASONS[status] ?? 'Error', ...body });
  }
}

function toResponse(exception: unknown): { status: number; body: Record<string, unknown> } {
  if (exception instanceof HttpException) {
    const payload = exception.getResponse();
    const body: Record<string, unknown> = typeof payload === 'string' ? { message: payload } : { ...(payload as Record<string, unknown>) };
    delete body.statusCode;
    delete body.error;
    return { status: exception.getStatus(), body };
  }
  if (exception instanceof QueryFailedError) {
    const driver = exception.driverError as { code?: string; detail?: string; constraint?: string };
    // 23505 unique, 23503 foreign key, 23514 check, 23P01 exclusion
    if (driver.code === '23505') return { status: 409, body: { message: `already exists: ${driver.detail ?? driver.constraint}` } };
    if (driver.code === '23503') return { status: 409, body: { message: `still referenced or missing reference: ${driver.detail ?? driver.constraint}` } };
    if (driver.code === '23514') return { status: 400, body: { message: `violates ${driver.constraint ?? 'a check constraint'}` } };
  }
  return { status: 500, body: { message: 'internal error; see the control plane log' } };
}
