import { expect } from 'chai';
import { isTestRangeNhsNumber, isValidNhsNumber, NhsNumberAllocator, nhsCheckDigit } from './nhs-number';

describe('nhs-number', () => {
  it('accepts known valid numbers and rejects a wrong check digit', () => {
    expect(isValidNhsNumber('9434765919')).to.equal(true);
    expect(isValidNhsNumber('943 476 5919')).to.equal(true);
    expect(isValidNhsNumber('9434765918')).to.equal(false);
    expect(isValidNhsNumber('4010232137')).to.equal(true);
  });

  it('rejects malformed input', () => {
    for (const bad of ['', '943476591', '94347659190', '94347659a9', '-434765919']) {
      expect(isValidNhsNumber(bad), bad).to.equal(false);
    }
  });

  it('computes the modulus 11 check digit, 11 -> 0 and 10 -> unusable', () => {
    expect(nhsCheckDigit('943476591')).to.equal(9);
    // 999000001: 9*10+9*9+9*8+1*2 = 245, 245 mod 11 = 3, 11-3 = 8
    expect(nhsCheckDigit('999000001')).to.equal(8);
    // find one 11 -> 0 case and one unusable case by brute force, and check them by hand-rolled arithmetic
    const sum = (s: string): number => [...s].reduce((a, d, i) => a + Number(d) * (10 - i), 0);
    const firstWith = (remainder: number): string => {
      for (let n = 999000000; ; n++) if (sum(String(n)) % 11 === remainder) return String(n);
    };
    expect(nhsCheckDigit(firstWith(0))).to.equal(0);
    expect(nhsCheckDigit(firstWith(1))).to.equal(null);
    expect(isValidNhsNumber(`${firstWith(1)}0`)).to.equal(false);
    expect(() => nhsCheckDigit('12345678')).to.throw();
  });

  it('allocates distinct valid numbers in the 999 test range, in disjoint blocks per domain', () => {
    const seen = new Set<string>();
    for (const block of [0, 1, 2]) {
      const allocator = new NhsNumberAllocator(block);
      for (let i = 0; i < 1000; i++) {
        const n = allocator.next();
        if (!isTestRangeNhsNumber(n) || n[3] !== String(block + 1) || seen.has(n)) expect.fail(`bad or repeated ${n}`);
        seen.add(n);
      }
    }
  });

  it('is deterministic and does not hand out consecutive numbers', () => {
    const a = new NhsNumberAllocator(0);
    const b = new NhsNumberAllocator(0);
    const first = [a.next(), a.next(), a.next()];
    expect([b.next(), b.next(), b.next()]).to.deep.equal(first);
    expect(Math.abs(Number(first[1]) - Number(first[0]))).to.be.greaterThan(100);
  });

  it('refuses blocks outside the 999 range', () => {
    expect(() => new NhsNumberAllocator(9)).to.throw();
    expect(() => new NhsNumberAllocator(-1)).to.throw();
  });
});
