// Tail probabilities of the two integer noise distributions, in floating point: they size the intervals and
// thresholds the gateway states, never the noise itself (the samplers are exact). Tails are computed directly,
// not as 1 − cdf, so they stay accurate down to the tiny probabilities that δ calls for.

/**
 * P(X ≥ k) for discrete Laplace of scale b, P(x) = (1 − q)/(1 + q)·q^|x| with q = e^(−1/b): summing the
 * geometric series gives q^k/(1 + q) for k ≥ 1, and P(X ≥ k) = 1 − P(X ≥ 1 − k) for k ≤ 0 by symmetry.
 */
export function discreteLaplaceTail(scale: number, k: number): number {
  if (k <= 0) return 1 - discreteLaplaceTail(scale, 1 - k);
  return Math.exp(-k / scale) / (1 + Math.exp(-1 / scale));
}

/**
 * Σ_x exp(−x²/(2σ²)) over the integers. For σ ≥ 1 by Poisson summation (the Jacobi theta identity
 * Σ_x e^(−x²/2σ²) = σ√(2π)·Σ_k e^(−2π²σ²k²), used by CKS 2020 §2.3), where the k ≠ 0 terms are below 3e−9
 * and vanish fast; for smaller σ by direct summation, which then converges within a few terms.
 */
export function discreteGaussianNormaliser(sigma: number): number {
  if (sigma >= 1) {
    let theta = 1;
    for (let k = 1; k <= 3; k++) theta += 2 * Math.exp(-2 * Math.PI * Math.PI * sigma * sigma * k * k);
    return sigma * Math.sqrt(2 * Math.PI) * theta;
  }
  let sum = 1;
  for (let x = 1; ; x++) {
    const term = Math.exp((-x * x) / (2 * sigma * sigma));
    sum += 2 * term;
    if (term < 1e-20 * sum) return sum;
  }
}

/** Below this σ the tail is summed term by term; above it Euler–Maclaurin is accurate to ~1e−9 relative. */
const DIRECT_SUMMATION_MAX_SIGMA = 50;

/**
 * P(X ≥ k) for the discrete Gaussian with parameter σ. Small σ: the pmf summed from k until the terms stop
 * counting. Large σ: the Euler–Maclaurin formula Σ_{x≥k} f(x) = ∫_k^∞ f + f(k)/2 − f′(k)/12 + f‴(k)/720 + R,
 * with ∫_k^∞ f = σ√(π/2)·erfc(k/(σ√2)) and |R| below 1e−9 of the sum for σ ≥ 50.
 */
export function discreteGaussianTail(sigma: number, k: number): number {
  if (k <= 0) return 1 - discreteGaussianTail(sigma, 1 - k);
  const z = discreteGaussianNormaliser(sigma);
  const s2 = sigma * sigma;
  if (sigma < DIRECT_SUMMATION_MAX_SIGMA) {
    let sum = 0;
    for (let x = k; ; x++) {
      const term = Math.exp((-x * x) / (2 * s2));
      sum += term;
      if (term <= 1e-17 * sum || term === 0) return sum / z;
    }
  }
  const f = Math.exp((-k * k) / (2 * s2));
  const firstDerivative = (-k / s2) * f;
  const thirdDerivative = ((3 * k) / (s2 * s2) - (k * k * k) / (s2 * s2 * s2)) * f;
  const integral = sigma * Math.sqrt(Math.PI / 2) * erfc(k / (sigma * Math.SQRT2));
  return (integral + f / 2 - firstDerivative / 12 + thirdDerivative / 720) / z;
}

/**
 * The complementary error function for x ≥ 0, to ~1e−14 relative: for x ≤ 2 from the all-positive series
 * erf(x) = (2/√π)·e^(−x²)·Σ 2^n x^(2n+1)/(1·3·…·(2n+1)) (Abramowitz & Stegun 7.1.6); beyond, from the continued
 * fraction erfc(x) = (e^(−x²)/√π)·1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (A&S 7.1.14), evaluated by Lentz's method.
 */
export function erfc(x: number): number {
  if (!(x >= 0)) throw new RangeError(`erfc is implemented for x ≥ 0, got ${x}`);
  if (x <= 2) {
    let term = x;
    let sum = x;
    for (let n = 1; term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let i = 1; i < 10_000; i++) {
    const a = i / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}
