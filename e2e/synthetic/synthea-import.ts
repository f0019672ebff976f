// Step 1 of the post-processing, for one domain: Synthea's transaction bundles (patients) and batch
// bundles (hospitals, clinicians) -> a self-contained set of resources with relative references,
// domain-prefixed ids, UK identity and contact details, the trust Organization and site Locations.
import type { DomainSpec } from '../runtime/topology';
import { compareStrings, sha256Hex, UniqueNumberAllocator } from './deterministic';
import { addResource, type DomainRecords, dropDanglingReferences, newDomainRecords, ofType, periodStart } from './domain-records';
import { asArray, asObject, asString, cloneJson, encounterRefOf, isObject, isResource, isValidFhirId, type Resource, ref, rewriteReferences } from './fhir';
import { addIcd10 } from './icd10-map';
import { NhsNumberAllocator } from './nhs-number';
import { siteForEncounterClass, siteLocationId, siteLocations, trustOrganization, trustOrganizationId } from './trust';
import { anglicisePatient, anglicisePractitioner } from './uk-flavour';

/** Clinical types worth querying; Claim, ExplanationOfBenefit, Provenance, ImagingStudy, Device, ... are dropped. */
export const CLINICAL_TYPES: readonly string[] = [
  'Patient',
  'Encounter',
  'Condition',
  'Observation',
  'DiagnosticReport',
  'Procedure',
  'MedicationRequest',
  'Immunization',
  'AllergyIntolerance',
  'CarePlan',
];

/** Recorded at one encounter and meaningless without it: dropped with the encounter when trimming. */
const ENCOUNTER_EVENTS = new Set(['Observation', 'DiagnosticReport', 'Procedure', 'Immunization']);

export interface ImportOptions {
  /** Keep only each patient's most recent N encounters (dialysis patients alone can have 150 a year). */
  readonly maxEncountersPerPatient: number;
}

interface Entry {
  fullUrl: string | undefined;
  resource: Resource;
}

export function importSyntheaDomain(bundles: readonly unknown[], domain: DomainSpec, domainIndex: number, options: ImportOptions): DomainRecords {
  const entries = bundles.flatMap(entriesOf);
  const kept = trimEncounters(
    entries.filter((e) => CLINICAL_TYPES.includes(e.resource.resourceType)),
    options.maxEncountersPerPatient,
  );

  const newId = (resource: Resource): string => domainScopedId(domain, resource.id);
  const byFullUrl = new Map<string, string>();
  for (const e of kept) if (e.fullUrl) byFullUrl.set(e.fullUrl, `${e.resource.resourceType}/${newId(e.resource)}`);

  const practitioners = new Map<string, Resource>(); // "system|value" -> Synthea Practitioner
  for (const e of entries) {
    if (e.resource.resourceType !== 'Practitioner') continue;
    for (const identifier of asArray(e.resource.identifier)) {
      if (isObject(identifier)) practitioners.set(`${asString(identifier.system)}|${asString(identifier.value)}`, e.resource);
    }
  }
  const usedPractitioners = new Map<string, Resource>(); // new id -> Synthea Practitioner
  const trustRef = `Organization/${trustOrganizationId(domain)}`;

  const resolve = (reference: string): string | null => {
    if (reference.startsWith('#')) return reference;
    if (reference.startsWith('urn:uuid:')) return byFullUrl.get(reference) ?? null;
    const conditional = /^(\w+)\?identifier=(.*)$/.exec(reference);
    if (conditional?.[1] === 'Organization') return trustRef; // every Synthea provider becomes the trust
    if (conditional?.[1] === 'Practitioner') {
      const practitioner = practitioners.get(decodeURIComponent(conditional[2] as string));
      if (!practitioner) return null;
      usedPractitioners.set(newId(practitioner), practitioner);
      return `Practitioner/${newId(practitioner)}`;
    }
    return null; // Synthea Locations ("Patient's Home") and anything else: no target in the output
  };

  const records = newDomainRecords(domain, domainIndex);
  addResource(records, trustOrganization(domain));
  for (const location of siteLocations(domain)) addResource(records, location);

  for (const { resource: original } of kept) {
    const resource = cloneJson(original);
    delete resource.text; // generated narrative mentions Synthea and US details; HAPI does not need it
    delete resource.meta;
    resource.id = newId(original);
    rewriteReferences(resource, (reference) => resolve(reference));
    addResource(records, resource);
  }

  const gmcNumbers = new UniqueNumberAllocator(7, `gmc-${domain.id}`);
  for (const [id, original] of [...usedPractitioners].sort(([a], [b]) => compareStrings(a, b))) {
    const practitioner = cloneJson(original);
    delete practitioner.text;
    practitioner.id = id;
    anglicisePractitioner(practitioner, domain, gmcNumbers.next(id));
    addResource(records, practitioner);
  }

  const nhsNumbers = new NhsNumberAllocator(domainIndex);
  for (const patient of ofType(records, 'Patient')) {
    const nhsNumber = nhsNumbers.next();
    anglicisePatient(patient, domain, { nhsNumber, mrn: records.mrns.next(patient.id) }, nhsNumber, {
      reference: trustRef,
    });
  }

  for (const resource of records.resources.values()) {
    if (resource.resourceType === 'Encounter') placeEncounter(resource, domain);
    if (resource.resourceType === 'CarePlan') placeCarePlanActivities(resource, domain);
    if (resource.resourceType === 'Condition') addIcd10(resource);
  }
  dropDanglingReferences(records);
  return records;
}

