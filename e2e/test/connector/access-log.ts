// HAPI's access log (.mesh/logs/fhir-access.log, one line per request, never rotated) as evidence of
// which FHIR searches the connector sent: remember the file's length before a query, read what was
// appended after it. Other clients of the same servers can add lines too; callers filter by path.
// Search values and resource ids are logged as keyed hashes (e2e/fhir-server AccessLogRedactor):
// compare them with redacted(value).
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSecret, SECRETS } from '../../runtime/secrets';
import { paths } from '../../runtime/topology';

export const ACCESS_LOG = path.join(paths.logs, 'fhir-access.log');

export interface AccessLine {
  /** The whole line as written. */
  raw: string;
  time: string;
  method: string;
  /** Domain slug from /fhir/<domain>/… */
  domain: string;
  /** Resource type searched, or undefined for a `_getpages` continuation (which names none). */
  resourceType?: string;
  /** The raw request target after the domain, e.g. `Condition?code=...`. */
  target: string;
  /** Query parameters, percent-decoded, in order (a parameter may repeat). */
  params: [string, string][];
  status: number;
  bytes: number;
  millis: number;
  /** The request's W3C `traceparent`; undefined when it had none (or a malformed one), or on a line older than the field. */
  traceparent?: string;
  /** The trace id (32 hex digits) of `traceparent`. */
  traceId?: string;
  /** The request's User-Agent as the server logged it (sanitised); the connector's starts with `fhir-mesh-trino/`. */
  userAgent?: string;
}

/** The connector's User-Agent prefix: its requests, as opposed to the control plane's health checks or test clients. */
export const CONNECTOR_USER_AGENT = 'fhir-mesh-trino/';

// The two quoted trailing fields (traceparent, User-Agent) are optional: lines written before they existed still parse.
const LINE = /^(\S+) \S+ "(\w+) \/fhir\/([^/?\s]+)\/?(\S*) HTTP\/[\d.]+" (\d{3}) (\d+|-) (\d+)(?: "([^"]*)" "([^"]*)")?$/;

export function parseAccessLine(line: string): AccessLine | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const target = m[4] ?? '';
  const [pathPart = '', query = ''] = target.split(/\?(.*)/s);
  const params = query
    ? query
        .split('&')
        .filter(Boolean)
        .map((kv): [string, string] => {
          const i = kv.indexOf('=');
          const decode = (s: string): string => {
            try {
              return decodeURIComponent(s.replace(/\+/g, ' '));
            } catch {
              return s;
            }
          };
          return i < 0 ? [decode(kv), ''] : [decode(kv.slice(0, i)), decode(kv.slice(i + 1))];
        })
    : [];
  const resourceType = /^[A-Z][A-Za-z]+/.exec(pathPart)?.[0];
  return {
    raw: line,
    time: m[1] ?? '',
    method: m[2] ?? '',
    domain: m[3] ?? '',
    resourceType,
    target,
    params,
    status: Number(m[5]),
    bytes: m[6] === '-' ? 0 : Number(m[6]),
    millis: Number(m[7]),
    traceparent: m[8] === undefined || m[8] === '-' ? undefined : m[8],
    traceId: m[8] === undefined || m[8] === '-' ? undefined : m[8].split('-')[1],
    userAgent: m[9] === undefined || m[9] === '-' ? undefined : m[9],
  };
}

/** Whether the connector (a Trino node) sent this request. */
export function fromConnector(line: AccessLine): boolean {
  return line.userAgent?.startsWith(CONNECTOR_USER_AGENT) ?? false;
}

export function logLength(): number {
  return fs.existsSync(ACCESS_LOG) ? fs.statSync(ACCESS_LOG).size : 0;
}

/** Lines appended since `offset` (a byte length from logLength()), up to `end` (another such length) or the end of the file. */
export function linesSince(offset: number, end?: number): AccessLine[] {
  const fd = fs.openSync(ACCESS_LOG, 'r');
  try {
    const size = end ?? fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    return buffer
      .toString('utf8')
      .split('\n')
      .map(parseAccessLine)
      .filter((l): l is AccessLine => l !== undefined);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs `action` and returns what it returned plus the access-log lines written meanwhile. */
export async function withAccessLog<T>(action: () => Promise<T>): Promise<{ result: T; lines: AccessLine[] }> {
  const offset = logLength();
  const result = await action();
  // The valve is unbuffered, but a request still in flight when Trino finished would log a moment later.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { result, lines: linesSince(offset) };
}

let accessLogKey: Buffer | undefined;

/**
 * How the access log shows one search value (one element of a comma list, after a comparator prefix
 * such as `ge`): `h:` + 16 hex digits of HMAC-SHA-256 with the server's key over the value's UTF-8 bytes.
 */
export function redacted(value: string): string {
  accessLogKey ??= Buffer.from(readSecret(SECRETS.fhirAccessLogKey), 'hex');
  return `h:${createHmac('sha256', accessLogKey).update(value, 'utf8').digest('hex').slice(0, 16)}`;
}

export function param(line: AccessLine, name: string): string[] {
  return line.params.filter(([k]) => k === name).map(([, v]) => v);
}

/** A search of this type, or a continuation page (`_getpages`), at this domain. */
export function isSearchOrPage(line: AccessLine, domain: string, resourceType: string): boolean {
  return line.domain === domain && (line.resourceType === resourceType || (line.resourceType === undefined && param(line, '_getpages').length > 0));
}
