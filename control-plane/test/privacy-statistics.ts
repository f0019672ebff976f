// Statistics for the privacy tests: Pearson's chi-square goodness of fit against an exact integer pmf, and the
// chi-square quantile (regularised incomplete gamma, Numerical Recipes §6.2, inverted by bisection).

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(a, x), the regularised lower incomplete gamma function: series below a + 1, continued fraction above. */
export function regularisedGammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000 && Math.abs(term) > 1e-16 * Math.abs(sum); n++) {
      term *= x / (a + n);
      sum += term;
    }
    return sum * front;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 - front * h;
}

/** The p-quantile of the chi-square distribution with df degrees of freedom. */
export function chiSquareQuantile(p: number, df: number): number {
  let low = 0;
  let high = df + 20 * Math.sqrt(2 * df) + 50;
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (regularisedGammaP(df / 2, middle / 2) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

export interface GoodnessOfFit {
  statistic: number;
  degreesOfFreedom: number;
  /** The 0.999 quantile for those degrees of freedom. */
  critical: number;
}

/**
 * Pearson's chi-square of integer samples against a pmf over the integers: one bin per value whose expected
 * count is ≥ 5, the values beyond on either side merged into one tail bin each (merged into the neighbouring bin
 * if the tail itself expects fewer than 5).
 */
export function chiSquareFit(samples: readonly bigint[] | readonly number[], pmf: (x: number) => number, quantile = 0.999): GoodnessOfFit {
  const n = samples.length;
  // The central values expected ≥ 5 times: the pmfs tested are symmetric and unimodal around 0.
  let edge = 0;
  while (n * pmf(edge + 1) >= 5) edge++;
  const observed = new Map<number, number>();
  for (const s of samples) {
    const x = Math.max(-edge - 1, Math.min(edge + 1, Number(s)));
    observed.set(x, (observed.get(x) ?? 0) + 1);
  }
  let central = 0;
  for (let x = -edge; x <= edge; x++) central += pmf(x);
  const bins: { observed: number; expected: number }[] = [];
  for (let x = -edge; x <= edge; x++) bins.push({ observed: observed.get(x) ?? 0, expected: n * pmf(x) });
  const tail = (n * (1 - central)) / 2;
  const lowTail = { observed: observed.get(-edge - 1) ?? 0, expected: tail };
  const highTail = { observed: observed.get(edge + 1) ?? 0, expected: tail };
  if (tail >= 5) {
    bins.unshift(lowTail);
    bins.push(highTail);
  } else {
    bins[0]!.observed += lowTail.observed;
    bins[0]!.expected += lowTail.expected;
    bins[bins.length - 1]!.observed += highTail.observed;
    bins[bins.length - 1]!.expected += highTail.expected;
  }
  const statistic = bins.reduce((sum, b) => sum + (b.observed - b.expected) ** 2 / b.expected, 0);
  const degreesOfFreedom = bins.length - 1;
  return { statistic, degreesOfFreedom, critical: chiSquareQuantile(quantile, degreesOfFreedom) };
}

/** Exact pmf of the discrete Laplace of scale b: (1 − q)/(1 + q)·q^|x|, q = e^(−1/b). */
export function laplacePmf(scale: number): (x: number) => number {
  const q = Math.exp(-1 / scale);
  return (x) => ((1 - q) / (1 + q)) * q ** Math.abs(x);
}

/** Exact pmf of the discrete Gaussian with σ², the normaliser summed term by term (independent of the library). */
export function gaussianPmf(sigmaSquared: number): (x: number) => number {
  let z = 1;
  for (let x = 1; x < 60 * Math.sqrt(sigmaSquared) + 60; x++) z += 2 * Math.exp((-x * x) / (2 * sigmaSquared));
  return (x) => Math.exp((-x * x) / (2 * sigmaSquared)) / z;
}

/** Mean, variance and fourth central moment of a symmetric pmf over the integers, summed until negligible. */
export function pmfMoments(pmf: (x: number) => number): { variance: number; fourth: number } {
  let variance = 0;
  let fourth = 0;
  for (let x = 1; ; x++) {
    const p = pmf(x);
    variance += 2 * p * x * x;
    fourth += 2 * p * x ** 4;
    if (p * x ** 4 < 1e-18 * fourth && x > 10) return { variance, fourth };
  }
}

export function sampleMoments(samples: readonly bigint[]): { mean: number; variance: number } {
  const values = samples.map(Number);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}
