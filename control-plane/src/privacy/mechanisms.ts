// Noise calibration and the numbers stated next to a noisy result: scale from (ε, δ, sensitivity), intervals,
// the partition-selection threshold, and the mean's interval. Pure; the noise itself comes from the exact
// samplers in discrete-samplers.ts. Formulas: ../shared/notes/privacy.md §4.
import { type Rational, rational, sampleDiscreteGaussian, sampleDiscreteLaplace } from './discrete-samplers';
import { discreteGaussianTail, discreteLaplaceTail } from './noise-distributions';
import { cryptoRandom, type RandomSource } from './random-source';

export type Mechanism = 'laplace' | 'gaussian';

export interface NoiseSpec {
  mechanism: Mechanism;
  epsilon: number;
  /** Ignored for laplace; in (0, 1) for gaussian. */
  delta: number;
  /** An integer ≥ 1 in the query's integer units: an L1 bound, which also bounds the L2 sensitivity. */
  sensitivity: number;
}

export interface Noise {
  mechanism: Mechanism;
  /** b for laplace (P(x) ∝ e^(−|x|/b)), σ for gaussian (P(x) ∝ e^(−x²/2σ²)). */
  scale: number;
  /** The smallest integer t with P(|noise| ≤ t) ≥ 0.95 under the discrete distribution. */
  halfWidth95: number;
  epsilon: number;
  /** 0 for laplace. */
  delta: number;
}

/** Larger scales drown any count in noise, and their half-widths would leave the doubles' exact integers. */
const MAX_SCALE = 1e12;

/**
 * The noise for one integer query of the given sensitivity Δ.
 * - laplace: discrete Laplace with b = Δ/ε is ε-DP (Ghosh, Roughgarden & Sundararajan 2009; CKS 2020 §1), b
 *   rounded up to the next double when Δ/ε is not exact so the guarantee holds for the double used.
 * - gaussian: the discrete Gaussian is Δ²/(2σ²)-zCDP (CKS 2020, Theorem 4), and ρ-zCDP implies
 *   (ρ + 2√(ρ·ln(1/δ)), δ)-DP (Bun & Steinke 2016, Proposition 1.3). Solving ρ + 2√(ρ·ln(1/δ)) = ε gives
 *   √ρ = √(ln(1/δ) + ε) − √(ln(1/δ)), computed as ε/(√(ln(1/δ) + ε) + √(ln(1/δ))) to avoid cancellation;
 *   σ = Δ/√(2ρ), raised by 2^−40 relative to cover the floating-point rounding of the logarithm and roots.
 */
export function calibrate(spec: NoiseSpec): Noise {
  if (!spec || typeof spec !== 'object') throw new TypeError('calibrate needs a NoiseSpec');
  const { mechanism, epsilon, delta, sensitivity } = spec;
  checkMechanism(mechanism);
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0)
    throw new RangeError(`epsilon must be a finite number > 0, got ${String(epsilon)}`);
  if (typeof sensitivity !== 'number' || !Number.isSafeInteger(sensitivity) || sensitivity < 1)
    throw new RangeError(`sensitivity must be an integer ≥ 1 (in the query's integer units), got ${String(sensitivity)}`);
  let scale: number;
  let usedDelta = 0;
  if (mechanism === 'laplace') {
    scale = sensitivity / epsilon;
    const b = rational(scale);
    const e = rational(epsilon);
    if (b.num * e.num < BigInt(sensitivity) * b.den * e.den) scale = nextUp(scale);
  } else {
    if (typeof delta !== 'number' || !(delta > 0 && delta < 1))
      throw new RangeError(`delta must be in (0, 1) for the gaussian mechanism, got ${String(delta)}`);
    const logInverseDelta = -Math.log(delta);
    const sqrtRho = epsilon / (Math.sqrt(logInverseDelta + epsilon) + Math.sqrt(logInverseDelta));
    scale = (sensitivity / (Math.SQRT2 * sqrtRho)) * (1 + 2 ** -40);
    usedDelta = delta;
  }
  if (!(scale <= MAX_SCALE))
    throw new RangeError(
      `the noise scale ${scale.toPrecision(3)} (sensitivity ${sensitivity}, epsilon ${epsilon}) exceeds ${MAX_SCALE}: raise epsilon or lower the sensitivity`,
    );
  const noise: Noise = { mechanism, scale, halfWidth95: 0, epsilon, delta: usedDelta };
  noise.halfWidth95 = halfWidth(noise, 0.95);
  return noise;
}

/**
 * The smallest integer t ≥ 0 with P(|X| ≤ t) ≥ confidence for the noise's discrete distribution, i.e.
 * 2·P(X ≥ t + 1) ≤ 1 − confidence. Laplace in closed form, P(|X| > t) = 2e^(−(t+1)/b)/(1 + e^(−1/b)); Gaussian by
 * the tail sum of the pmf over an exact normaliser (noise-distributions.ts).
 */
