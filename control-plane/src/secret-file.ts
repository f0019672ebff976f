// Secrets the control plane reads by reference (a password, a CA certificate): read when used, so a
// rotated file takes effect without a restart; errors name the file and what it is, never its content.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function readSecretFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read ${what} from ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A 32-byte key the control plane keeps to itself, created (0600, in a 0700 folder) on first use. */
export function loadOrCreateKey(keyFile: string, what: string): Buffer {
  fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  try {
    // 'wx': never overwrite a key another process created first.
    fs.writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const hex = fs.readFileSync(keyFile, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${what} ${keyFile} must hold 64 hex digits`);
  return Buffer.from(hex, 'hex');
}
