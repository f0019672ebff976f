// What a table's policy form does with each column, derived from its ViewDefinition and privacy tags.
// Pure. The rules, in order (the first that applies decides):
// 1. A Patient key (a Patient view's `getResourceKey()`, any `getReferenceKey(Patient)`) becomes a keyed
//    pseudonym of the patient's NHS number, whatever its tag: raw resource ids link records across
//    projects and back to the trust, so no tag can publish them.
// 2. A path that reads the NHS number identifier system is removed, whatever its tag.
// 3. A `direct-identifier` column is generalised when the platform knows a safe coarser form (birthDate
//    -> 1 January of the birth year; a UK postcode -> its outward code, the postcode district), and removed
//    otherwise (names, telecoms, other identifiers).
// 4. A reference to a clinical resource (an Encounter, a Condition...) is kept only where the consumer may
//    see the resource it points at, NULL elsewhere: the id of a hidden, restricted resource would say
//    that this patient has one.
// 5. `quasi-identifier`, `sensitive` and `none` columns are kept (disclosure control governs aggregates).
// 6. An untagged column is removed: a column nobody classified is not known to be safe.
// Break-glass keeps rules 1-3's columns as stored (the caller decides whether a grant is active).
import type { PrivacyTag } from '../../registry/data-product.entity';

export type ColumnTreatment =
  | { kind: 'keep' }
  | { kind: 'remove'; reason: string }
  | { kind: 'pseudonym'; of: 'patient' | 'patient-reference' }
  | { kind: 'birth-year' }
  | { kind: 'postcode-district' }
  | { kind: 'reference'; resource: string };

/** Resources outside the patient compartment: never labelled, no patient to opt out. */
export const NON_PATIENT_RESOURCES = new Set([
  'Organization',
  'Location',
  'Practitioner',
  'PractitionerRole',
  'HealthcareService',
  'Endpoint',
  'Medication',
  'Substance',
  'ValueSet',
  'CodeSystem',
  'ConceptMap',
  'StructureDefinition',
  'SearchParameter',
  'Questionnaire',
  'PlanDefinition',
  'ActivityDefinition',
  'Library',
  'Measure',
]);

export interface ViewColumn {
  name: string;
  /** Every FHIRPath the column is read from (several under unionAll). */
  paths: string[];
}

/** Columns of a SQL-on-FHIR ViewDefinition, in order, through nested select / forEach / unionAll. */
export function viewColumns(view: Record<string, unknown>): ViewColumn[] {
  const found = new Map<string, ViewColumn>();
  const visit = (selects: unknown): void => {
    if (!Array.isArray(selects)) return;
    for (const select of selects) {
      if (typeof select !== 'object' || select === null) continue;
      const s = select as Record<string, unknown>;
      for (const column of Array.isArray(s.column) ? s.column : []) {
        const c = column as Record<string, unknown>;
        if (typeof c.name !== 'string') continue;
        const entry = found.get(c.name) ?? { name: c.name, paths: [] };
        if (typeof c.path === 'string') entry.paths.push(c.path);
        found.set(c.name, entry);
      }
      visit(s.select);
      visit(s.unionAll);
    }
  };
  visit(view.select);
  return [...found.values()];
}

const NHS_NUMBER_SYSTEM = 'fhir.nhs.uk/Id/nhs-number';

function compact(path: string): string {
  return path.replace(/\s+/g, '');
}

/** The path without trailing calls that pick one item (`.first()`, `.last()`, `.single()`): the key read is the same. */
function keyPath(path: string): string {
  return compact(path).replace(/(\.(first|last|single)\(\))+$/, '');
}

/** Whether every path of the column is a key of a Patient resource (own key or a reference to one). */
export function patientKey(resource: string, column: ViewColumn): 'patient' | 'patient-reference' | undefined {
  if (column.paths.length === 0) return undefined;
  if (resource === 'Patient' && column.paths.every((p) => compact(p) === 'getResourceKey()')) return 'patient';
  if (column.paths.every((p) => keyPath(p).endsWith('getReferenceKey(Patient)'))) return 'patient-reference';
  return undefined;
}

export function columnTreatment(resource: string, column: ViewColumn, tag: PrivacyTag | undefined): ColumnTreatment {
  const key = patientKey(resource, column);
  if (key) return { kind: 'pseudonym', of: key };
  // Some paths a Patient key, others not (unionAll): neither a pseudonym nor safe to show as it is.
  if (column.paths.some((p) => patientKey(resource, { name: column.name, paths: [p] }))) {
    return { kind: 'remove', reason: 'a Patient key in some rows and another value in others' };
  }
  if (column.paths.some((p) => p.includes(NHS_NUMBER_SYSTEM))) return { kind: 'remove', reason: 'an NHS number (direct identifier)' };
  if (tag === 'direct-identifier') {
    if (column.paths.every((p) => /(^|\.)birthDate$/.test(compact(p)))) return { kind: 'birth-year' };
    if (column.paths.every((p) => compact(p).includes('postalCode'))) return { kind: 'postcode-district' };
    return { kind: 'remove', reason: 'a direct identifier' };
  }
  if (tag === undefined) return { kind: 'remove', reason: 'not classified by a privacy tag' };
  const target = referencedResource(column);
  if (target && !NON_PATIENT_RESOURCES.has(target)) return { kind: 'reference', resource: target };
  return { kind: 'keep' };
}

/** `X` when every path of the column ends in `getReferenceKey(X)` (then perhaps `.first()`). */
export function referencedResource(column: ViewColumn): string | undefined {
  const targets = new Set(column.paths.map((p) => /getReferenceKey\(([A-Za-z]+)\)$/.exec(keyPath(p))?.[1]));
  const [only] = [...targets];
  return targets.size === 1 && only ? only : undefined;
}
