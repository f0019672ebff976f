// Uniform random integers for the exact noise samplers. Every draw is a rejection sample over whole bytes,
// so no value is more likely than another (a modulo reduction would favour small values, Mironov 2012-style
// leaks start with exactly such biases).
import { createCipheriv, createHash, randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** A uniform integer in [0, n), n ≥ 1. */
  below(n: bigint): bigint;
}

/**
 * Uniform integers from a stream of random bytes: draw the fewest bytes that cover n − 1, mask the top byte to
 * its bit length, and reject values ≥ n (rejection sampling, Knuth TAOCP vol. 2 §3.4.1): every value in [0, n)
 * has probability exactly 1/n, and fewer than two draws are needed on average.
 */
class ByteStreamRandom implements RandomSource {
  private pool: Buffer;
  private used: number;

  constructor(
    private readonly refill: (into: Buffer) => void,
    poolSize: number,
  ) {
    this.pool = Buffer.alloc(poolSize);
    this.used = poolSize;
  }

  below(n: bigint): bigint {
    if (typeof n !== 'bigint' || n < 1n) throw new RangeError(`below(n) needs an integer n ≥ 1, got ${String(n)}`);
    if (n === 1n) return 0n;
    const bits = bitLength(n - 1n);
    const bytes = Math.ceil(bits / 8);
    const topMask = 0xff >> (bytes * 8 - bits);
    for (;;) {
      const value = this.read(bytes, topMask);
      if (value < n) return value;
    }
  }

  /** A big-endian integer of `bytes` fresh bytes, the first masked with `topMask`. */
  private read(bytes: number, topMask: number): bigint {
    if (this.used + bytes > this.pool.length) {
      if (bytes > this.pool.length) this.pool = Buffer.alloc(bytes);
      this.refill(this.pool);
      this.used = 0;
    }
    const start = this.used;
    this.used += bytes;
    if (bytes <= 6) {
      let value = this.pool[start]! & topMask;
      for (let i = 1; i < bytes; i++) value = value * 256 + this.pool[start + i]!;
      return BigInt(value);
    }
    const hex = this.pool.toString('hex', start, start + bytes);
    const top = (this.pool[start]! & topMask).toString(16).padStart(2, '0');
    return BigInt(`0x${top}${hex.slice(2)}`);
  }
}

/** Number of bits of a non-negative bigint (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0n) throw new RangeError('bitLength of a negative number');
  if (x === 0n) return 0;
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0]!, 16)));
}

/**
 * The platform's random source: node:crypto's CSPRNG (OpenSSL's RAND_bytes), buffered 4 KiB at a time.
 * DP noise must come from a cryptographic generator: a predictable generator lets the noise be subtracted.
 */
export const cryptoRandom: RandomSource = new ByteStreamRandom((into) => randomFillSync(into), 4096);

/**
 * A deterministic source for tests only (reproducible statistical tests): the AES-256-CTR keystream under
 * key SHA-256(seed) with a zero counter block, i.e. a CTR-mode DRBG in the style of NIST SP 800-90A without
 * reseeding. Never use it for released noise: anyone who knows the seed knows the noise.
 */
export function seededRandom(seed: string): RandomSource {
  const key = createHash('sha256').update(`fhir-mesh seeded random\0${seed}`, 'utf8').digest();
  const keystream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(65536);
  return new ByteStreamRandom((into) => {
    keystream.update(zeros.subarray(0, into.length)).copy(into);
  }, 65536);
}
