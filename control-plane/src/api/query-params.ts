// Query parameters of a route, declared with their types: an unknown name (`entity[]`), a repeated one or a
// value out of range is a 400 naming the parameter, never a silently ignored filter or a database error.
import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Request } from 'express';
import { printable } from './request-checks';

export type QueryParamSpec = { kind: 'text' } | { kind: 'integer'; min: number; max: number; default: number };
export type QuerySpec = Record<string, QueryParamSpec>;
export type ParsedQuery<S extends QuerySpec> = { [K in keyof S]: S[K] extends { kind: 'integer' } ? number : string | undefined };

export function parseQuery<S extends QuerySpec>(query: Record<string, unknown>, spec: S): ParsedQuery<S> {
  const allowed = Object.keys(spec);
  const out: Record<string, string | number | undefined> = {};
  for (const name of Object.keys(query)) {
    if (!Object.hasOwn(spec, name)) {
      throw new BadRequestException(
        `unknown query parameter '${printable(name)}'; this route takes ${allowed.length ? allowed.map((a) => `'${a}'`).join(', ') : 'none'}, each at most once`,
      );
    }
  }
  for (const [name, rule] of Object.entries(spec)) {
    const raw = Object.hasOwn(query, name) ? query[name] : undefined;
    if (raw !== undefined && typeof raw !== 'string') throw new BadRequestException(`query parameter '${name}' must be given once, as a single value`);
    if (rule.kind === 'text') {
      out[name] = raw === undefined || raw === '' ? undefined : raw;
      continue;
    }
    if (raw === undefined || raw === '') {
      out[name] = rule.default;
      continue;
    }
    const value = /^-?[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < rule.min || value > rule.max) {
      throw new BadRequestException(`query parameter '${name}' must be an integer from ${rule.min} to ${rule.max}; got '${printable(raw, 40)}'`);
    }
    out[name] = value;
  }
  return out as ParsedQuery<S>;
}

/** The route's query parameters, parsed by `spec` (see parseQuery). */
export const QueryParams = createParamDecorator((spec: QuerySpec, context: ExecutionContext) =>
  parseQuery(context.switchToHttp().getRequest<Request>().query as Record<string, unknown>, spec),
);
