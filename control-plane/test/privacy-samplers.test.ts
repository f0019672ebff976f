// The exact samplers against the distributions they claim (CKS 2020): chi-square goodness of fit with fixed
// seeds, with a deliberately wrong distribution that must fail the same test, and the uniform source under them.
import { expect } from 'chai';
import { type Rational, rational, sampleBernoulli, sampleBernoulliExp, sampleDiscreteGaussian, sampleDiscreteLaplace } from '../src/privacy/discrete-samplers';
import { bitLength, cryptoRandom, type RandomSource, seededRandom } from '../src/privacy/random-source';
import { chiSquareFit, chiSquareQuantile, gaussianPmf, laplacePmf, pmfMoments, sampleMoments } from './privacy-statistics';

const DRAWS = 20_000;

function draw(n: number, sample: () => bigint): bigint[] {
  return Array.from({ length: n }, sample);
}

/** Pearson's chi-square of draws from below(n) against the uniform distribution on [0, n). */
function uniformChiSquare(rng: RandomSource, n: number, draws: number): number {
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) counts[Number(rng.below(BigInt(n)))]!++;
  const expected = draws / n;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('privacy: the chi-square helper', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('gives the tabulated 0.999 quantiles', () => {
    // Pearson & Hartley's table, also NIST/SEMATECH e-Handbook §1.3.6.7.4.
    const table: [number, number][] = [
      [1, 10.828],
      [5, 20.515],
      [10, 29.588],
      [20, 45.315],
      [50, 86.661],
      [100, 149.449],
    ];
    for (const [df, q] of table) expect(chiSquareQuantile(0.999, df), `df ${df}`).to.be.closeTo(q, 0.001);
  });
});

describe('privacy: random sources', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('seededRandom is reproducible and differs between seeds', () => {
    const a = draw(50, () => seededRandom('alpha').below(1n << 64n));
    const again = draw(50, () => seededRandom('alpha').below(1n << 64n));
    expect(again).to.deep.equal(a);
    const one = seededRandom('alpha');
    const two = seededRandom('beta');
    const fromOne = draw(20, () => one.below(1_000_000n));
    const fromTwo = draw(20, () => two.below(1_000_000n));
    expect(fromOne).to.not.deep.equal(fromTwo);
  });

  it('rejects n < 1 and returns 0 for n = 1', () => {
    expect(() => cryptoRandom.below(0n)).to.throw(/n ≥ 1/);
    expect(() => cryptoRandom.below(-5n)).to.throw(/n ≥ 1/);
    expect(cryptoRandom.below(1n)).to.equal(0n);
  });

  it('cryptoRandom.below(10) is uniform (chi-square, 60,000 draws)', () => {
    // Unseeded, so the bar is the 1 − 1e−6 quantile: a false alarm once in a million runs.
    const statistic = uniformChiSquare(cryptoRandom, 10, 60_000);
    expect(statistic).to.be.below(chiSquareQuantile(1 - 1e-6, 9));
  });

  it('below(257), just above 2^8, reaches every value uniformly, 256 included', () => {
    // A bit length off by one would never return 256; a wrong mask would skew the top half.
    for (const rng of [seededRandom('257'), cryptoRandom]) {
      const statistic = uniformChiSquare(rng, 257, 60_000);
      expect(statistic).to.be.below(chiSquareQuantile(1 - 1e-6, 256));
    }
  });

  it('below(2^63 + 2^62) has no modulo bias, and a modulo-reduced draw fails the same check', () => {
    const n = (1n << 63n) + (1n << 62n);
    const third = n / 3n;
    const draws = 30_000;
    // Reducing 64 random bits mod n folds [n, 2^64) onto [0, n/3): that third would be drawn half the time.
    const bytes = seededRandom('modulo');
    const moduloReduced = (): bigint => bytes.below(1n << 64n) % n;
    const fractionBelowThird = (sample: () => bigint): number => draw(draws, sample).filter((x) => x < third).length / draws;
    const tolerance = 5 * Math.sqrt((1 / 3) * (2 / 3) * (1 / draws));
    for (const rng of [seededRandom('no modulo bias'), cryptoRandom]) {
      const values = draw(draws, () => rng.below(n));
      expect(values.every((x) => x >= 0n && x < n)).to.equal(true);
      expect(values.filter((x) => x < third).length / draws).to.be.closeTo(1 / 3, tolerance);
    }
    expect(fractionBelowThird(moduloReduced)).to.not.be.closeTo(1 / 3, tolerance);
  });

  it('bitLength counts bits', () => {
    expect([0n, 1n, 2n, 255n, 256n, (1n << 100n) - 1n, 1n << 100n].map(bitLength)).to.deep.equal([0, 1, 2, 8, 9, 100, 101]);
  });
});

