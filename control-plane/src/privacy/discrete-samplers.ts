// Exact samplers for integer-valued noise: Canonne, Kamath & Steinke, "The Discrete Gaussian for Differential
// Privacy" (NeurIPS 2020, arXiv:2004.00010), Algorithms 1–3. Only bigint arithmetic on rationals and uniform
// integers from a RandomSource: no floating point, so the output distribution is exactly the stated one
// (floating-point Laplace noise leaks through the gaps between representable doubles, Mironov CCS 2012).
import type { RandomSource } from './random-source';

/** num/den with num ≥ 0 and den ≥ 1 (not necessarily in lowest terms). */
export interface Rational {
  num: bigint;
  den: bigint;
}

/**
 * The exact value of a finite positive double as a rational: a double is m·2^e with an integer m < 2^53
 * (IEEE 754 binary64), so num = m·2^max(e,0) and den = 2^max(−e,0), reduced by common factors of two.
 */
export function rational(x: number): Rational {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new RangeError(`rational(x) needs a finite number > 0, got ${String(x)}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  // Normal numbers carry an implicit leading 1; subnormals have exponent −1074 and none.
  let num = biasedExponent === 0 ? fraction : fraction | (1n << 52n);
  let exponent = (biasedExponent === 0 ? 1 : biasedExponent) - 1075;
  while (exponent < 0 && (num & 1n) === 0n) {
    num >>= 1n;
    exponent++;
  }
  return exponent >= 0 ? { num: num << BigInt(exponent), den: 1n } : { num, den: 1n << BigInt(-exponent) };
}

/** Bernoulli(p) for a rational p in [0, 1]: a uniform integer below den is < num with probability num/den exactly. */
export function sampleBernoulli(p: Rational, rng: RandomSource): boolean {
  checkRational(p, 'p');
  if (p.num > p.den) throw new RangeError(`sampleBernoulli: p must be at most 1, got ${p.num}/${p.den}`);
  return bernoulli(p.num, p.den, rng);
}

/** Bernoulli(exp(−γ)) for a rational γ ≥ 0 (CKS 2020, Algorithm 1). */
export function sampleBernoulliExp(gamma: Rational, rng: RandomSource): boolean {
  checkRational(gamma, 'gamma');
  return bernoulliExp(gamma.num, gamma.den, rng);
}

/**
 * Discrete Laplace with P(x) ∝ exp(−|x|/scale) over the integers (CKS 2020, Algorithm 2 with scale = t/s;
 * the distribution of Ghosh, Roughgarden & Sundararajan's geometric mechanism). Adding it to an integer query
 * of L1 sensitivity Δ with scale Δ/ε is ε-DP.
 */
export function sampleDiscreteLaplace(scale: Rational, rng: RandomSource): bigint {
  checkRational(scale, 'scale');
  if (scale.num === 0n) throw new RangeError('sampleDiscreteLaplace: scale must be > 0');
  return discreteLaplace(scale.num, scale.den, rng);
}

/**
 * Discrete Gaussian with P(x) ∝ exp(−x²/(2σ²)) over the integers (CKS 2020, Algorithm 3): discrete Laplace
 * proposals of scale t = ⌊σ⌋ + 1, accepted with probability exp(−(|Y| − σ²/t)²/(2σ²)). Adding it to an integer
 * query of L2 sensitivity Δ is Δ²/(2σ²)-zCDP (CKS 2020, Theorem 4).
 */
export function sampleDiscreteGaussian(sigmaSquared: Rational, rng: RandomSource): bigint {
  checkRational(sigmaSquared, 'sigmaSquared');
  if (sigmaSquared.num === 0n) throw new RangeError('sampleDiscreteGaussian: sigmaSquared must be > 0');
  const { num: a, den: b } = sigmaSquared;
  // ⌊σ⌋ = ⌊√⌊σ²⌋⌋ for σ² ≥ 0, so t needs only an integer square root.
  const t = integerSqrt(a / b) + 1n;
  // (|Y| − σ²/t)²/(2σ²) with σ² = a/b is (|Y|·b·t − a)² / (2·a·b·t²).
  const gammaDen = 2n * a * b * t * t;
  for (;;) {
    const y = discreteLaplace(t, 1n, rng);
    const distance = (y < 0n ? -y : y) * b * t - a;
    if (bernoulliExp(distance * distance, gammaDen, rng)) return y;
  }
}

function bernoulli(num: bigint, den: bigint, rng: RandomSource): boolean {
  return rng.below(den) < num;
}

/**
 * CKS Algorithm 1. For γ ≤ 1: draw A_k ~ Bernoulli(γ/k) for k = 1, 2, … until one fails; the index K of the
 * failure is odd with probability Σ (−γ)^j/j! = exp(−γ). For γ > 1: exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)).
 */
function bernoulliExp(num: bigint, den: bigint, rng: RandomSource): boolean {
  if (num <= den) {
    let k = 1n;
    while (bernoulli(num, den * k, rng)) k++;
    return (k & 1n) === 1n;
  }
  const whole = num / den;
  for (let i = 0n; i < whole; i++) if (!bernoulliExp(1n, 1n, rng)) return false;
  return bernoulliExp(num - whole * den, den, rng);
}

/** CKS Algorithm 2: discrete Laplace of scale t/s. */
function discreteLaplace(t: bigint, s: bigint, rng: RandomSource): bigint {
  for (;;) {
    const u = rng.below(t);
    if (!bernoulliExp(u, t, rng)) continue;
    let v = 0n;
    while (bernoulliExp(1n, 1n, rng)) v++;
    // x = u + t·v is geometric with parameter 1 − exp(−1/t), so y = ⌊x/s⌋ is geometric with 1 − exp(−s/t).
    const y = (u + t * v) / s;
    const negative = rng.below(2n) === 1n;
    // −0 would count zero twice.
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/** ⌊√n⌋ for n ≥ 0 (Newton's method on integers). */
export function integerSqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('integerSqrt of a negative number');
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const next = (x + n / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

function checkRational(r: Rational, name: string): void {
  if (!r || typeof r.num !== 'bigint' || typeof r.den !== 'bigint') throw new TypeError(`${name} must be a Rational { num: bigint; den: bigint }`);
  if (r.den < 1n) throw new RangeError(`${name}: the denominator must be ≥ 1, got ${r.den}`);
  if (r.num < 0n) throw new RangeError(`${name} must be ≥ 0, got ${r.num}/${r.den}`);
}
