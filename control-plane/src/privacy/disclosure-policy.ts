// What a consumer's `policies.disclosure` says the gateway must do with their queries' answers. Ops set it
// through the admin API (validated there by connector-spec/api/consumer.schema.json); this is the one place
// it is read, with the defaults applied, so the gateway never runs on a half-understood policy.
//   row-level             rows as the policy form gives them (issue 12), optionally held to k-anonymity
//   differential-privacy  aggregates only; noise calibrated per query; ε and δ charged to a budget
//   small-numbers         aggregates only; exact counts with the NHS rule (1–7 suppressed, rounded to 5)
import type { Mechanism } from './mechanisms';

export interface NumericBounds {
  lower: number;
  upper: number;
}

export interface DifferentialPrivacyPolicy {
  mode: 'differential-privacy';
  /** ε one query may spend (all its released numbers together); the tender's cap of 1.0 unless ops say otherwise. */
  epsilonPerQuery: number;
  /** δ one query may spend: partition selection of non-public group keys, and the Gaussian mechanism. */
  deltaPerQuery: number;
  /** δ available per budget period (ε's total is the consumer's `budget.epsilon`). */
  deltaBudget: number;
  mechanism: Mechanism;
  /** Rows one patient may contribute to one query, across every trust (contribution bounding). */
  maxRowsPerPatient: number;
  /** Declared clamping bounds of numeric columns, `table.column` -> bounds (public: chosen without the data). */
  bounds: Record<string, NumericBounds>;
}

export interface SmallNumbersPolicy {
  mode: 'small-numbers';
  /** Counts 1..threshold are suppressed (NHS England: 7). */
  threshold: number;
  /** Other counts are rounded to the nearest multiple (NHS England: 5). */
  roundTo: number;
}

export interface RowLevelPolicy {
  mode: 'row-level';
  /** When set, a row-level extract is released only in equivalence classes of ≥ k rows with ≥ l distinct sensitive values. */
  kAnonymity?: { k: number; l: number };
}

export type DisclosurePolicy = DifferentialPrivacyPolicy | SmallNumbersPolicy | RowLevelPolicy;

export const DP_DEFAULTS = {
  epsilonPerQuery: 1.0,
  deltaPerQuery: 1e-6,
  deltaBudget: 1e-4,
  mechanism: 'laplace' as Mechanism,
  maxRowsPerPatient: 1,
};

export class InvalidDisclosurePolicy extends Error {}

/** The consumer's disclosure policy with defaults applied; throws naming the first bad field. */
export function disclosurePolicyOf(policies: Record<string, unknown> | null | undefined): DisclosurePolicy {
  const raw = policies?.disclosure;
  if (raw === undefined || raw === null) return { mode: 'row-level' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidDisclosurePolicy('policies.disclosure must be an object');
  const d = raw as Record<string, unknown>;
  const bad = (field: string, rule: string): never => {
    throw new InvalidDisclosurePolicy(`policies.disclosure.${field} ${rule}`);
  };
  const num = (field: string, fallback: number, ok: (v: number) => boolean, rule: string): number => {
    const v = d[field] ?? fallback;
    return typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : bad(field, rule);
  };
  switch (d.mode) {
    case undefined:
    case 'row-level': {
      if (d.kAnonymity === undefined) return { mode: 'row-level' };
      const k = (d.kAnonymity as Record<string, unknown> | null)?.k;
      const l = (d.kAnonymity as Record<string, unknown> | null)?.l ?? 1;
      if (!Number.isInteger(k) || (k as number) < 2) bad('kAnonymity.k', 'must be an integer ≥ 2');
      if (!Number.isInteger(l) || (l as number) < 1) bad('kAnonymity.l', 'must be an integer ≥ 1');
      return { mode: 'row-level', kAnonymity: { k: k as number, l: l as number } };
    }
    case 'small-numbers':
      return {
        mode: 'small-numbers',
        threshold: num('threshold', 7, (v) => Number.isInteger(v) && v >= 1, 'must be an integer ≥ 1'),
        roundTo: num('roundTo', 5, (v) => Number.isInteger(v) && v >= 1, 'must be an integer ≥ 1'),
      };
    case 'differential-privacy': {
      const mechanism = d.mechanism ?? DP_DEFAULTS.mechanism;
      if (mechanism !== 'laplace' && mechanism !== 'gaussian') bad('mechanism', "must be 'laplace' or 'gaussian'");
      const bounds: Record<string, NumericBounds> = {};
      const rawBounds = d.bounds ?? {};
      if (typeof rawBounds !== 'object' || rawBounds === null || Array.isArray(rawBounds)) bad('bounds', 'must map table.column to [lower, upper]');
      for (const [column, value] of Object.entries(rawBounds as Record<string, unknown>)) {
        if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(column)) bad(`bounds.${column}`, 'must be named table.column (lower case)');
        if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v)) || value[0] >= value[1])
          bad(`bounds.${column}`, 'must be [lower, upper] with lower < upper');
        bounds[column] = { lower: (value as number[])[0]!, upper: (value as number[])[1]! };
      }
      return {
        mode: 'differential-privacy',
        epsilonPerQuery: num('epsilonPerQuery', DP_DEFAULTS.epsilonPerQuery, (v) => v > 0 && v <= 10, 'must be in (0, 10]'),
        deltaPerQuery: num('deltaPerQuery', DP_DEFAULTS.deltaPerQuery, (v) => v > 0 && v < 1e-3, 'must be in (0, 0.001)'),
        deltaBudget: num('deltaBudget', DP_DEFAULTS.deltaBudget, (v) => v > 0 && v < 1, 'must be in (0, 1)'),
        mechanism: mechanism as Mechanism,
        maxRowsPerPatient: num(
          'maxRowsPerPatient',
          DP_DEFAULTS.maxRowsPerPatient,
          (v) => Number.isInteger(v) && v >= 1 && v <= 100,
          'must be an integer in [1, 100]',
        ),
        bounds,
      };
    }
    default:
      return bad('mode', "must be 'row-level', 'differential-privacy' or 'small-numbers'");
  }
}

/** Whether the policy releases aggregates only. */
export function aggregateOnly(policy: DisclosurePolicy): policy is DifferentialPrivacyPolicy | SmallNumbersPolicy {
  return policy.mode !== 'row-level';
}
