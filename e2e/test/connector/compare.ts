// Result comparison across engines: values are normalised by the Trino column type (timestamps to epoch
// millis, doubles compared to 1e-9 relative, bigint/numeric to numbers), then rows are compared as
// multisets, or as sequences when the query orders them totally.
export type Cell = string | number | boolean | null | Cell[];

export interface CompareOptions {
  /** The query has an ORDER BY giving a total order: compare row by row. */
  ordered?: boolean;
  /** Array values are sets for this query (their order is not part of the answer): sort them. */
  unorderedArrays?: boolean;
}

const RELATIVE_TOLERANCE = 1e-9;

/** Trino renders `timestamp(3) with time zone` as `2020-01-01 00:00:00.000 UTC`. */
function epochMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const text = String(value);
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) (UTC|Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw new Error(`not a timestamp with time zone: ${text}`);
  const zone = m[3] === 'UTC' || m[3] === 'Z' ? 'Z' : m[3];
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) throw new Error(`not a timestamp with time zone: ${text}`);
  return ms;
}

export function normaliseValue(value: unknown, type: string, options: CompareOptions = {}): Cell {
  if (value === null || value === undefined) return null;
  const arrayOf = /^array\((.*)\)$/.exec(type);
  if (arrayOf) {
    if (!Array.isArray(value)) throw new Error(`expected an array for ${type}, got ${JSON.stringify(value)}`);
    const items = value.map((v) => normaliseValue(v, arrayOf[1] ?? 'varchar', options));
    // Collection columns here are sets (security labels): servers may reorder meta.security.
    return options.unorderedArrays !== false ? items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)) : items;
  }
  if (type.startsWith('timestamp')) return epochMillis(value);
  if (type === 'date') return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
  if (['bigint', 'integer', 'smallint', 'tinyint', 'double', 'real'].includes(type) || type.startsWith('decimal')) {
    const n = typeof value === 'number' ? value : Number(value);
    if (Number.isNaN(n)) throw new Error(`expected a number for ${type}, got ${JSON.stringify(value)}`);
    return n;
  }
  if (type === 'boolean') return Boolean(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function normaliseRows(rows: unknown[][], types: string[], options: CompareOptions = {}): Cell[][] {
  return rows.map((row) => {
    if (row.length !== types.length) throw new Error(`row has ${row.length} values for ${types.length} columns`);
    return row.map((v, i) => normaliseValue(v, types[i] ?? 'varchar', options));
  });
}

/** A key that equal rows share; doubles rounded coarsely so near-equal sums usually meet here already. */
function key(cell: Cell): string {
  return JSON.stringify(cell, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(8)) : v));
}

function closeEnough(a: Cell, b: Cell): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => closeEnough(x, b[i] ?? null));
  return a === b;
}

function rowsEqual(a: Cell[], b: Cell[]): boolean {
  return a.length === b.length && a.every((x, i) => closeEnough(x, b[i] ?? null));
}

export interface Difference {
  /** Rows only the actual side has (multiset difference), or the first differing positions if ordered. */
  onlyActual: Cell[][];
  onlyExpected: Cell[][];
  actualCount: number;
  expectedCount: number;
}

/** Undefined when equal; otherwise what differs (at most `limit` rows each way). */
export function difference(actual: Cell[][], expected: Cell[][], options: CompareOptions = {}, limit = 5): Difference | undefined {
  const summary = (onlyActual: Cell[][], onlyExpected: Cell[][]): Difference => ({
    onlyActual: onlyActual.slice(0, limit),
    onlyExpected: onlyExpected.slice(0, limit),
    actualCount: actual.length,
    expectedCount: expected.length,
  });
  if (options.ordered) {
    const firstDiff = actual.findIndex((row, i) => !expected[i] || !rowsEqual(row, expected[i]));
    if (firstDiff < 0 && actual.length === expected.length) return undefined;
    const from = firstDiff < 0 ? Math.min(actual.length, expected.length) : firstDiff;
    return summary(actual.slice(from), expected.slice(from));
  }
  // Multiset: bucket by key; rows left over on both sides get a tolerant pairwise second chance.
  const buckets = new Map<string, Cell[][]>();
  for (const row of expected) {
    const k = key(row);
    buckets.set(k, [...(buckets.get(k) ?? []), row]);
  }
  const unmatched: Cell[][] = [];
  for (const row of actual) {
    const bucket = buckets.get(key(row));
    const i = bucket ? bucket.findIndex((e) => rowsEqual(row, e)) : -1;
    if (bucket && i >= 0) bucket.splice(i, 1);
    else unmatched.push(row);
  }
  const leftover = [...buckets.values()].flat();
  const onlyActual = unmatched.filter((row) => {
    const i = leftover.findIndex((e) => rowsEqual(row, e));
    if (i < 0) return true;
    leftover.splice(i, 1);
    return false;
  });
  return onlyActual.length === 0 && leftover.length === 0 ? undefined : summary(onlyActual, leftover);
}

/** Every row of `part` occurs in `whole` (as multisets): what a LIMIT without ORDER BY may return. */
export function isSubMultiset(part: Cell[][], whole: Cell[][]): boolean {
  const remaining = [...whole];
  return part.every((row) => {
    const i = remaining.findIndex((e) => rowsEqual(row, e));
    if (i < 0) return false;
    remaining.splice(i, 1);
    return true;
  });
}

export function describeDifference(d: Difference, actualName: string, expectedName: string): string {
  const show = (rows: Cell[][]): string => rows.map((r) => `    ${JSON.stringify(r)}`).join('\n') || '    (none)';
  return [
    `${actualName} returned ${d.actualCount} rows, ${expectedName} ${d.expectedCount}.`,
    `  only in ${actualName}:`,
    show(d.onlyActual),
    `  only in ${expectedName}:`,
    show(d.onlyExpected),
  ].join('\n');
}
