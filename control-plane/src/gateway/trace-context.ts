// W3C Trace Context (https://www.w3.org/TR/trace-context/) as the gateway uses it: one trace id per analyst
// statement, kept from a valid incoming `traceparent` so a caller's own tracing joins up, else random.
// Trino carries it as the statement's trace token, and the fhir connector puts it on every FHIR request. Pure.
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** 16 lower-case hex digits, not all zero: the caller's span (incoming) or the gateway's (outgoing). */
  spanId: string;
  sampled: boolean;
}

const FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * The trace context of a `traceparent` header, or undefined when it is absent or malformed: upper-case hex,
 * all-zero ids, version ff, a version-00 header with anything after the flags, or a repeated header (Node joins
 * repeats with a comma). Later versions are read by their version-00 prefix, as the specification asks.
 */
export function parseTraceparent(header: string | string[] | undefined): TraceContext | undefined {
  if (typeof header !== 'string') return undefined;
  const value = header.trim();
  const m = FIELDS.exec(value);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff') return undefined;
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value) && !/^0+$/.test(value);
}

/** The statement's trace: the caller's trace id when its header is valid, a fresh one otherwise; always a new gateway span. */
export function statementTrace(incoming: string | string[] | undefined): TraceContext {
  const parent = parseTraceparent(incoming);
  return { traceId: parent?.traceId ?? randomHex(16), spanId: randomHex(8), sampled: true };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? '01' : '00'}`;
}

/** Random lower-case hex of `bytes` bytes, never all zero (which W3C reserves as invalid). */
function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}
