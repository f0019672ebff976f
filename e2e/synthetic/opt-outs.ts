// National data opt-out (NDOP): a person's choice, held nationally against the NHS number, that their
// confidential data is not used for research or planning. Modelled as an R4 Consent (provision deny for
// those purposes) in EVERY domain that holds a record for that NHS number, so the mesh must honour it
// whichever trust the data comes from.

import type { SharedPatient } from './cross-trust';
import { hashInt, hashOrder } from './deterministic';
import { addResource, type DomainRecords, homePatients, nhsNumberOf, ofType } from './domain-records';
import { LOINC, type Resource, refKey } from './fhir';

export const NDOP_POLICY_URI = 'https://digital.nhs.uk/services/national-data-opt-out/operational-policy-guidance-document';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/** The opt-out covers research and planning; planning is closest to v3 "healthcare operations". */
export const NDOP_PURPOSES = [
  { system: ACT_REASON, code: 'HRESCH', display: 'healthcare research' },
  { system: ACT_REASON, code: 'HOPERAT', display: 'healthcare operations' },
] as const;
const NDOP_LAUNCH = Date.UTC(2018, 4, 25); // the opt-out service opened on 25 May 2018

export interface OptOut {
  nhsNumber: string;
  dateTime: string;
  /** Domains holding a record (and so a Consent) for this person. */
  domains: string[];
}

export interface OptOutDraw {
  /** Share of each domain's own patients (of this draw's population) who opted out (~0.08). */
  readonly fraction: number;
  /** Of those, at least this many are patients shared with another trust (when there are any). */
  readonly sharedPerDomain: number;
  /**
   * The population this draw decides for (default: everyone). Separate populations get separate draws,
   * so adding one (the stroke cohort) leaves the others' opt-outs as they were.
   */
  readonly eligible?: (nhsNumber: string) => boolean;
  /** Salt of the draw's stable shuffle; the default keeps the original draw. */
  readonly salt?: string;
}

/** NHS numbers that opted out: per domain, a share of its own (home) patients, shared patients first. */
export function chooseOptOuts(all: readonly DomainRecords[], shared: readonly SharedPatient[], draw: OptOutDraw): string[] {
  const chosen: string[] = [];
  const eligible = draw.eligible ?? (() => true);
  for (const records of all) {
    const numbers = homePatients(records)
      .map(nhsNumberOf)
      .filter((n) => eligible(n));
    if (numbers.length === 0) continue;
    const count = Math.max(1, Math.round(draw.fraction * numbers.length));
    const sharedHere = new Set(shared.filter((s) => s.home.domain === records.domain.id).map((s) => s.nhsNumber));
    const salt = `${draw.salt ?? 'ndop'}-${records.domain.id}`;
    const sharedFirst = hashOrder(
      numbers.filter((n) => sharedHere.has(n)),
      (n) => n,
      salt,
    ).slice(0, draw.sharedPerDomain);
    const rest = hashOrder(
      numbers.filter((n) => !sharedFirst.includes(n)),
      (n) => n,
      salt,
    );
    chosen.push(...[...sharedFirst, ...rest].slice(0, count));
  }
  return chosen;
}

/**
 * Records the chosen opt-outs: a Consent in EVERY domain holding a Patient with that NHS number (home or
 * visiting record), all with the same date.
 * @param referenceDate latest possible opt-out date (YYYY-MM-DD): the data's reference date.
 */
export function recordOptOuts(all: readonly DomainRecords[], chosenNhsNumbers: Iterable<string>, referenceDate: string): OptOut[] {
  const chosen = new Set(chosenNhsNumbers);
  const optOuts = new Map<string, OptOut>();
  for (const records of all) {
    for (const patient of ofType(records, 'Patient')) {
      const nhsNumber = nhsNumberOf(patient);
      if (!chosen.has(nhsNumber)) continue;
      const optOut = optOuts.get(nhsNumber) ?? { nhsNumber, dateTime: optOutDate(nhsNumber, referenceDate), domains: [] };
      optOut.domains.push(records.domain.id);
      optOuts.set(nhsNumber, optOut);
      addResource(records, ndopConsent(patient, optOut.dateTime));
    }
  }
  return [...optOuts.values()].sort((a, b) => (a.nhsNumber < b.nhsNumber ? -1 : 1));
}

/** Same date in every domain: it is one national record. */
function optOutDate(nhsNumber: string, referenceDate: string): string {
  const end = Date.parse(`${referenceDate}T00:00:00Z`);
  const days = Math.floor((end - NDOP_LAUNCH) / 86_400_000);
  const at = new Date(NDOP_LAUNCH + (hashInt('ndop-day', nhsNumber) % days) * 86_400_000 + (hashInt('ndop-minute', nhsNumber) % 1440) * 60_000);
  return at.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function ndopConsent(patient: Resource, dateTime: string): Resource {
  return {
    resourceType: 'Consent',
    id: `${patient.id}-ndop`,
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }],
    },
    category: [{ coding: [{ system: LOINC, code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: refKey(patient) },
    dateTime,
    policy: [{ uri: NDOP_POLICY_URI }],
    provision: {
      type: 'deny',
      period: { start: dateTime },
      purpose: NDOP_PURPOSES.map((p) => ({ ...p })),
    },
  };
}