export function halfWidth(noise: Noise, confidence: number): number {
  const tail = tailOf(noise);
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${String(confidence)}`);
  const allowed = 1 - confidence;
  return smallestInteger(0, (t) => 2 * tail(t + 1) <= allowed);
}

/** value + noise, drawn with the exact samplers (σ² passed as the exact square of σ's rational value). */
export function addNoise(value: bigint, noise: Noise, rng: RandomSource = cryptoRandom): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`addNoise needs a bigint value, got ${typeof value}`);
  tailOf(noise);
  const scale = rational(noise.scale);
  if (noise.mechanism === 'laplace') return value + sampleDiscreteLaplace(scale, rng);
  const sigmaSquared: Rational = { num: scale.num * scale.num, den: scale.den * scale.den };
  return value + sampleDiscreteGaussian(sigmaSquared, rng);
}

/**
 * τ for releasing groups whose keys are not public ("tau thresholding": SmartNoise SQL's censor_dims, the
 * partition selection of Google's DP libraries; Korolova et al. 2009). A group is released only when its noisy
 * distinct-patient count (true count + noise from `noise`) is ≥ τ. A group that exists only because of one
 * patient has a true count of 1, so τ is the smallest integer ≥ 1 with P(1 + X ≥ τ) ≤ δ/maxGroupsPerPatient.
 * One patient creates at most maxGroupsPerPatient groups, so by the union bound any of them is released with
 * probability ≤ δ. The noise's sensitivity must already cover maxGroupsPerPatient groups (its ε then protects
 * the counts of groups that exist without the patient); the δ here adds to the mechanism's own δ.
 */
export function partitionThreshold(noise: Noise, delta: number, maxGroupsPerPatient: number): number {
  const tail = tailOf(noise);
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1) for partition selection, got ${String(delta)}`);
  if (!Number.isSafeInteger(maxGroupsPerPatient) || maxGroupsPerPatient < 1)
    throw new RangeError(`maxGroupsPerPatient must be an integer ≥ 1, got ${String(maxGroupsPerPatient)}`);
  const perGroup = delta / maxGroupsPerPatient;
  return smallestInteger(0, (k) => tail(k) <= perGroup) + 1;
}

/**
 * The mean of values clamped to [lower, upper] from a noisy sum of the values shifted to [0, upper − lower]
 * and a noisy count: lower + clamp(noisySum/noisyCount, 0, upper − lower); null when the noisy count is ≤ 0.
 * Post-processing of DP outputs, so it costs no privacy (Dwork & Roth 2014, Proposition 2.1).
 */
export function meanEstimate(noisyShiftedSum: number, noisyCount: number, lower: number, upper: number): number | null {
  checkFinite({ noisyShiftedSum, noisyCount, lower, upper });
  if (lower > upper) throw new RangeError(`lower (${lower}) must not exceed upper (${upper})`);
  if (noisyCount <= 0) return null;
  return lower + clamp(noisyShiftedSum / noisyCount, 0, upper - lower);
}

/**
 * An interval for the mean of values clamped to [lower, upper], in original units, from
 * - noisySum = S + X, S the exact sum of the values shifted by −lower (so 0 ≤ S ≤ C·(upper − lower)),
 * - noisyCount = C + Y, C ≥ 1 the exact count,
 * - sumHalfWidth a and countHalfWidth c with P(|X| > a) ≤ α and P(|Y| > c) ≤ β.
 * Whenever |X| ≤ a and |Y| ≤ c, which holds with probability ≥ 1 − α − β (union bound), S ∈ [S' − a, S' + a]
 * and C ∈ [C' − c, C' + c]; as S ≥ 0 and C ≥ C' − c > 0, S/C lies in [max(0, S' − a)/(C' + c), (S' + a)/(C' − c)].
 * Clamped to [0, upper − lower] (where the mean lies anyway) and shifted back by lower. Half-widths at 97.5% each
 * give a 95% interval. null when C' − c ≤ 0: the count could be zero, so the data cannot bound the mean.
 * It covers the noise only: the mean is that of the clamped values (bias from clamping is not included).
 */
export function meanInterval(
  noisySum: number,
  noisyCount: number,
  sumHalfWidth: number,
  countHalfWidth: number,
  lower: number,
  upper: number,
): { low: number; high: number } | null {
  checkFinite({ noisySum, noisyCount, sumHalfWidth, countHalfWidth, lower, upper });
  if (sumHalfWidth < 0 || countHalfWidth < 0) throw new RangeError('half-widths must be ≥ 0');
  if (lower > upper) throw new RangeError(`lower (${lower}) must not exceed upper (${upper})`);
  const smallestCount = noisyCount - countHalfWidth;
  if (smallestCount <= 0) return null;
  const range = upper - lower;
  const low = Math.max(0, noisySum - sumHalfWidth) / (noisyCount + countHalfWidth);
  const high = (noisySum + sumHalfWidth) / smallestCount;
  return { low: lower + clamp(low, 0, range), high: lower + clamp(high, 0, range) };
}

/** P(X ≥ k) of the noise's distribution; throws if the Noise is not one calibrate could have made. */
function tailOf(noise: Noise): (k: number) => number {
  if (!noise || typeof noise !== 'object') throw new TypeError('a Noise (from calibrate) is needed');
  checkMechanism(noise.mechanism);
  const scale = noise.scale;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= MAX_SCALE)) throw new RangeError(`noise.scale must be in (0, ${MAX_SCALE}], got ${String(scale)}`);
  return noise.mechanism === 'laplace' ? (k) => discreteLaplaceTail(scale, k) : (k) => discreteGaussianTail(scale, k);
}

/** The smallest integer ≥ from where a monotone predicate (false … false true …) holds: doubling, then bisection. */
function smallestInteger(from: number, holds: (n: number) => boolean): number {
  if (holds(from)) return from;
  let below = from;
  let step = 1;
  while (!holds(from + step)) {
    below = from + step;
    step *= 2;
    if (step > Number.MAX_SAFE_INTEGER / 4) throw new RangeError('no integer bound found within the safe integer range');
  }
  let above = from + step;
  while (above - below > 1) {
    const middle = below + Math.floor((above - below) / 2);
    if (holds(middle)) above = middle;
    else below = middle;
  }
  return above;
}

function checkMechanism(mechanism: unknown): asserts mechanism is Mechanism {
  if (mechanism !== 'laplace' && mechanism !== 'gaussian') throw new RangeError(`mechanism must be 'laplace' or 'gaussian', got ${String(mechanism)}`);
}

function checkFinite(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${String(value)}`);
  }
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}

/** The next double above a positive finite x. */
function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}
