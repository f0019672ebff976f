// Test support: the generated NDJSON is the ground truth every e2e assertion is computed from.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DomainSpec, paths } from '../runtime/topology';

export type Resource = { resourceType: string; id: string } & Record<string, unknown>;

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export function resourceTypes(domain: DomainSpec): string[] {
  return fs.readdirSync(path.join(paths.synthetic, domain.id))
    .filter((f) => f.endsWith('.ndjson'))
    .map((f) => f.replace(/\.ndjson$/, ''))
    .sort();
}

export function readResources(domain: DomainSpec, resourceType: string): Resource[] {
  const file = path.join(paths.synthetic, domain.id, `${resourceType}.ndjson`);
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Resource);
}

export function nhsNumberOf(patient: Resource): string | undefined {
  const identifiers = (patient.identifier ?? []) as { system?: string; value?: string }[];
  return identifiers.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
}

/**
 * NHS number check digit, written here independently of the generator so that a bug there cannot
 * hide itself: weights 10..2 over the first nine digits, check = 11 - (sum mod 11), 11 -> 0, 10 invalid.
 */
export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  const digits = [...value].map(Number);
  const sum = digits.slice(0, 9).reduce((acc, d, i) => acc + d * (10 - i), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === digits[9];
}

export function securityCodes(resource: Resource): string[] {
  const meta = (resource.meta ?? {}) as { security?: { system?: string; code?: string }[] };
  return (meta.security ?? []).map((s) => `${s.system}|${s.code}`);
}
