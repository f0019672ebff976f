// Calibration, intervals and thresholds of the DP mechanisms, checked against independent computations
// (direct summation of the exact pmfs here, not the library's tail formulas) and against seeded draws.
import { expect } from 'chai';
import { rational } from '../src/privacy/discrete-samplers';
import { addNoise, calibrate, halfWidth, meanEstimate, meanInterval, type Noise, partitionThreshold } from '../src/privacy/mechanisms';
import { discreteGaussianNormaliser, discreteGaussianTail, discreteLaplaceTail, erfc } from '../src/privacy/noise-distributions';
import { seededRandom } from '../src/privacy/random-source';
import { chiSquareFit, gaussianPmf, laplacePmf } from './privacy-statistics';

const DRAWS = 20_000;

function pmfOf(noise: Noise): (x: number) => number {
  return noise.mechanism === 'laplace' ? laplacePmf(noise.scale) : gaussianPmf(noise.scale ** 2);
}

/** P(|X| ≤ t) by summing the pmf. */
function central(pmf: (x: number) => number, t: number): number {
  let p = pmf(0);
  for (let x = 1; x <= t; x++) p += 2 * pmf(x);
  return p;
}

/** P(X ≥ k), k ≥ 1, by summing the pmf until the terms vanish. */
function upperTail(pmf: (x: number) => number, k: number): number {
  let sum = 0;
  for (let x = k; ; x++) {
    const p = pmf(x);
    sum += p;
    if (p < 1e-18 * sum || p === 0) return sum;
  }
}

function noise(mechanism: 'laplace' | 'gaussian', scale: number): Noise {
  return { mechanism, scale, halfWidth95: 0, epsilon: 1, delta: mechanism === 'gaussian' ? 1e-6 : 0 };
}

/** ρ solving ρ + 2√(ρ·ln(1/δ)) = ε by bisection: independent of the closed form calibrate uses. */
function rhoFor(epsilon: number, delta: number): number {
  let low = 0;
  let high = epsilon;
  for (let i = 0; i < 200; i++) {
    const rho = (low + high) / 2;
    if (rho + 2 * Math.sqrt(rho * Math.log(1 / delta)) < epsilon) low = rho;
    else high = rho;
  }
  return low;
}

