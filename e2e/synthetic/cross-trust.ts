// Patients seen at two trusts: a share of each domain's patients also gets a record at another trust
// (same NHS number and demographics, new id and MRN), and their most recent encounters - with the
// observations, conditions, procedures... recorded in them - are MOVED there, as if they had been
// treated at the second hospital. Federated queries can then join on NHS number across domains.
import { hashOrder, pick } from './deterministic';
import { addResource, byPatient, type DomainRecords, dropDanglingReferences, homePatients, nhsNumberOf, ofType, periodStart } from './domain-records';
import { asArray, cloneJson, encounterRefOf, isObject, parseRelative, patientRefOf, type Resource, refKey, rewriteReferences } from './fhir';
import { trustOrganizationId } from './trust';
import { mrnIdentifier, mrnSystem } from './uk-flavour';

export interface SharedPatient {
  nhsNumber: string;
  home: { domain: string; patientId: string };
  visited: { domain: string; patientId: string };
  movedEncounters: number;
  movedResources: number;
}

export interface CrossTrustOptions {
  /** Share of each domain's own patients that also attend another trust (~0.10). */
  readonly fraction: number;
  /** At most this many of a shared patient's latest encounters move to the other trust. */
  readonly maxMovedEncounters: number;
}

export function shareAcrossTrusts(all: readonly DomainRecords[], options: CrossTrustOptions): SharedPatient[] {
  if (all.length < 2) return [];
  const shared: SharedPatient[] = [];
  for (const home of all) {
    const others = all.filter((d) => d !== home);
    const resourcesOf = byPatient(home);
    const encountersOf = (p: Resource): Resource[] => (resourcesOf.get(refKey(p)) ?? []).filter((r) => r.resourceType === 'Encounter');
    const patients = homePatients(home);
    const candidates = patients.filter((p) => encountersOf(p).length >= 2); // one stays home, one moves
    const count = Math.min(candidates.length, Math.max(1, Math.round(options.fraction * patients.length)));
    for (const patient of hashOrder(candidates, (p) => p.id, `share-${home.domain.id}`).slice(0, count)) {
      const target = pick(others, 'share-to', patient.id);
      shared.push(movePatientEncounters(home, target, patient, encountersOf(patient), resourcesOf, options));
    }
    dropDanglingReferences(home);
  }
  for (const d of all) dropDanglingReferences(d);
  return shared.sort((a, b) => (a.nhsNumber < b.nhsNumber ? -1 : a.nhsNumber > b.nhsNumber ? 1 : 0));
}

/** Replaces the domain prefix of a domain-scoped id ("rx1-<uuid>" -> "rth-<uuid>"). */
export function rehomeId(id: string, from: DomainRecords, to: DomainRecords): string {
  const prefix = `${from.domain.id}-`;
  if (!id.startsWith(prefix)) throw new Error(`id ${id} is not scoped to ${from.domain.id}`);
  return `${to.domain.id}-${id.slice(prefix.length)}`;
}

/** The visiting record of a home patient at another trust: same person, the second trust's id, MRN and organisation. */
export function addVisitingRecord(home: DomainRecords, target: DomainRecords, patient: Resource): Resource {
  const copy = cloneJson(patient);
  copy.id = rehomeId(patient.id, home, target);
  copy.identifier = [
    ...asArray(patient.identifier).filter((i) => !(isObject(i) && i.system === mrnSystem(home.domain))),
    mrnIdentifier(target.domain, target.mrns.next(copy.id)),
  ];
  copy.managingOrganization = { reference: `Organization/${trustOrganizationId(target.domain)}` };
  addResource(target, copy);
  target.visitors.add(copy.id);
  return copy;
}

function movePatientEncounters(
  home: DomainRecords,
  target: DomainRecords,
  patient: Resource,
  encounters: Resource[],
  resourcesOf: Map<string, Resource[]>,
  options: CrossTrustOptions,
): SharedPatient {
  const ordered = [...encounters].sort((a, b) => (periodStart(a) < periodStart(b) ? -1 : periodStart(a) > periodStart(b) ? 1 : 0));
  const moveCount = Math.min(options.maxMovedEncounters, Math.max(1, Math.round(ordered.length / 3)), ordered.length - 1);
  const movedEncounters = ordered.slice(ordered.length - moveCount);
  const movedEncounterKeys = new Set(movedEncounters.map(refKey));
  const children = (resourcesOf.get(refKey(patient)) ?? []).filter((r) => {
    const encounter = encounterRefOf(r);
    return r.resourceType !== 'Encounter' && encounter !== undefined && movedEncounterKeys.has(encounter);
  });

  const copy = addVisitingRecord(home, target, patient);

  const moving = [...movedEncounters, ...children];
  const renamed = new Map<string, string>([[refKey(patient), refKey(copy)]]);
  for (const r of moving) {
    const key = `${r.resourceType}/${rehomeId(r.id, home, target)}`;
    if (target.resources.has(key)) throw new Error(`${key} already exists: do two domains share a Synthea seed?`);
    renamed.set(refKey(r), key);
  }
  const clinicians = ofType(target, 'Practitioner');

  for (const resource of moving) {
    home.resources.delete(refKey(resource));
    const clinicianKey = encounterRefOf(resource) ?? refKey(resource); // one clinician per moved encounter
    resource.id = rehomeId(resource.id, home, target);
    rewriteReferences(resource, (reference) => {
      const mapped = renamed.get(reference);
      if (mapped) return mapped;
      const parsed = parseRelative(reference);
      if (parsed?.type === 'Organization') return `Organization/${trustOrganizationId(target.domain)}`;
      if (parsed?.type === 'Location') return `Location/${rehomeId(parsed.id, home, target)}`; // same kind of site
      if (parsed?.type === 'Practitioner' && clinicians.length > 0) {
        return refKey(pick(clinicians, 'clinician', clinicianKey));
      }
      return null; // e.g. a condition diagnosed at the first trust: not visible from the second
    });
    addResource(target, resource);
  }
  for (const r of moving) {
    if (patientRefOf(r) !== refKey(copy)) throw new Error(`moved ${refKey(r)} lost its patient`);
  }
  return {
    nhsNumber: nhsNumberOf(patient),
    home: { domain: home.domain.id, patientId: patient.id },
    visited: { domain: target.domain.id, patientId: copy.id },
    movedEncounters: movedEncounters.length,
    movedResources: moving.length,
  };
}
