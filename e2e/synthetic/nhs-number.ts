// NHS numbers for synthetic patients: 10 digits, modulus-11 check digit, and always in the
// 999 000 000x range that NHS England reserves for test data, so they can never be a real person's.

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Check digit for the first nine digits, or null when the remainder makes the number unusable (10). */
export function nhsCheckDigit(firstNine: string): number | null {
  if (!/^\d{9}$/.test(firstNine)) throw new Error(`expected 9 digits, got "${firstNine}"`);
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i); // weights 10..2
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

export function isValidNhsNumber(value: string): boolean {
  const digits = value.replace(/\s/g, '');
  if (!/^\d{10}$/.test(digits)) return false;
  const check = nhsCheckDigit(digits.slice(0, 9));
  return check !== null && check === Number(digits[9]);
}

export function isTestRangeNhsNumber(value: string): boolean {
  return /^999\d{7}$/.test(value) && isValidNhsNumber(value);
}

const BLOCK_SIZE = 100_000; // numbers 999 B xxxxx: one block of 100k per domain, 9 domains at most
const SCRAMBLE = 38_261; // odd and not a multiple of 5, so k -> k*SCRAMBLE mod 100000 is a bijection

/**
 * Hands out distinct, valid, test-range NHS numbers for one domain (blockIndex = domain position).
 * Blocks never overlap, so numbers are unique across domains; the multiplication only makes
 * consecutive patients not look sequential.
 */
export class NhsNumberAllocator {
  private k = 0;
  constructor(private readonly blockIndex: number) {
    if (!Number.isInteger(blockIndex) || blockIndex < 0 || blockIndex > 8) {
      throw new Error(`NHS number block must be 0..8, got ${blockIndex}`);
    }
  }

  next(): string {
    while (this.k < BLOCK_SIZE) {
      const offset = (this.k * SCRAMBLE) % BLOCK_SIZE;
      this.k++;
      const firstNine = String(999_000_000 + (this.blockIndex + 1) * BLOCK_SIZE + offset);
      const check = nhsCheckDigit(firstNine);
      if (check !== null) return firstNine + String(check);
    }
    throw new Error(`NHS number block ${this.blockIndex} exhausted`);
  }
}