describe('privacy: calibrate', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('laplace: b = Δ/ε, never below it', () => {
    expect(calibrate({ mechanism: 'laplace', epsilon: 1, delta: 0, sensitivity: 1 }).scale).to.equal(1);
    expect(calibrate({ mechanism: 'laplace', epsilon: 0.5, delta: 0, sensitivity: 180 }).scale).to.equal(360);
    for (const [sensitivity, epsilon] of [
      [3, 0.3],
      [7, 0.1],
      [1, 1 / 3],
      [180, 0.05],
    ] as const) {
      const n = calibrate({ mechanism: 'laplace', epsilon, delta: 0, sensitivity });
      expect(n.scale).to.be.closeTo(sensitivity / epsilon, 1e-15 * (sensitivity / epsilon));
      // b·ε ≥ Δ in exact arithmetic, so the guarantee is ε-DP for the double used.
      const b = rational(n.scale);
      const e = rational(epsilon);
      expect(b.num * e.num >= BigInt(sensitivity) * b.den * e.den, `${sensitivity}/${epsilon}`).to.equal(true);
      expect(n.delta).to.equal(0);
    }
    // δ plays no part in pure ε-DP.
    expect(calibrate({ mechanism: 'laplace', epsilon: 1, delta: Number.NaN, sensitivity: 2 }).scale).to.equal(2);
  });

  it('gaussian: σ = Δ/√(2ρ) with ρ + 2√(ρ ln(1/δ)) = ε (zCDP → (ε, δ)-DP)', () => {
    for (const [epsilon, delta, sensitivity] of [
      [1, 1e-5, 1],
      [0.5, 1e-6, 180],
      [0.1, 1e-9, 3],
      [1e-6, 1e-5, 1],
    ] as const) {
      const n = calibrate({ mechanism: 'gaussian', epsilon, delta, sensitivity });
      const rho = rhoFor(epsilon, delta);
      expect(n.scale, `ε ${epsilon}`).to.be.closeTo(sensitivity / Math.sqrt(2 * rho), 1e-9 * n.scale);
      // The σ used never spends more than ε.
      const spentRho = sensitivity ** 2 / (2 * n.scale ** 2);
      expect(spentRho + 2 * Math.sqrt(spentRho * Math.log(1 / delta))).to.be.at.most(epsilon);
      expect(n.delta).to.equal(delta);
    }
    // ../shared/notes/privacy.md §4: classic Gaussian σ ≈ 4.845 for Δ=1, ε=1, δ=1e−5; zCDP gives a similar 4.90.
    expect(calibrate({ mechanism: 'gaussian', epsilon: 1, delta: 1e-5, sensitivity: 1 }).scale).to.be.closeTo(4.9006, 1e-4);
  });

  it('refuses bad parameters, naming them', () => {
    const good = { mechanism: 'gaussian' as const, epsilon: 1, delta: 1e-6, sensitivity: 1 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ epsilon: 0 }, /epsilon must be a finite number > 0/],
      [{ epsilon: -1 }, /epsilon/],
      [{ epsilon: Number.NaN }, /epsilon/],
      [{ epsilon: Number.POSITIVE_INFINITY }, /epsilon/],
      [{ epsilon: '1' }, /epsilon/],
      [{ sensitivity: 0 }, /sensitivity must be an integer ≥ 1/],
      [{ sensitivity: 1.5 }, /sensitivity/],
      [{ sensitivity: Number.NaN }, /sensitivity/],
      [{ delta: 0 }, /delta must be in \(0, 1\)/],
      [{ delta: 1 }, /delta/],
      [{ delta: Number.NaN }, /delta/],
      [{ delta: undefined }, /delta/],
      [{ mechanism: 'exponential' }, /mechanism must be 'laplace' or 'gaussian'/],
      [{ epsilon: 1e-13, mechanism: 'laplace' }, /noise scale .* exceeds/],
    ];
    for (const [change, message] of cases) {
      expect(() => calibrate({ ...good, ...change } as never), JSON.stringify(change)).to.throw(RangeError, message);
    }
  });
});

