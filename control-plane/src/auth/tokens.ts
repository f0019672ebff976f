import { createHash, randomBytes } from 'node:crypto';

/** API tokens are random, shown once, and stored only as their SHA-256. */
export function newToken(): string {
  return `mesh_${randomBytes(24).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
