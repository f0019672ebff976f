// From exact per-group measurements (aggregate-sql.ts) to the numbers an aggregate-only consumer is
// given. Pure apart from the random source. Differential privacy (Dwork & Roth; SmartNoise's pipeline):
// - every measured total gets integer noise once, after the cross-trust aggregation (discrete Laplace or
//   discrete Gaussian, exact samplers), calibrated to its sensitivity under contribution bounding;
// - ε (and δ) of the query are split evenly over the measurements (basic composition);
// - groups whose keys are all public are all released, empty ones included; any private key means a group
//   is released only when its noisy patient count reaches τ (partition selection, costs δ);
// - every released number carries a 95% interval for the noise (it says nothing of bounding's bias).
// Small-number suppression (NHS England): exact counts, 1..threshold suppressed with secondary suppression
// across the table, others rounded; means and sums over too few patients suppressed.

import type { DifferentialPrivacyPolicy, NumericBounds, SmallNumbersPolicy } from '../../privacy/disclosure-policy';
import { addNoise, calibrate, halfWidth, type Mechanism, type Noise, partitionThreshold } from '../../privacy/mechanisms';
import { cryptoRandom, type RandomSource } from '../../privacy/random-source';
import { type Cell, roundCount, suppressTable } from '../../privacy/small-numbers';
import type { AggregateQuery } from './aggregate-query';
import { gridOf, type MeasurementColumns, middleOf } from './aggregate-sql';
import type { KeyDomain } from './public-keys';

export interface ResultColumn {
  name: string;
  type: string;
}

export interface ProtectedResult {
  columns: ResultColumn[];
  rows: unknown[][];
  /** Printed by the Trino CLI as warnings: what was done to the numbers. */
  notes: string[];
  epsilon: number;
  delta: number;
  /** For the audit: mechanism, per-measurement noise scales, τ, groups withheld. */
  detail: Record<string, unknown>;
}

/** The exact measurements per group as Trino returned them (keys first, then MeasurementColumns). */
export interface Measured {
  keyTypes: string[];
  rows: Record<string, unknown>[];
}

type Measurement = { column: string; sensitivity: number; label: string };

/** Largest number of groups a query with public keys only may ask for (every combination is released). */
const MAX_PUBLIC_GROUPS = 10_000;

/** ε and δ the query will spend, known before it runs (they are reserved in the budget first). */
export function dpCost(q: AggregateQuery, policy: DifferentialPrivacyPolicy, epsilon: number, domains: KeyDomain[]): { epsilon: number; delta: number } {
  const threshold = domains.some((d) => d.kind === 'private');
  const delta = threshold || policy.mechanism === 'gaussian' ? policy.deltaPerQuery : 0;
  void q;
  return { epsilon, delta };
}