/** Synthea ids are UUIDs: prefixing the domain keeps them valid FHIR ids and unique across domains. */
export function domainScopedId(domain: Pick<DomainSpec, 'id'>, syntheaId: string): string {
  const id = `${domain.id}-${syntheaId}`;
  return isValidFhirId(id) ? id : `${domain.id}-${sha256Hex(syntheaId).slice(0, 40)}`;
}

function entriesOf(bundle: unknown): Entry[] {
  return asArray(asObject(bundle)?.entry).flatMap((entry) => {
    const e = asObject(entry);
    return e && isResource(e.resource) ? [{ fullUrl: asString(e.fullUrl), resource: e.resource }] : [];
  });
}

/** Keeps each patient's most recent encounters and drops the event resources of the others. */
function trimEncounters(entries: Entry[], maxPerPatient: number): Entry[] {
  const byPatient = new Map<string, Entry[]>();
  for (const e of entries) {
    if (e.resource.resourceType !== 'Encounter') continue;
    const p = asString(asObject(e.resource.subject)?.reference) ?? '';
    byPatient.set(p, [...(byPatient.get(p) ?? []), e]);
  }
  const dropped = new Set<string>();
  for (const encounters of byPatient.values()) {
    const newestFirst = encounters.sort(
      (a, b) => compareStrings(periodStart(b.resource), periodStart(a.resource)) || compareStrings(a.resource.id, b.resource.id),
    );
    for (const e of newestFirst.slice(maxPerPatient)) dropped.add(e.fullUrl ?? '');
  }
  return entries.filter((e) => {
    if (e.resource.resourceType === 'Encounter') return !dropped.has(e.fullUrl ?? '');
    const encounter = encounterRefOf(e.resource);
    return !(ENCOUNTER_EVENTS.has(e.resource.resourceType) && encounter !== undefined && dropped.has(encounter));
  });
}

/** Trust as service provider, and the site matching the encounter class. */
function placeEncounter(encounter: Resource, domain: DomainSpec): void {
  encounter.serviceProvider = { reference: `Organization/${trustOrganizationId(domain)}` };
  const site = siteForEncounterClass(asString(asObject(encounter.class)?.code));
  if (site) encounter.location = [{ location: ref({ resourceType: 'Location', id: siteLocationId(domain, site) }) }];
  else delete encounter.location;
}

/** Synthea names a US clinic by display only; point activities at the trust's outpatients site instead. */
function placeCarePlanActivities(carePlan: Resource, domain: DomainSpec): void {
  for (const activity of asArray(carePlan.activity)) {
    const detail = asObject(asObject(activity)?.detail);
    if (detail?.location !== undefined) {
      detail.location = ref({ resourceType: 'Location', id: siteLocationId(domain, 'opd') });
    }
  }
}
