// Just enough typing for FHIR R4 JSON handled as plain objects: the generator edits Synthea's JSON
// rather than modelling every resource, so fields are reached through these small guards.

export type JsonObject = { [key: string]: unknown };

export interface Resource extends JsonObject {
  resourceType: string;
  id: string;
}

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

export interface Reference extends JsonObject {
  reference?: string;
  display?: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asObject(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function isResource(value: unknown): value is Resource {
  return isObject(value) && typeof value.resourceType === 'string' && typeof value.id === 'string';
}

export function refKey(resource: Pick<Resource, 'resourceType' | 'id'>): string {
  return `${resource.resourceType}/${resource.id}`;
}

export function ref(resource: Pick<Resource, 'resourceType' | 'id'>, display?: string): Reference {
  return display === undefined ? { reference: refKey(resource) } : { reference: refKey(resource), display };
}

/** Splits a relative reference "Type/id" (returns undefined for urn:, conditional or contained refs). */
export function parseRelative(reference: string): { type: string; id: string } | undefined {
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  return m ? { type: m[1] as string, id: m[2] as string } : undefined;
}

/** Codings of a CodeableConcept-valued field, e.g. codings(condition.code). */
export function codings(concept: unknown): Coding[] {
  return asArray(asObject(concept)?.coding).filter(isObject) as Coding[];
}

export function codeIn(concept: unknown, system: string): string | undefined {
  return codings(concept).find((c) => c.system === system)?.code;
}

export function conceptText(concept: unknown): string {
  const c = asObject(concept);
  return [asString(c?.text) ?? '', ...codings(concept).map((x) => x.display ?? '')].join(' | ');
}

export const SNOMED = 'http://snomed.info/sct';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const LOINC = 'http://loinc.org';

/** FHIR id rule: 1-64 of [A-Za-z0-9-.]. */
export function isValidFhirId(id: string): boolean {
  return /^[A-Za-z0-9\-.]{1,64}$/.test(id);
}

/**
 * Visits every Reference (object with a string `reference`) in a resource and lets `decide` return the
 * new reference string, or null to remove it. A removed reference disappears from its array, or its
 * property is deleted; an array left empty is deleted too. Edits in place.
 */
export function rewriteReferences(node: unknown, decide: (reference: string, holder: Reference) => string | null): void {
  visit(node);

  function visit(value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (Array.isArray(child)) {
        const kept = child.filter((item) => !(isReference(item) && !apply(item)));
        for (const item of kept) if (!isReference(item)) visit(item);
        if (kept.length === 0) delete value[key];
        else value[key] = kept;
      } else if (isReference(child)) {
        if (!apply(child)) delete value[key];
      } else {
        visit(child);
      }
    }
  }

  function apply(holder: Reference): boolean {
    const next = decide(holder.reference as string, holder);
    if (next === null) return false;
    holder.reference = next;
    return true;
  }
}

function isReference(value: unknown): value is Reference {
  return isObject(value) && typeof value.reference === 'string';
}

/** Every reference string in a resource, in document order. */
export function referencesOf(node: unknown): string[] {
  const found: string[] = [];
  walk(node);
  return found;

  function walk(value: unknown): void {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'reference' && typeof child === 'string') found.push(child);
        else walk(child);
      }
    }
  }
}

/** The patient a resource belongs to (subject / patient), as "Patient/id", if any. */
export function patientRefOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return refKey(resource);
  const holder = asObject(resource.subject) ?? asObject(resource.patient);
  const reference = asString(holder?.reference);
  return reference?.startsWith('Patient/') ? reference : undefined;
}

/** The encounter a resource was recorded in (encounter, or MedicationAdministration-style context). */
export function encounterRefOf(resource: Resource): string | undefined {
  return asString(asObject(resource.encounter)?.reference) ?? asString(asObject(resource.context)?.reference);
}

/** Deep copy of plain JSON. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Same resource with resourceType, id and meta first: stable, conventional key order in the NDJSON. */
export function withLeadingKeys(resource: Resource): Resource {
  const { resourceType, id, meta, ...rest } = resource;
  return meta === undefined ? { resourceType, id, ...rest } : { resourceType, id, meta, ...rest };
}