export function releaseWithDifferentialPrivacy(
  q: AggregateQuery,
  policy: DifferentialPrivacyPolicy,
  cost: { epsilon: number; delta: number },
  domains: KeyDomain[],
  columns: MeasurementColumns,
  measured: Measured,
  rng: RandomSource = cryptoRandom,
): ProtectedResult {
  const m = policy.maxRowsPerPatient;
  const threshold = domains.some((d) => d.kind === 'private');
  // Sensitivities: after bounding, one patient adds at most m rows, spread over at most m groups.
  const measurements = new Map<string, Measurement>();
  const need = (column: string, sensitivity: number, label: string): void => void measurements.set(column, { column, sensitivity, label });
  if (threshold) need(columns.patients, q.keys.length ? m : 1, 'patients per group');
  q.aggregates.forEach((a, i) => {
    const c = columns.values[i]!;
    if (a.kind === 'count-rows') need(columns.rows, m, 'rows');
    else if (a.kind === 'count-patients') need(columns.patients, q.keys.length ? m : 1, 'patients per group');
    else need(c.count, m, `values of ${a.argument}`);
    if (c.sum) {
      const b = a.bounds!;
      const grid = gridOf(b);
      const reach = a.kind === 'avg' ? (b.upper - b.lower) / 2 : Math.max(Math.abs(b.lower), Math.abs(b.upper));
      need(c.sum, m * Math.ceil(reach / grid - 1e-9), `sum of ${a.argument} (in steps of ${grid})`);
    }
  });
  const k = measurements.size;
  const thresholdDelta = threshold ? (policy.mechanism === 'gaussian' ? cost.delta / 2 : cost.delta) : 0;
  const gaussianDelta = policy.mechanism === 'gaussian' ? (cost.delta - thresholdDelta) / k : 0;
  const noises = new Map<string, Noise>();
  for (const x of measurements.values()) {
    noises.set(x.column, calibrate({ mechanism: policy.mechanism as Mechanism, epsilon: cost.epsilon / k, delta: gaussianDelta, sensitivity: x.sensitivity }));
  }
  const tau = threshold ? partitionThreshold(noises.get(columns.patients)!, thresholdDelta, q.keys.length ? m : 1) : undefined;

  // Groups: every public combination, or those measured (private keys).
  const groupKey = (row: Record<string, unknown>): string => JSON.stringify(q.keys.map((_, i) => row[`dp_key_${i}`] ?? null));
  const byKey = new Map(measured.rows.map((r) => [groupKey(r), r]));
  let groups: Record<string, unknown>[];
  if (q.keys.length && !threshold) {
    // NULL is one more public value: listed always, so whether a NULL group appears never depends on a patient.
    let combos: unknown[][] = [[]];
    for (const d of domains) combos = combos.flatMap((c) => publicValues(d).map((v) => [...c, v]));
    if (combos.length > MAX_PUBLIC_GROUPS) throw new Error(`the public key sets make ${combos.length} groups; at most ${MAX_PUBLIC_GROUPS} can be released`);
    groups = combos.map((c) => byKey.get(JSON.stringify(c)) ?? Object.fromEntries(c.map((v, i) => [`dp_key_${i}`, v])));
  } else groups = q.keys.length ? measured.rows : [measured.rows[0] ?? {}];

  let withheld = 0;
  const rows: unknown[][] = [];
  for (const g of groups) {
    const noisy = new Map<string, bigint>();
    for (const [column, noise] of noises) noisy.set(column, addNoise(BigInt(Math.round(Number(g[column] ?? 0))), noise, rng));
    if (tau !== undefined && Number(noisy.get(columns.patients)!) < tau) {
      withheld++;
      continue;
    }
    const out: unknown[] = [];
    for (const o of q.outputs) {
      if (o.kind === 'key') out.push(g[`dp_key_${o.key}`] ?? null);
      else out.push(...aggregateCells(q, o.aggregate, columns, noisy, noises));
    }
    rows.push(out);
  }

  const resultColumns: ResultColumn[] = [];
  for (const o of q.outputs) {
    if (o.kind === 'key') resultColumns.push({ name: o.name, type: measured.keyTypes[o.key] ?? 'varchar' });
    else {
      const type = ['sum', 'avg'].includes(q.aggregates[o.aggregate]!.kind) ? 'double' : 'bigint';
      resultColumns.push({ name: o.name, type }, { name: `${o.name}_ci95_low`, type }, { name: `${o.name}_ci95_high`, type });
    }
  }
  const scales = [...measurements.values()].map((x) => `${x.label}: ${noiseText(noises.get(x.column)!, x)}`);
  const notes = [
    `differential privacy: ε=${round(cost.epsilon)}${cost.delta ? `, δ=${cost.delta}` : ''} spent; ${policy.mechanism === 'laplace' ? 'discrete Laplace' : 'discrete Gaussian'} noise ` +
      `(${scales.join('; ')}); each patient contributes at most ${m} row${m > 1 ? 's' : ''} across all trusts; <column>_ci95_low/_high bound the noise at 95%`,
    ...q.aggregates.filter((a) => a.bounds).map((a) => `${a.kind}(${a.argument}) clamped to [${a.bounds!.lower}, ${a.bounds!.upper}] (${a.bounds!.source})`),
  ];
  // How many groups were withheld is not said: it counts the key values present in the data, noiselessly
  // (one patient with a new code would change it). The audit, for ops, keeps it.
  if (tau !== undefined) notes.push(`groups with fewer than ${tau} patients after noise are not released`);
  return {
    columns: resultColumns,
    rows: order(rows, q, resultColumns),
    notes,
    epsilon: cost.epsilon,
    delta: cost.delta,
    detail: {
      mechanism: policy.mechanism,
      maxRowsPerPatient: m,
      measurements: [...measurements.values()].map((x) => ({ what: x.label, sensitivity: x.sensitivity, scale: noises.get(x.column)!.scale })),
      threshold: tau,
      groupsReleased: rows.length,
      groupsWithheld: withheld,
    },
  };
}

