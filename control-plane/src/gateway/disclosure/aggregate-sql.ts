// The SQL Trino runs for an aggregate-only query: exact per-group measurements over rows that are already
// in policy form, bounded per patient. Pure. Two steps:
// 1. rowsQuery: the analyst's FROM and WHERE with one row per contributing row: the patient (pseudonym,
//    the same person at every trust), the group keys and the aggregated values. The gateway's statement
//    rewriter turns its table names into policy forms like any other query.
// 2. measurementsQuery: around the rewritten rows, keeps at most `maxRowsPerPatient` rows per patient
//    across all trusts (chosen at random, SmartNoise's reservoir step), clamps each value to its bounds and
//    puts it on an integer grid, and sums per group. Noise is added by the gateway once, to these totals.

import type { NumericBounds } from '../../privacy/disclosure-policy';
import { quoteString } from '../sql/sql-text';
import type { AggregateQuery } from './aggregate-query';
import { icd10ChapterSql, type KeyDomain } from './public-keys';

export const PATIENT = 'dp_patient';
const key = (i: number): string => `dp_key_${i}`;
const value = (i: number): string => `dp_value_${i}`;

/** The measured columns of the measurements query, in this order after the keys. */
export interface MeasurementColumns {
  rows: string;
  patients: string;
  /** Per aggregate with a value: count of non-null values, and the sum in grid units (or exact, unbounded). */
  values: { count: string; sum?: string }[];
}

/** The grid (resolution) clamped values are rounded to, so sums are integers the exact samplers can noise. */
export function gridOf(bounds: NumericBounds): number {
  // About a thousand steps across the range, a power of ten so values stay readable.
  return 10 ** Math.floor(Math.log10((bounds.upper - bounds.lower) / 1000));
}

/** The centre AVG's values are summed around (release.ts adds it back). */
export function middleOf(bounds: NumericBounds): number {
  return (bounds.lower + bounds.upper) / 2;
}

export function rowsQuery(q: AggregateQuery): string {
  const select = [`${q.patientSql} AS ${PATIENT}`];
  q.keys.forEach((k, i) => {
    select.push(`${k.columnSql} AS ${key(i)}`);
  });
  q.aggregates.forEach((a, i) => {
    // try(): a value that fails to compute is NULL (not counted), never an error that would reveal it.
    if (a.argument !== undefined) select.push(`try(${a.argument}) AS ${value(i)}`);
  });
  return `SELECT ${select.join(', ')} FROM ${q.fromSql}${q.whereSql !== undefined ? ` WHERE ${q.whereSql}` : ''}`;
}

export interface MeasurementOptions {
  /** Bounded (differential privacy) or exact (small-number suppression). */
  bounded: { maxRowsPerPatient: number } | undefined;
  domains: KeyDomain[];
}

export function measurementsQuery(q: AggregateQuery, rewrittenRows: string, options: MeasurementOptions): { sql: string; columns: MeasurementColumns } {
  const keys = q.keys.map((k, i) => (k.transform === 'icd10-chapter' ? icd10ChapterSql(key(i)) : key(i)));
  const select = keys.map((k, i) => `${k} AS ${key(i)}`);
  const columns: MeasurementColumns = { rows: 'dp_rows', patients: 'dp_patients', values: [] };
  select.push(`count(*) AS dp_rows`, `count(DISTINCT ${PATIENT}) AS dp_patients`);
  q.aggregates.forEach((a, i) => {
    if (a.argument === undefined) {
      columns.values.push({ count: '' });
      return;
    }
    const count = `dp_count_${i}`;
    select.push(`count(${value(i)}) AS ${count}`);
    let sum: string | undefined;
    if (a.kind === 'sum' || a.kind === 'avg') {
      sum = `dp_sum_${i}`;
      const v = `try_cast(${value(i)} AS double)`;
      if (!options.bounded) select.push(`sum(${v}) AS ${sum}`);
      else {
        const b = a.bounds!;
        const clamped = `least(greatest(${v}, ${b.lower}), ${b.upper})`;
        // AVG sums values centred on the middle of the bounds (its mean is middle + sum / count), which halves
        // what one row can move the sum, and so the noise; SUM sums them as they are.
        const shifted = a.kind === 'avg' ? `(${clamped} - (${middleOf(b)}))` : clamped;
        select.push(`sum(CAST(round(${shifted} / ${gridOf(b)}) AS bigint)) AS ${sum}`);
      }
    }
    columns.values.push({ count, sum });
  });
  const where: string[] = [`${PATIENT} IS NOT NULL`];
  if (options.bounded) where.push(`dp_rank <= ${options.bounded.maxRowsPerPatient}`);
  // Rows outside a public key set would make groups nobody can vouch for: they are left out.
  options.domains.forEach((d, i) => {
    if (d.kind !== 'public') return;
    const listed = `${keys[i]} IN (${d.values.map(quoteString).join(', ')})`;
    where.push(d.nullable ? `(${keys[i]} IS NULL OR ${listed})` : listed);
  });
  const ranked = options.bounded
    ? `SELECT dp_rows.*, row_number() OVER (PARTITION BY ${PATIENT} ORDER BY random()) AS dp_rank FROM dp_rows`
    : 'SELECT * FROM dp_rows';
  const sql =
    `WITH dp_rows AS (${rewrittenRows}), dp_ranked AS (${ranked}) ` +
    `SELECT ${select.join(', ')} FROM dp_ranked WHERE ${where.join(' AND ')}` +
    (keys.length ? ` GROUP BY ${keys.join(', ')}` : '');
  return { sql, columns };
}