describe('privacy: halfWidth', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  const laplaceScales = [0.3, 1, 2, 2.5, 10, 360, 10_000];
  const gaussianSigmas = [0.3, 1, 4.9, 49.9, 50, 120, 1893.4, 20_000];
  const cases = [...laplaceScales.map((s) => noise('laplace', s)), ...gaussianSigmas.map((s) => noise('gaussian', s))];

  for (const confidence of [0.5, 0.95, 0.975, 0.999]) {
    it(`is the smallest t with P(|X| ≤ t) ≥ ${confidence} under the exact pmf`, () => {
      for (const n of cases) {
        const pmf = pmfOf(n);
        const t = halfWidth(n, confidence);
        const label = `${n.mechanism} scale ${n.scale}: t = ${t}`;
        expect(Number.isInteger(t) && t >= 0, label).to.equal(true);
        expect(central(pmf, t), label).to.be.at.least(confidence - 1e-12);
        if (t > 0) expect(central(pmf, t - 1), label).to.be.below(confidence);
      }
    });
  }

  it('calibrate fills halfWidth95; laplace ε = 1, Δ = 1 gives 3 (b·ln 20 ≈ 3.0, privacy.md §4)', () => {
    const n = calibrate({ mechanism: 'laplace', epsilon: 1, delta: 0, sensitivity: 1 });
    expect(n.halfWidth95).to.equal(3).and.equal(halfWidth(n, 0.95));
    const g = calibrate({ mechanism: 'gaussian', epsilon: 1, delta: 1e-5, sensitivity: 1 });
    expect(g.halfWidth95).to.equal(halfWidth(g, 0.95));
  });

  for (const spec of [
    { mechanism: 'laplace' as const, epsilon: 1, delta: 0, sensitivity: 1 },
    { mechanism: 'laplace' as const, epsilon: 0.5, delta: 0, sensitivity: 3 },
    { mechanism: 'gaussian' as const, epsilon: 1, delta: 1e-5, sensitivity: 1 },
  ]) {
    it(`${spec.mechanism} Δ=${spec.sensitivity} ε=${spec.epsilon}: 20,000 noisy draws fall within ±halfWidth95 at 95%`, () => {
      const n = calibrate(spec);
      const rng = seededRandom(`coverage ${JSON.stringify(spec)}`);
      const draws = Array.from({ length: DRAWS }, () => Number(addNoise(1000n, n, rng)) - 1000);
      const within = (t: number): number => draws.filter((x) => Math.abs(x) <= t).length / DRAWS;
      const sd = Math.sqrt((0.95 * 0.05) / DRAWS);
      const pmf = pmfOf(n);
      expect(within(n.halfWidth95))
        .to.be.closeTo(central(pmf, n.halfWidth95), 4 * sd)
        .and.at.least(0.95 - 4 * sd);
      expect(within(n.halfWidth95 - 1))
        .to.be.closeTo(central(pmf, n.halfWidth95 - 1), 4 * sd)
        .and.below(0.95 + 4 * sd);
    });
  }

  it('refuses a confidence outside (0, 1) and a malformed Noise', () => {
    const n = noise('laplace', 1);
    for (const c of [0, 1, -0.5, Number.NaN]) expect(() => halfWidth(n, c)).to.throw(/confidence must be in \(0, 1\)/);
    expect(() => halfWidth({ ...n, scale: -1 }, 0.95)).to.throw(/noise.scale/);
    expect(() => halfWidth({ ...n, mechanism: 'uniform' as never }, 0.95)).to.throw(/mechanism/);
  });
});

describe('privacy: tail formulas', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('erfc matches reference values (A&S tables, to 1e−13 relative)', () => {
    const reference: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [6, 2.1519736712498913e-17],
      [10, 2.088487583762545e-45],
    ];
    for (const [x, value] of reference) expect(erfc(x), `erfc(${x})`).to.be.closeTo(value, 1e-13 * value);
  });

  it('the discrete Gaussian normaliser and tail agree with direct summation on both sides of σ = 50', () => {
    for (const sigma of [0.4, 1, 3, 49.9, 50, 80, 250, 1000]) {
      let z = 1;
      for (let x = 1; x < 60 * sigma + 60; x++) z += 2 * Math.exp((-x * x) / (2 * sigma * sigma));
      expect(discreteGaussianNormaliser(sigma), `Z(${sigma})`).to.be.closeTo(z, 1e-12 * z);
      const pmf = gaussianPmf(sigma * sigma);
      for (const k of [1, Math.ceil(sigma), Math.ceil(3 * sigma), Math.ceil(6 * sigma)]) {
        const exact = upperTail(pmf, k);
        expect(discreteGaussianTail(sigma, k), `σ ${sigma}, k ${k}`).to.be.closeTo(exact, 1e-8 * exact);
      }
    }
  });

  it('the discrete Laplace tail is the closed form e^(−k/b)/(1 + e^(−1/b))', () => {
    for (const b of [0.5, 1, 7, 360]) {
      for (const k of [1, 2, 10, 50]) expect(discreteLaplaceTail(b, k)).to.be.closeTo(upperTail(laplacePmf(b), k), 1e-12);
    }
  });
});

