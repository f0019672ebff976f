// Secrets the control plane reads by reference (a password, a CA certificate): read when used, so a
// rotated file takes effect without a restart; errors name the file and what it is, never its content.
import * as fs from 'node:fs';

export function readSecretFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read ${what} from ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
