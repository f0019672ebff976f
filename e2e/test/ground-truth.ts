// Test support: the generated NDJSON is the ground truth every e2e assertion is computed from.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOMAINS, DomainSpec, paths } from '../runtime/topology';

export type Resource = { resourceType: string; id: string } & Record<string, unknown>;

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export function resourceTypes(domain: DomainSpec): string[] {
  return fs
    .readdirSync(path.join(paths.synthetic, domain.id))
    .filter((f) => f.endsWith('.ndjson'))
    .map((f) => f.replace(/\.ndjson$/, ''))
    .sort();
}

export function readResources(domain: DomainSpec, resourceType: string): Resource[] {
  const file = path.join(paths.synthetic, domain.id, `${resourceType}.ndjson`);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Resource);
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

/**
 * National data opt-out policy, written here rather than imported from the generator so that a change
 * there shows up as a disagreement with the manifest instead of passing silently.
 */
export const NDOP_POLICY_URI = 'https://digital.nhs.uk/services/national-data-opt-out/operational-policy-guidance-document';

export interface OptOuts {
  /** NHS numbers with a national data opt-out in force at any trust. */
  nhsNumbers: Set<string>;
  /**
   * Domain id -> ids of that trust's patients whose NHS number is opted out. The opt-out is national, so a
   * trust's patient is in here even when only another trust holds the Consent.
   */
  patientIds: Map<string, Set<string>>;
}

export interface DomainConsentRecords {
  domain: string;
  consents: readonly Resource[];
  patients: readonly Resource[];
}

function instantMs(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new Error(`${what}: ${JSON.stringify(value)} is not a date`);
  return ms;
}

/**
 * Whether a Consent is a national data opt-out in force at `at`: active, provision deny, NDOP policy, `at`
 * inside provision.period; with `purpose`, only if the provision lists that purpose code.
 */
export function isNdopOptOut(consent: Resource, at: Date, purpose?: string): boolean {
  const policies = (consent.policy ?? []) as { uri?: string }[];
  const provision = (consent.provision ?? {}) as { type?: string; period?: { start?: string; end?: string }; purpose?: { code?: string }[] };
  if (consent.status !== 'active' || provision.type !== 'deny' || !policies.some((p) => p.uri === NDOP_POLICY_URI)) return false;
  if (purpose !== undefined && !(provision.purpose ?? []).some((p) => p.code === purpose)) return false;
  const { start, end } = provision.period ?? {};
  if (start !== undefined && instantMs(start, `Consent/${consent.id} provision.period.start`) > at.getTime()) return false;
  if (end !== undefined && instantMs(end, `Consent/${consent.id} provision.period.end`) < at.getTime()) return false;
  return true;
}

/** The opted-out set from each domain's Consents and Patients (pure; `optedOut` reads them from the NDJSON). */
export function optOutsOf(records: readonly DomainConsentRecords[], options: { at?: Date; purpose?: string } = {}): OptOuts {
  const at = options.at ?? new Date();
  const nhsNumbers = new Set<string>();
  for (const { domain, consents, patients } of records) {
    const byId = new Map(patients.map((p) => [p.id, p]));
    for (const consent of consents.filter((c) => isNdopOptOut(c, at, options.purpose))) {
      const reference = (consent.patient as { reference?: string } | undefined)?.reference ?? '';
      const id = /^Patient\/([^/]+)$/.exec(reference)?.[1];
      const patient = id === undefined ? undefined : byId.get(id);
      const nhsNumber = patient && nhsNumberOf(patient);
      if (!nhsNumber) throw new Error(`${domain}: Consent/${consent.id} refers to ${JSON.stringify(reference)}, not a patient with an NHS number there`);
      nhsNumbers.add(nhsNumber);
    }
  }
  const patientIds = new Map(
    records.map(({ domain, patients }) => [domain, new Set(patients.filter((p) => nhsNumbers.has(nhsNumberOf(p) ?? '')).map((p) => p.id))]),
  );
  return { nhsNumbers, patientIds };
}

/** Opted-out NHS numbers and, per domain, patient ids, from the NDJSON's Consent and Patient files. */
export function optedOut(options: { at?: Date; purpose?: string } = {}): OptOuts {
  return optOutsOf(
    DOMAINS.map((d) => ({ domain: d.id, consents: readResources(d, 'Consent'), patients: readResources(d, 'Patient') })),
    options,
  );
}
