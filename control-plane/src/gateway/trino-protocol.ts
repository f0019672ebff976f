// The parts of Trino's client protocol the gateway speaks itself: which headers pass in each direction,
// and answers in Trino's JSON shape for what the gateway refuses (so the CLI and JDBC show the message).
// Pure.
import { randomBytes } from 'node:crypto';

/** Client headers forwarded as sent. Identity, roles, path, spooling and credentials are never among them. */
const FORWARDED_REQUEST_HEADERS = new Set([
  'x-trino-source',
  'x-trino-catalog',
  'x-trino-schema',
  'x-trino-time-zone',
  'x-trino-language',
  'x-trino-trace-token',
  'x-trino-transaction-id',
  'x-trino-client-tags',
  'x-trino-client-info',
  'x-trino-client-capabilities',
  'x-trino-resource-estimate',
  'user-agent',
  'content-type',
]);

/** Trino's answers that carry session state back to the client. Added-Prepare is mapped by the caller. */
const FORWARDED_RESPONSE_HEADERS = new Set([
  'content-type',
  'x-trino-set-catalog',
  'x-trino-set-schema',
  'x-trino-set-session',
  'x-trino-clear-session',
  'x-trino-deallocated-prepare',
  'x-trino-started-transaction-id',
  'x-trino-clear-transaction-id',
]);

export type Headers = Record<string, string | string[] | undefined>;

export function forwardedRequestHeaders(incoming: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || !FORWARDED_REQUEST_HEADERS.has(name.toLowerCase())) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function forwardedResponseHeaders(incoming: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && FORWARDED_RESPONSE_HEADERS.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/** All values of a possibly repeated header. */
export function headerValues(headers: Headers, name: string): string[] {
  const value = headers[name.toLowerCase()];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * `name=value` items separated by commas, values URL-encoded (X-Trino-Session, X-Trino-Prepared-Statement).
 * Trino encodes with URLEncoder (spaces as '+').
 */
export function parseEncodedPairs(values: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const header of values) {
    for (const item of header.split(',')) {
      const trimmed = item.trim();
      const eq = trimmed.indexOf('=');
      if (eq <= 0) continue;
      out.push([trimmed.slice(0, eq).trim(), decodeFormValue(trimmed.slice(eq + 1).trim())]);
    }
  }
  return out;
}

export function decodeFormValue(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

export function encodeFormValue(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

export interface ProtocolError {
  message: string;
  errorName: string;
  errorCode: number;
  errorType: 'USER_ERROR' | 'INTERNAL_ERROR' | 'EXTERNAL';
  line?: number;
  column?: number;
}

/** Trino's error codes for the names the gateway uses (io.trino.spi.StandardErrorCode). */
export const ERROR_CODES: Record<string, number> = {
  SYNTAX_ERROR: 1,
  NOT_SUPPORTED: 13,
  PERMISSION_DENIED: 4,
  GENERIC_INTERNAL_ERROR: 65536,
  QUERY_REJECTED: 131078,
};

export function protocolError(message: string, errorName: string, position?: { line?: number; column?: number }): ProtocolError {
  const code = ERROR_CODES[errorName] ?? ERROR_CODES.GENERIC_INTERNAL_ERROR!;
  return { message, errorName, errorCode: code, errorType: code >= 65536 ? 'INTERNAL_ERROR' : 'USER_ERROR', ...position };
}

/** A query id in Trino's format, for statements the gateway answers itself. */
export function gatewayQueryId(now = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const day = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}`;
  const time = `${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${day}_${time}_gateway_${randomBytes(4).toString('hex')}`;
}

/** A finished, failed QueryResults as Trino sends it: clients print `Query <id> failed: <message>`. */
export function failedQueryResults(id: string, infoUri: string, error: ProtocolError): Record<string, unknown> {
  return {
    id,
    infoUri,
    stats: {
      state: 'FAILED',
      queued: false,
      scheduled: false,
      nodes: 0,
      totalSplits: 0,
      queuedSplits: 0,
      runningSplits: 0,
      completedSplits: 0,
      cpuTimeMillis: 0,
      wallTimeMillis: 0,
      queuedTimeMillis: 0,
      elapsedTimeMillis: 0,
      processedRows: 0,
      processedBytes: 0,
      physicalInputBytes: 0,
      physicalWrittenBytes: 0,
      peakMemoryBytes: 0,
      spilledBytes: 0,
    },
    error: {
      message: error.message,
      errorCode: error.errorCode,
      errorName: error.errorName,
      errorType: error.errorType,
      ...(error.line !== undefined ? { errorLocation: { lineNumber: error.line, columnNumber: error.column ?? 1 } } : {}),
      failureInfo: { type: 'io.trino.gateway.Refused', message: error.message, suppressed: [], stack: [] },
    },
    warnings: [],
  };
}

/** A column as Trino describes it; clients (JDBC) read typeSignature, so Trino's own is passed on where known. */
export interface ProtocolColumn {
  name: string;
  type: string;
  typeSignature?: unknown;
}

/**
 * A finished QueryResults holding the whole answer, for results the gateway computes itself (disclosure
 * control): no nextUri, so clients read the rows and stop. Warnings are printed by the Trino CLI.
 */
export function finishedQueryResults(id: string, infoUri: string, columns: ProtocolColumn[], data: unknown[][], warnings: string[]): string {
  const failed = failedQueryResults(id, infoUri, protocolError('', 'GENERIC_INTERNAL_ERROR'));
  const body = {
    id,
    infoUri,
    columns: columns.map((c) => ({ name: c.name, type: c.type, typeSignature: c.typeSignature ?? { rawType: c.type, arguments: [] } })),
    data: DATA_PLACEHOLDER,
    stats: { ...(failed.stats as Record<string, unknown>), state: 'FINISHED', processedRows: data.length, completedSplits: 1, totalSplits: 1 },
    // io.trino.spi.StandardWarningCode has no code for this; 0x0100_0000 is outside Trino's own ranges.
    warnings: warnings.map((message) => ({ warningCode: { code: 16_777_216, name: 'MESH_DISCLOSURE_CONTROL' }, message })),
  };
  const rows = data.map((row) => `[${row.map((value, i) => encodeValue(value, columns[i]?.type ?? '')).join(',')}]`).join(',');
  return JSON.stringify(body).replace(`"${DATA_PLACEHOLDER}"`, `[${rows}]`);
}

const DATA_PLACEHOLDER = '$mesh-data$';

/**
 * One value as Trino's JSON encodes it: clients decode by column type, and their double decoder takes a
 * floating-point token only (72.0, not 72), or "NaN" / "Infinity" as strings.
 */
function encodeValue(value: unknown, type: string): string {
  if (value === null || value === undefined) return 'null';
  if ((type === 'double' || type === 'real') && typeof value === 'number') {
    if (Number.isNaN(value)) return '"NaN"';
    if (!Number.isFinite(value)) return value > 0 ? '"Infinity"' : '"-Infinity"';
    return Number.isInteger(value) ? value.toFixed(1) : String(value);
  }
  return JSON.stringify(value);
}
