// What an analyst researching in one project should see through the gateway, computed from the NDJSON
// alone (not from the gateway's policy code, so a bug there shows up as a disagreement), and a scanner
// for the direct identifiers that must never reach an analyst.
import { DOMAINS } from '../../runtime/topology';
import { nhsNumberOf, optedOut, type Resource, readResources } from '../ground-truth';

/** Labels no research query sees: V (very restricted) always; PSY, HIV and SDV are not allowed for research. */
export const RESEARCH_EXCLUDED_LABELS: readonly string[] = ['V', 'PSY', 'HIV', 'SDV'];

export interface PatientRecord {
  /** The domain's ODS code, as the connector's `domain` column shows it. */
  domain: string;
  id: string;
  nhsNumber?: string;
  gender?: string;
  birthDate?: string;
  homePostcode?: string;
  labels: string[];
  resource: Resource;
}

export type VisiblePatient = PatientRecord & { nhsNumber: string };

export interface LinkedRecord {
  domain: string;
  id: string;
  /** The patient the resource is about, in the same domain (undefined when the reference resolves to none). */
  patient?: PatientRecord;
  labels: string[];
  resource: Resource;
}

/** The codes of a resource's meta.security (the connector's security_labels column). */
export function labelsOf(resource: Resource): string[] {
  const meta = (resource.meta ?? {}) as { security?: { code?: string }[] };
  return (meta.security ?? []).flatMap((s) => (s.code ? [s.code] : []));
}

function odsCode(domainId: string): string {
  return DOMAINS.find((d) => d.id === domainId)!.odsCode;
}

export function patientRecords(): PatientRecord[] {
  return DOMAINS.flatMap((d) =>
    readResources(d, 'Patient').map((p) => {
      const addresses = (p.address ?? []) as { use?: string; postalCode?: string }[];
      return {
        domain: odsCode(d.id),
        id: p.id,
        nhsNumber: nhsNumberOf(p),
        gender: p.gender as string | undefined,
        birthDate: p.birthDate as string | undefined,
        homePostcode: addresses.find((a) => a.use === 'home')?.postalCode,
        labels: labelsOf(p),
        resource: p,
      };
    }),
  );
}

/** Every resource of a type with the patient it is about (`subject`), in its own domain. */
export function linkedRecords(resourceType: string, patients: readonly PatientRecord[]): LinkedRecord[] {
  const byKey = new Map(patients.map((p) => [`${p.domain} ${p.id}`, p]));
  return DOMAINS.flatMap((d) =>
    readResources(d, resourceType).map((r) => {
      const patientId = /^Patient\/(.+)$/.exec((r.subject as { reference?: string } | undefined)?.reference ?? '')?.[1];
      const domain = odsCode(d.id);
      return { domain, id: r.id, patient: byKey.get(`${domain} ${patientId}`), labels: labelsOf(r), resource: r };
    }),
  );
}

/** Which patients and resources a research query may see, and which it may not. */
export class ResearchView {
  readonly patients = patientRecords();
  readonly optedOutNhsNumbers = optedOut().nhsNumbers;

  restricted(labels: readonly string[]): boolean {
    return labels.some((l) => RESEARCH_EXCLUDED_LABELS.includes(l));
  }

  /** A patient record is visible when it has an NHS number (opt-outs are checked by it), no opt-out and no restricted label. */
  patientVisible(p: PatientRecord | undefined): p is VisiblePatient {
    return p?.nhsNumber !== undefined && !this.optedOutNhsNumbers.has(p.nhsNumber) && !this.restricted(p.labels);
  }

  visiblePatients(): VisiblePatient[] {
    return this.patients.filter((p) => this.patientVisible(p));
  }

  /** Resources of a patient-linked type research may see: unrestricted, about a visible patient. */
  visible(resourceType: string): (LinkedRecord & { patient: VisiblePatient })[] {
    return linkedRecords(resourceType, this.patients).filter(
      (r): r is LinkedRecord & { patient: VisiblePatient } => !this.restricted(r.labels) && this.patientVisible(r.patient),
    );
  }
}

/** 1 January of the birth year, as the policy form generalises a date of birth. */
export function birthYearDate(birthDate: string | undefined): string | null {
  return birthDate === undefined ? null : `${birthDate.slice(0, 4)}-01-01`;
}

/** The postcode district: the outward code, before the space of a well-formed UK postcode. */
export function postcodeDistrict(postcode: string | undefined): string | null {
  return postcode === undefined ? null : postcode.trim().split(/\s+/)[0]!.toUpperCase();
}

/**
 * Finds direct identifiers of any patient in result cells: NHS numbers (also spaced 3-3-4), family and
 * given names (whole words, case as written), full postcodes (with or without the space), full dates of
 * birth (not 1 January: that is the generalised form) and raw Patient resource ids.
 */
export class LeakScanner {
  private readonly nhsNumbers = new Set<string>();
  private readonly names = new Set<string>();
  /** Text that must not occur anywhere in a cell -> what it is. */
  private readonly substrings = new Map<string, string>();

  constructor(patients: readonly PatientRecord[]) {
    for (const p of patients) {
      if (p.nhsNumber) this.nhsNumbers.add(p.nhsNumber);
      for (const name of (p.resource.name ?? []) as { family?: string; given?: string[] }[]) {
        for (const part of [name.family, ...(name.given ?? [])]) for (const word of (part ?? '').split(/[^\p{L}]+/u)) if (word) this.names.add(word);
      }
      for (const address of (p.resource.address ?? []) as { postalCode?: string }[]) {
        if (!address.postalCode) continue;
        this.substrings.set(address.postalCode, `the postcode of Patient/${p.id}`);
        this.substrings.set(address.postalCode.replace(/\s+/g, ''), `the postcode of Patient/${p.id}`);
      }
      if (p.birthDate && !p.birthDate.endsWith('-01-01')) this.substrings.set(p.birthDate, `the date of birth of Patient/${p.id}`);
      this.substrings.set(p.id, `the resource id of Patient/${p.id}`);
      // Ids are `<domain>-<uuid>`: the uuid alone identifies the record just as well.
      const uuid = /^[a-z0-9]+-(.+)$/.exec(p.id)?.[1];
      if (uuid) this.substrings.set(uuid, `the resource id of Patient/${p.id}`);
    }
  }

  /** Every leak found, as `cell: what it is`; empty when the cells are clean. */
  scan(rows: readonly (readonly unknown[] | Record<string, unknown>)[]): string[] {
    const leaks: string[] = [];
    for (const row of rows) {
      for (const cell of Array.isArray(row) ? row : Object.values(row)) {
        if (cell === null || cell === undefined) continue;
        const text = typeof cell === 'string' ? cell : JSON.stringify(cell);
        const digitsJoined = text.replace(/(?<=\d) (?=\d)/g, '');
        for (const nhsNumber of this.nhsNumbers) if (digitsJoined.includes(nhsNumber)) leaks.push(`${text}: an NHS number`);
        for (const word of text.split(/[^\p{L}]+/u)) if (this.names.has(word)) leaks.push(`${text}: the name ${word}`);
        for (const [value, what] of this.substrings) if (text.includes(value)) leaks.push(`${text}: ${what}`);
      }
    }
    return leaks;
  }
}
