// Seeded choices without Math.random: every "random" decision in the post-processing is a hash of
// stable keys (domain id, Synthea id, NHS number...), so the same inputs give byte-identical output.
import { createHash } from 'node:crypto';

/** Hex sha256 of a string (also used for file digests in the manifest). */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Unsigned 48-bit integer derived from the keys: plenty for picks and fractions, exact in a JS number. */
export function hashInt(...keys: readonly (string | number)[]): number {
  return parseInt(sha256Hex(keys.join('\u001f')).slice(0, 12), 16);
}

/** Uniform-looking number in [0, 1) derived from the keys. */
export function hashFraction(...keys: readonly (string | number)[]): number {
  return hashInt(...keys) / 2 ** 48;
}

/** UUID-shaped id (8-4-4-4-12 hex) derived from the keys: made-up resources get ids shaped like Synthea's. */
export function hashUuid(...keys: readonly (string | number)[]): string {
  const h = sha256Hex(keys.join('\u001f'));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One element of a non-empty list, chosen by the keys. */
export function pick<T>(list: readonly T[], ...keys: readonly (string | number)[]): T {
  if (list.length === 0) throw new Error('pick from an empty list');
  return list[hashInt(...keys) % list.length] as T;
}

/** The list ordered by the hash of (salt, key(item)): a stable shuffle, used to take "the first N at random". */
export function hashOrder<T>(list: readonly T[], key: (item: T) => string, salt: string): T[] {
  return [...list]
    .map((item) => ({ item, rank: sha256Hex(`${salt}\u001f${key(item)}`) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .map((x) => x.item);
}

/** Allocates distinct numbers of a fixed width: first try derived from the key, then probe upwards. */
export class UniqueNumberAllocator {
  private readonly used = new Set<string>();
  constructor(
    private readonly digits: number,
    private readonly salt: string,
  ) {}

  next(key: string): string {
    const modulus = 10 ** this.digits;
    const floor = 10 ** (this.digits - 1); // no leading zero: identifiers are often stored as numbers
    let n = floor + (hashInt(this.salt, key) % (modulus - floor));
    for (;;) {
      const text = String(n);
      if (!this.used.has(text)) {
        this.used.add(text);
        return text;
      }
      n = n + 1 >= modulus ? floor : n + 1;
    }
  }
}

/** Deterministic code-point string comparison (localeCompare depends on ICU data). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