/** Every value of a public key set, NULL included where the column can be NULL. */
function publicValues(d: KeyDomain): (string | null)[] {
  return d.kind === 'public' ? [...d.values, ...(d.nullable ? [null] : [])] : [];
}

/** One aggregate's value and its 95% interval. */
function aggregateCells(q: AggregateQuery, index: number, columns: MeasurementColumns, noisy: Map<string, bigint>, noises: Map<string, Noise>): unknown[] {
  const a = q.aggregates[index]!;
  const c = columns.values[index]!;
  const countColumn = a.kind === 'count-rows' ? columns.rows : a.kind === 'count-patients' ? columns.patients : c.count;
  if (a.kind !== 'sum' && a.kind !== 'avg') {
    const v = Number(noisy.get(countColumn)!);
    const t = halfWidth(noises.get(countColumn)!, 0.95);
    // Counts below zero are noise: clamping is post-processing and costs nothing. The interval keeps its width
    // above the clamped value (a superset of [v - t, v + t] within counts), never collapsing to 0–0.
    return [Math.max(0, v), Math.max(0, v - t), Math.max(0, v) + t];
  }
  const b = a.bounds!;
  const grid = gridOf(b);
  const sum = Number(noisy.get(c.sum!)!) * grid;
  if (a.kind === 'sum') {
    const t = halfWidth(noises.get(c.sum!)!, 0.95) * grid;
    return [sum, sum - t, sum + t];
  }
  const count = Number(noisy.get(c.count)!);
  // Both halves at 97.5% so the mean's interval holds at 95% (union bound).
  const interval = centredMeanInterval(sum, count, halfWidth(noises.get(c.sum!)!, 0.975) * grid, halfWidth(noises.get(c.count)!, 0.975), b);
  const clamp = (v: number): number => Math.min(b.upper, Math.max(b.lower, v));
  return [count > 0 ? clamp(middleOf(b) + sum / count) : null, interval?.low ?? null, interval?.high ?? null];
}

/**
 * The mean's 95% interval from a noisy sum of values centred on the bounds' middle and a noisy count, each
 * within its half-width (97.5% each): the true mean is middle + S/C for some S in [sum ± a] and C in
 * [count ± c]. With C > 0, S/C is monotone in S and in C, so its extremes are at the box's corners; the
 * result is clamped to the bounds (every value is). Null when count - c ≤ 0: the data cannot bound the mean.
 */
export function centredMeanInterval(sum: number, count: number, a: number, c: number, bounds: NumericBounds): { low: number; high: number } | null {
  if (count - c <= 0) return null;
  const ratios = [sum - a, sum + a].flatMap((s) => [s / (count - c), s / (count + c)]);
  const clamp = (v: number): number => Math.min(bounds.upper, Math.max(bounds.lower, v));
  return { low: clamp(middleOf(bounds) + Math.min(...ratios)), high: clamp(middleOf(bounds) + Math.max(...ratios)) };
}