describe('privacy: rational(x)', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  it('converts doubles exactly', () => {
    expect(rational(2.5)).to.deep.equal({ num: 5n, den: 2n });
    expect(rational(360)).to.deep.equal({ num: 360n, den: 1n });
    expect(rational(0.1)).to.deep.equal({ num: 3602879701896397n, den: 1n << 55n });
    expect(rational(5e-324)).to.deep.equal({ num: 1n, den: 1n << 1074n });
    expect(rational(2 ** 70)).to.deep.equal({ num: 1n << 70n, den: 1n });
    for (const x of [4.900555168632873, 1 / 3, 1e300, 123456.789]) {
      const r = rational(x);
      // Exact: both parts are doubles exactly, the quotient is x, and the fraction is in lowest terms.
      expect(Number(r.num) / Number(r.den), String(x)).to.equal(x);
      expect(r.den & (r.den - 1n), 'a power of two').to.equal(0n);
      expect(r.den === 1n || r.num % 2n === 1n, 'reduced').to.equal(true);
    }
  });

  it('refuses NaN, infinities, zero and negatives by name', () => {
    for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, -1]) {
      expect(() => rational(x), String(x)).to.throw(RangeError, /finite number > 0/);
    }
  });
});

describe('privacy: Bernoulli samplers', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  const rng = seededRandom('bernoulli');

  it('Bernoulli(exp(−γ)) has frequency exp(−γ) for γ = 0, 1/3, 1, 2.5, 7', () => {
    const gammas: Rational[] = [
      { num: 0n, den: 1n },
      { num: 1n, den: 3n },
      { num: 1n, den: 1n },
      { num: 5n, den: 2n },
      { num: 7n, den: 1n },
    ];
    for (const gamma of gammas) {
      const p = Math.exp(-Number(gamma.num) / Number(gamma.den));
      let hits = 0;
      for (let i = 0; i < DRAWS; i++) if (sampleBernoulliExp(gamma, rng)) hits++;
      const sd = Math.sqrt((p * (1 - p)) / DRAWS);
      expect(hits / DRAWS, `γ = ${gamma.num}/${gamma.den}`).to.be.closeTo(p, Math.max(4 * sd, 1e-12));
    }
  });

  it('Bernoulli(3/7) has frequency 3/7; bad parameters are refused', () => {
    let hits = 0;
    for (let i = 0; i < DRAWS; i++) if (sampleBernoulli({ num: 3n, den: 7n }, rng)) hits++;
    expect(hits / DRAWS).to.be.closeTo(3 / 7, 4 * Math.sqrt(((3 / 7) * (4 / 7)) / DRAWS));
    expect(() => sampleBernoulli({ num: 8n, den: 7n }, rng)).to.throw(/at most 1/);
    expect(() => sampleBernoulliExp({ num: -1n, den: 2n }, rng)).to.throw(/gamma must be ≥ 0/);
    expect(() => sampleBernoulliExp({ num: 1n, den: 0n }, rng)).to.throw(/denominator/);
  });
});