describe('privacy: partitionThreshold', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('is the smallest τ with P(1 + X ≥ τ) ≤ δ/m, checked by summing the pmf', () => {
    for (const n of [noise('laplace', 1), noise('laplace', 4), noise('laplace', 40), noise('gaussian', 4.9), noise('gaussian', 120)]) {
      for (const [delta, m] of [
        [1e-5, 1],
        [1e-6, 1],
        [1e-9, 4],
        [0.05, 1],
      ] as const) {
        const tau = partitionThreshold(n, delta, m);
        const pmf = pmfOf(n);
        const label = `${n.mechanism} ${n.scale}, δ ${delta}, m ${m}: τ = ${tau}`;
        expect(upperTail(pmf, tau - 1), label).to.be.at.most((delta / m) * (1 + 1e-9));
        expect(upperTail(pmf, tau - 2), label).to.be.above(delta / m);
      }
    }
  });

  it('is close to SmartNoise for a count at ε = 1 (τ ≈ 11.8 at δ = 1e−5, 14.1 at δ = 1e−6, privacy.md §1)', () => {
    const count = calibrate({ mechanism: 'laplace', epsilon: 1, delta: 0, sensitivity: 1 });
    expect(partitionThreshold(count, 1e-5, 1)).to.equal(13);
    expect(partitionThreshold(count, 1e-6, 1)).to.equal(15);
  });

  it('a group of one patient passes τ with probability ≤ δ/m in 20,000 seeded trials (δ = 0.05, m = 1 and 4)', () => {
    for (const [mechanism, m] of [
      ['laplace', 1],
      ['laplace', 4],
      ['gaussian', 1],
      ['gaussian', 4],
    ] as const) {
      const n = calibrate({ mechanism, epsilon: 1, delta: 1e-5, sensitivity: m });
      const tau = partitionThreshold(n, 0.05, m);
      const rng = seededRandom(`threshold ${mechanism} ${m}`);
      const counts = Array.from({ length: DRAWS }, () => Number(addNoise(1n, n, rng)));
      const p = 0.05 / m;
      const tolerance = 4 * Math.sqrt((p * (1 - p)) / DRAWS);
      expect(counts.filter((c) => c >= tau).length / DRAWS, `${mechanism} m ${m} τ ${tau}`).to.be.at.most(p + tolerance);
      // One lower and the bound no longer holds: τ is the smallest.
      expect(counts.filter((c) => c >= tau - 1).length / DRAWS, `${mechanism} m ${m} τ − 1`).to.be.above(p - tolerance);
    }
  });

  it('refuses δ outside (0, 1) and a bad group bound', () => {
    const n = noise('laplace', 1);
    for (const d of [0, 1, -1, Number.NaN]) expect(() => partitionThreshold(n, d, 1)).to.throw(/delta must be in \(0, 1\)/);
    for (const m of [0, 1.5, -2]) expect(() => partitionThreshold(n, 1e-6, m)).to.throw(/maxGroupsPerPatient/);
  });
});

describe('privacy: addNoise', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('adds discrete Gaussian noise with σ² the exact square of σ (chi-square against the pmf)', () => {
    const n = calibrate({ mechanism: 'gaussian', epsilon: 1, delta: 1e-5, sensitivity: 1 });
    const rng = seededRandom('addNoise gaussian');
    const draws = Array.from({ length: DRAWS }, () => addNoise(-50n, n, rng) + 50n);
    const fit = chiSquareFit(draws, gaussianPmf(n.scale ** 2));
    expect(fit.statistic).to.be.below(fit.critical);
  });

  it('adds discrete Laplace noise of scale b (chi-square against the pmf)', () => {
    const n = calibrate({ mechanism: 'laplace', epsilon: 0.7, delta: 0, sensitivity: 2 });
    const rng = seededRandom('addNoise laplace');
    const draws = Array.from({ length: DRAWS }, () => addNoise(12_345_678_901_234_567_890n, n, rng) - 12_345_678_901_234_567_890n);
    const fit = chiSquareFit(draws, laplacePmf(n.scale));
    expect(fit.statistic).to.be.below(fit.critical);
  });

  it('refuses a non-bigint value', () => {
    expect(() => addNoise(5 as never, noise('laplace', 1))).to.throw(/bigint/);
  });
});

