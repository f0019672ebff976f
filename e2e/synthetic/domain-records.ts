// In-memory state of one domain while the pipeline edits it: resources keyed by "Type/id",
// which patients are only visiting (copies made by cross-trust.ts), and the MRN allocator.
import type { DomainSpec } from '../runtime/topology';
import { compareStrings, UniqueNumberAllocator } from './deterministic';
import { asArray, asObject, asString, isObject, parseRelative, patientRefOf, type Resource, refKey, rewriteReferences } from './fhir';
import { NHS_NUMBER_SYSTEM } from './nhs-number';
import { practitionerDisplay } from './uk-flavour';

export interface DomainRecords {
  readonly domain: DomainSpec;
  /** Position of the domain in the topology: selects its NHS number block. */
  readonly domainIndex: number;
  readonly resources: Map<string, Resource>;
  /** Patient ids (in this domain) that are copies of another domain's patient. */
  readonly visitors: Set<string>;
  readonly mrns: UniqueNumberAllocator;
}

export function newDomainRecords(domain: DomainSpec, domainIndex: number): DomainRecords {
  return {
    domain,
    domainIndex,
    resources: new Map(),
    visitors: new Set(),
    mrns: new UniqueNumberAllocator(8, `mrn-${domain.id}`),
  };
}

export function addResource(records: DomainRecords, resource: Resource): void {
  const key = refKey(resource);
  if (records.resources.has(key)) throw new Error(`${records.domain.id}: duplicate ${key}`);
  records.resources.set(key, resource);
}

/** Resources of one type, sorted by id. */
export function ofType(records: DomainRecords, type: string): Resource[] {
  return [...records.resources.values()].filter((r) => r.resourceType === type).sort((a, b) => compareStrings(a.id, b.id));
}

/** Patients whose record originates in this domain (not visitors). */
export function homePatients(records: DomainRecords): Resource[] {
  return ofType(records, 'Patient').filter((p) => !records.visitors.has(p.id));
}

export function nhsNumberOf(patient: Resource): string {
  const id = asArray(patient.identifier).find((i) => isObject(i) && i.system === NHS_NUMBER_SYSTEM);
  const value = isObject(id) ? asString(id.value) : undefined;
  if (!value) throw new Error(`Patient/${patient.id} has no NHS number`);
  return value;
}

/** Resources of a patient, grouped: the pipeline asks this often, so build it once per step. */
export function byPatient(records: DomainRecords): Map<string, Resource[]> {
  const map = new Map<string, Resource[]>();
  for (const r of records.resources.values()) {
    const p = patientRefOf(r);
    if (!p) continue;
    const list = map.get(p) ?? [];
    list.push(r);
    map.set(p, list);
  }
  return map;
}

/** Resource types that make no sense without their patient (FHIR requires subject/patient). */
const PATIENT_BOUND = new Set([
  'Encounter',
  'Condition',
  'Observation',
  'DiagnosticReport',
  'Procedure',
  'MedicationRequest',
  'Immunization',
  'AllergyIntolerance',
  'CarePlan',
  'Consent',
]);

/**
 * Removes references whose target is not in this domain (a FHIR server would reject them on PUT)
 * and drops resources that thereby lose their patient. Repeats until stable.
 */
export function dropDanglingReferences(records: DomainRecords): number {
  let removed = 0;
  for (;;) {
    let changed = false;
    for (const resource of records.resources.values()) {
      rewriteReferences(resource, (reference) => {
        if (reference.startsWith('#')) return reference;
        if (records.resources.has(reference)) return reference;
        changed = true;
        removed++;
        return null;
      });
    }
    for (const [key, resource] of [...records.resources]) {
      if (PATIENT_BOUND.has(resource.resourceType) && !patientRefOf(resource)) {
        records.resources.delete(key);
        changed = true;
      }
    }
    if (!changed) return removed;
  }
}

/** Throws if any reference points outside the domain: the guarantee the loader and tests rely on. */
export function assertReferentialIntegrity(records: DomainRecords): void {
  for (const resource of records.resources.values()) {
    rewriteReferences(resource, (reference) => {
      if (!records.resources.has(reference) && !reference.startsWith('#')) {
        throw new Error(`${records.domain.id}: ${refKey(resource)} -> ${reference} dangles`);
      }
      if (!parseRelative(reference)) throw new Error(`${records.domain.id}: ${refKey(resource)} has non-relative ${reference}`);
      return reference;
    });
  }
}

/** "Mr John Smith" / organisation name: what reference.display should say for a target. */
export function displayOf(resource: Resource): string | undefined {
  switch (resource.resourceType) {
    case 'Patient':
    case 'Practitioner':
      return practitionerDisplay(resource);
    case 'Organization':
    case 'Location':
      return asString(resource.name);
    default:
      return undefined;
  }
}

/**
 * Re-derives reference.display from the target, so displays never carry Synthea's US names after
 * organisations were merged or encounters moved between trusts. Adds displays for org/site/clinician
 * references; patient displays only where Synthea had one; other displays (e.g. result names) stay.
 */
export function refreshDisplays(records: DomainRecords): void {
  for (const resource of records.resources.values()) {
    rewriteReferences(resource, (reference, holder) => {
      const target = records.resources.get(reference);
      const display = target ? displayOf(target) : undefined;
      const alwaysShow = target !== undefined && ['Organization', 'Location', 'Practitioner'].includes(target.resourceType);
      if (display !== undefined && (alwaysShow || holder.display !== undefined)) holder.display = display;
      return reference;
    });
  }
}

/** Start of an encounter-like period, for ordering a patient's encounters. */
export function periodStart(resource: Resource): string {
  return asString(asObject(resource.period)?.start) ?? '';
}
