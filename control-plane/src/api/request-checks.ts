// Checks every request passes before any handler sees it, so hostile input gets a 400 that names the
// problem instead of a 500 from deep inside: NUL characters (PostgreSQL text cannot hold them), JSON
// nested deeper than any API body needs (recursive validation would exhaust the stack), and repeated
// query parameters (a filter given twice must not silently match nothing or everything).
import { BadRequestException } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';

/** Deeper than any publication needs (nested selects are a handful of levels), far below the stack limit. */
export const MAX_JSON_DEPTH = 64;

export interface RequestProblem {
  path: string;
  message: string;
}

/**
 * The first problem of a parsed JSON body: a string or key with a NUL character, or nesting deeper than
 * `maxDepth`. Iterative, so a body nested 100,000 levels cannot overflow the stack here.
 */
export function jsonProblem(body: unknown, maxDepth = MAX_JSON_DEPTH): RequestProblem | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000'))
        return {
          path: printable(path) || '(body)',
          message: `${printable(path) || 'the body'} contains a NUL character (\\u0000), which text fields cannot hold`,
        };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxDepth)
      return {
        path: path || '(body)',
        message: `the JSON body is nested more than ${maxDepth} levels deep (at ${pointerPreview(path)}); at most ${maxDepth} are allowed`,
      };
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [key, child] of entries) {
      const childPath = `${path}/${escapePointer(key)}`;
      if (key.includes('\u0000'))
        return { path: printable(childPath), message: `a field name at ${printable(path) || 'the top level'} contains a NUL character (\\u0000)` };
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

/** NUL in the URL path (`%00` after decoding) cannot name anything in the registry. */
export function urlPathProblem(originalUrl: string): RequestProblem | undefined {
  const rawPath = originalUrl.split('?')[0] ?? '';
  if (/%00/.test(rawPath) || rawPath.includes('\u0000')) {
    return {
      path: printable(safeDecode(rawPath)),
      message: `the URL path ${printable(safeDecode(rawPath))} contains a NUL character (%00), which no name in the registry can contain`,
    };
  }
  return undefined;
}

/**
 * Query parameters under Express's simple parser are strings, or arrays when a name repeats. Every route
 * takes each parameter at most once and never with NUL.
 */
export function queryProblem(query: Record<string, unknown>): RequestProblem | undefined {
  for (const [name, value] of Object.entries(query)) {
    if (name.includes('\u0000')) return { path: printable(name), message: `a query parameter name contains a NUL character (%00)` };
    if (Array.isArray(value)) return { path: name, message: `query parameter '${printable(name)}' is given ${value.length} times; give it once` };
    if (typeof value !== 'string') return { path: name, message: `query parameter '${printable(name)}' must be a single value` };
    if (value.includes('\u0000')) return { path: name, message: `query parameter '${printable(name)}' contains a NUL character (%00)` };
  }
  return undefined;
}

/** Express middleware, after the JSON body parser: refuses the request with 400 on the first problem. */
export function refuseMalformedRequests(request: Request, _response: Response, next: NextFunction): void {
  const problem =
    urlPathProblem(request.originalUrl) ??
    queryProblem(request.query as Record<string, unknown>) ??
    (request.body !== undefined ? jsonProblem(request.body) : undefined);
  next(problem ? new BadRequestException({ message: problem.message, problems: [problem] }) : undefined);
}

/** Control characters shown as escapes (and long values cut), so a message or log line stays one readable line. */
export function printable(text: string, max = 200): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointerPreview(path: string): string {
  return path.length > 60 ? `${path.slice(0, 60)}…` : path;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