describe('privacy: meanEstimate and meanInterval', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('computes the estimate and the interval from the formulas, in original units', () => {
    // Values in [10, 190] shifted to [0, 180]: S' = 9000, C' = 100, a = 600, c = 5.
    expect(meanEstimate(9000, 100, 10, 190)).to.equal(100);
    const interval = meanInterval(9000, 100, 600, 5, 10, 190)!;
    expect(interval.low).to.be.closeTo(10 + 8400 / 105, 1e-12);
    expect(interval.high).to.be.closeTo(10 + 9600 / 95, 1e-12);
  });

  it('clamps to the bounds and returns null without enough data', () => {
    expect(meanEstimate(-50, 10, 0, 180)).to.equal(0);
    expect(meanEstimate(5000, 10, 0, 180)).to.equal(180);
    expect(meanEstimate(100, 0, 0, 180)).to.equal(null);
    expect(meanEstimate(100, -3, 0, 180)).to.equal(null);
    expect(meanInterval(-400, 50, 100, 5, 0, 180)).to.deep.equal({ low: 0, high: 0 });
    expect(meanInterval(100_000, 50, 100, 5, 0, 180)).to.deep.equal({ low: 180, high: 180 });
    expect(meanInterval(100, 10, 5, 10, 0, 180), 'C′ − c = 0').to.equal(null);
    expect(meanInterval(100, 10, 5, 12, 0, 180)).to.equal(null);
    expect(() => meanInterval(Number.NaN, 10, 5, 1, 0, 180)).to.throw(/noisySum must be a finite number/);
    expect(() => meanInterval(1, 10, -5, 1, 0, 180)).to.throw(/half-widths/);
    expect(() => meanEstimate(1, 10, 5, 1)).to.throw(/lower \(5\) must not exceed upper \(1\)/);
  });

  // The test: a mean over 10,000 patients, noisy sum and count at ε/2 each, stays inside its stated 95%
  // interval in ≥ 95% of repetitions; the same test with 80% half-widths must fail (so it can).
  for (const mechanism of ['laplace', 'gaussian'] as const) {
    it(`${mechanism}: the mean of 10,000 values in [0, 180] lies in its 95% interval in ≥ 95% of 2,000 releases at ε = 1`, () => {
      const rng = seededRandom(`cohort ${mechanism}`);
      // Arrival-to-thrombolysis-like minutes: a skewed spread, clamped to [0, 180].
      const values = Array.from({ length: 10_000 }, () => Math.min(180, Number(rng.below(60n) + rng.below(60n) + rng.below(90n))));
      const sum = values.reduce((a, b) => a + b, 0);
      const trueMean = sum / values.length;
      const epsilon = 1;
      const delta = 1e-6;
      const sumNoise = calibrate({ mechanism, epsilon: epsilon / 2, delta: delta / 2, sensitivity: 180 });
      const countNoise = calibrate({ mechanism, epsilon: epsilon / 2, delta: delta / 2, sensitivity: 1 });
      const coverage = (confidence: number, releases: [number, number][]): number => {
        const a = halfWidth(sumNoise, confidence);
        const c = halfWidth(countNoise, confidence);
        return releases.filter(([s, n]) => {
          const interval = meanInterval(s, n, a, c, 0, 180);
          return interval !== null && interval.low <= trueMean && trueMean <= interval.high;
        }).length;
      };
      const releases: [number, number][] = Array.from({ length: 2000 }, () => [
        Number(addNoise(BigInt(sum), sumNoise, rng)),
        Number(addNoise(BigInt(values.length), countNoise, rng)),
      ]);
      expect(coverage(0.975, releases) / 2000).to.be.at.least(0.95);
      expect(coverage(0.8, releases) / 2000, 'too narrow an interval must fail the same test').to.be.below(0.95);
      const estimates = releases.map(([s, n]) => meanEstimate(s, n, 0, 180)!);
      expect(estimates.reduce((a, b) => a + b, 0) / estimates.length).to.be.closeTo(trueMean, 0.05);
    });
  }
});