function noiseText(noise: Noise, x: Measurement): string {
  return `${noise.mechanism === 'laplace' ? 'scale' : 'σ'} ${round(noise.scale)} for sensitivity ${x.sensitivity}`;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function releaseWithSmallNumberSuppression(
  q: AggregateQuery,
  policy: SmallNumbersPolicy,
  domains: KeyDomain[],
  columns: MeasurementColumns,
  measured: Measured,
): ProtectedResult {
  const rule = { threshold: policy.threshold, roundTo: policy.roundTo };
  const publicOnly = q.keys.length > 0 && domains.every((d) => d.kind === 'public');
  let groups = q.keys.length ? measured.rows : [measured.rows[0] ?? {}];
  if (publicOnly) {
    // Zeros are published as zeros (the NHS rule keeps them): every public combination is listed.
    const seen = new Set(groups.map((g) => JSON.stringify(q.keys.map((_, i) => g[`dp_key_${i}`] ?? null))));
    let combos: unknown[][] = [[]];
    for (const d of domains) combos = combos.flatMap((c) => publicValues(d).map((v) => [...c, v]));
    if (combos.length <= MAX_PUBLIC_GROUPS)
      groups = [...groups, ...combos.filter((c) => !seen.has(JSON.stringify(c))).map((c) => Object.fromEntries(c.map((v, i) => [`dp_key_${i}`, v])))];
  }
  const count = (g: Record<string, unknown>, column: string): number => Number(g[column] ?? 0);
  // A row describes its patients; it is small when they, or any count shown, are 1..threshold.
  const small = (g: Record<string, unknown>): number => {
    const counts = [count(g, columns.patients), count(g, columns.rows), ...columns.values.filter((c) => c.count).map((c) => count(g, c.count))];
    return counts.some((n) => n >= 1 && n <= rule.threshold) ? Math.min(...counts.filter((n) => n >= 1)) : count(g, columns.patients);
  };
  // Secondary suppression over the table's first two keys (the margins an analyst can ask for separately).
  const cells: Cell[] = groups.map((g) => ({ keys: q.keys.slice(0, 2).map((_, i) => JSON.stringify(g[`dp_key_${i}`] ?? null)), count: small(g) }));
  const { suppressed } = q.keys.length ? suppressTable(cells, rule) : { suppressed: [small(groups[0]!) >= 1 && small(groups[0]!) <= rule.threshold] };
  let hidden = 0;
  const rows = groups.map((g, gi) => {
    const out: unknown[] = [];
    if (suppressed[gi]) hidden++;
    for (const o of q.outputs) {
      if (o.kind === 'key') {
        out.push(g[`dp_key_${o.key}`] ?? null);
        continue;
      }
      const a = q.aggregates[o.aggregate]!;
      const c = columns.values[o.aggregate]!;
      if (suppressed[gi]) out.push(null);
      else if (a.kind === 'count-rows') out.push(roundCount(count(g, columns.rows), rule));
      else if (a.kind === 'count-patients') out.push(roundCount(count(g, columns.patients), rule));
      else if (a.kind === 'count-values') out.push(roundCount(count(g, c.count), rule));
      else if (a.kind === 'sum') out.push(g[c.sum!] === null || g[c.sum!] === undefined ? null : Number(g[c.sum!]));
      else out.push(count(g, c.count) ? Number(g[c.sum!]) / count(g, c.count) : null);
    }
    return out;
  });
  const resultColumns: ResultColumn[] = q.outputs.map((o) =>
    o.kind === 'key'
      ? { name: o.name, type: measured.keyTypes[o.key] ?? 'varchar' }
      : { name: o.name, type: ['sum', 'avg'].includes(q.aggregates[o.aggregate]!.kind) ? 'double' : 'bigint' },
  );
  const notes = [
    `small-number suppression: counts of 1 to ${rule.threshold} are withheld (NULL) together with enough other cells that they cannot be worked out from totals; ` +
      `other counts are rounded to the nearest ${rule.roundTo}; sums and means are withheld where they describe ${rule.threshold} or fewer patients` +
      (hidden ? ` (${hidden} row${hidden > 1 ? 's' : ''} withheld)` : ''),
  ];
  return {
    columns: resultColumns,
    rows: order(rows, q, resultColumns),
    notes,
    epsilon: 0,
    delta: 0,
    detail: { rule, rowsWithheld: hidden },
  };
}

/** ORDER BY and LIMIT on the released rows (output positions map past the interval columns). */
function order(rows: unknown[][], q: AggregateQuery, columns: ResultColumn[]): unknown[][] {
  const position = (output: number): number => columns.findIndex((c) => c.name === q.outputs[output]!.name);
  const sorted = [...rows];
  if (q.orderBy.length) {
    sorted.sort((x, y) => {
      for (const o of q.orderBy) {
        const p = position(o.output);
        const a = x[p];
        const b = y[p];
        if (a === b) continue;
        if (a === null || a === undefined) return o.nullsFirst ? -1 : 1;
        if (b === null || b === undefined) return o.nullsFirst ? 1 : -1;
        const c = a < b ? -1 : 1;
        return o.descending ? -c : c;
      }
      return 0;
    });
  }
  return q.limit === undefined ? sorted : sorted.slice(0, q.limit);
}