describe('privacy: discrete Laplace sampler (CKS Algorithm 2)', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  for (const scale of [1, 2.5, 10]) {
    it(`scale ${scale}: fits the exact pmf, mean 0, variance 2q/(1 − q)²; scale × 1.3 fails the fit`, () => {
      const rng = seededRandom(`laplace ${scale}`);
      const samples = draw(DRAWS, () => sampleDiscreteLaplace(rational(scale), rng));
      const pmf = laplacePmf(scale);
      const fit = chiSquareFit(samples, pmf);
      expect(fit.statistic, `χ² with ${fit.degreesOfFreedom} df`).to.be.below(fit.critical);

      const q = Math.exp(-1 / scale);
      const variance = (2 * q) / (1 - q) ** 2;
      const { fourth } = pmfMoments(pmf);
      expect(pmfMoments(pmf).variance).to.be.closeTo(variance, 1e-9 * variance);
      const moments = sampleMoments(samples);
      expect(moments.mean).to.be.closeTo(0, 4 * Math.sqrt(variance / DRAWS));
      expect(moments.variance).to.be.closeTo(variance, 5 * Math.sqrt((fourth - variance ** 2) / DRAWS));

      const wrong = draw(DRAWS, () => sampleDiscreteLaplace(rational(scale * 1.3), rng));
      const wrongFit = chiSquareFit(wrong, pmf);
      expect(wrongFit.statistic, 'the test must reject a wider distribution').to.be.above(wrongFit.critical);
    });
  }

  it('refuses a zero scale', () => {
    expect(() => sampleDiscreteLaplace({ num: 0n, den: 1n }, cryptoRandom)).to.throw(/scale must be > 0/);
  });
});

describe('privacy: discrete Gaussian sampler (CKS Algorithm 3)', function () {
  this.timeout(120_000); // statistical runs: seconds on a loaded machine
  for (const sigmaSquared of [1, 10, 100]) {
    it(`σ² = ${sigmaSquared}: fits the exact pmf, mean 0, variance ≈ σ²; σ² × 1.3 fails the fit`, () => {
      const rng = seededRandom(`gaussian ${sigmaSquared}`);
      const s2: Rational = { num: BigInt(sigmaSquared), den: 1n };
      const samples = draw(DRAWS, () => sampleDiscreteGaussian(s2, rng));
      const pmf = gaussianPmf(sigmaSquared);
      const fit = chiSquareFit(samples, pmf);
      expect(fit.statistic, `χ² with ${fit.degreesOfFreedom} df`).to.be.below(fit.critical);

      // The discrete Gaussian's variance is slightly below σ² (CKS Corollary 9), computed here from the pmf.
      const { variance, fourth } = pmfMoments(pmf);
      expect(variance)
        .to.be.at.most(sigmaSquared * (1 + 1e-12))
        .and.closeTo(sigmaSquared, 0.01 * sigmaSquared + 0.1);
      const moments = sampleMoments(samples);
      expect(moments.mean).to.be.closeTo(0, 4 * Math.sqrt(variance / DRAWS));
      expect(moments.variance).to.be.closeTo(variance, 5 * Math.sqrt((fourth - variance ** 2) / DRAWS));

      const wrong = draw(DRAWS, () => sampleDiscreteGaussian({ num: BigInt(sigmaSquared * 13), den: 10n }, rng));
      const wrongFit = chiSquareFit(wrong, pmf);
      expect(wrongFit.statistic, 'the test must reject a wider distribution').to.be.above(wrongFit.critical);
    });
  }

  it('takes a non-integer σ² exactly (σ² = 49/4)', () => {
    const rng = seededRandom('gaussian 49/4');
    const samples = draw(DRAWS, () => sampleDiscreteGaussian({ num: 49n, den: 4n }, rng));
    const fit = chiSquareFit(samples, gaussianPmf(12.25));
    expect(fit.statistic).to.be.below(fit.critical);
  });
});
