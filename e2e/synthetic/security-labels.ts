// meta.security labels the mesh's access policies filter on. Clinically driven where the data allows
// (mental health -> PSY+R, HIV -> HIV+V, domestic abuse -> SDV+R, inherited by resources whose reason
// is such a condition), plus a deterministic sprinkle and a per-domain minimum so every label has
// enough rows in every domain to test filters.
import { hashFraction, hashOrder, pick } from './deterministic';
import type { DomainRecords } from './domain-records';
import { asArray, asObject, asString, type Coding, codeIn, conceptText, ICD10, isObject, patientRefOf, type Resource, refKey } from './fhir';

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export type Confidentiality = 'R' | 'V';
export type Sensitivity = 'PSY' | 'HIV' | 'SDV';
export type SecurityLabel = Confidentiality | Sensitivity;
export const SECURITY_LABELS: readonly SecurityLabel[] = ['R', 'V', 'PSY', 'HIV', 'SDV'];

const CODINGS: Record<SecurityLabel, Coding> = {
  R: { system: CONFIDENTIALITY_SYSTEM, code: 'R', display: 'restricted' },
  V: { system: CONFIDENTIALITY_SYSTEM, code: 'V', display: 'very restricted' },
  PSY: { system: ACT_CODE_SYSTEM, code: 'PSY', display: 'psychiatry information sensitivity' },
  HIV: { system: ACT_CODE_SYSTEM, code: 'HIV', display: 'HIV/AIDS information sensitivity' },
  SDV: { system: ACT_CODE_SYSTEM, code: 'SDV', display: 'sexual assault, abuse, or domestic violence information sensitivity' },
};

/** Confidentiality each sensitivity implies: HIV status is "very restricted" in NHS practice. */
const IMPLIED: Record<Sensitivity, Confidentiality> = { PSY: 'R', HIV: 'V', SDV: 'R' };

/** Resource types that may carry labels (demographics, organisations and consents never do). */
export const LABELLABLE_TYPES = new Set([
  'Encounter',
  'Condition',
  'Observation',
  'DiagnosticReport',
  'Procedure',
  'MedicationRequest',
  'Immunization',
  'AllergyIntolerance',
  'CarePlan',
]);

const SELF_HARM = /suicid|self[- ]harm|overdose of|poisoning.*intentional/i;
const DOMESTIC_ABUSE = /intimate partner|domestic (abuse|violence)|sexual (abuse|assault)|\brape\b|\bassault\b|victim of abuse/i;
/** HARK: Humiliation, Afraid, Rape, Kick - a partner-abuse screening score; a score above 0 is a disclosure. */
const HARK = /\bHARK\b/;
const HIV = /\bHIV\b|human immunodeficiency virus|\bAIDS\b/;

export interface LabelOptions {
  /** Share of labellable resources given one label at random on top of the clinical rules (~0.01). */
  readonly randomFraction: number;
  /** Each label appears on at least this many resources per domain (when the domain has that many). */
  readonly minimumPerLabel: number;
  /**
   * Patients ("Patient/id") whose resources get clinical labels only, never a sprinkled or floor one: records
   * tests need visible to every policy (the stroke cohort's two-trust people who never opt out).
   */
  readonly clinicalLabelsOnly?: ReadonlySet<string>;
}

interface LabelSet {
  confidentiality?: Confidentiality;
  sensitivities: Set<Sensitivity>;
}

/** What the code of a clinical resource says about its sensitivity. */
export function clinicalSensitivities(resource: Resource): Sensitivity[] {
  const found: Sensitivity[] = [];
  const text = conceptText(resource.code);
  if (resource.resourceType === 'Condition') {
    const icd = codeIn(resource.code, ICD10) ?? '';
    if (icd.startsWith('F') || SELF_HARM.test(text)) found.push('PSY');
    if (/^(B2[0-4]|Z21)/.test(icd) || HIV.test(text)) found.push('HIV');
    if (icd.startsWith('T74') || DOMESTIC_ABUSE.test(text)) found.push('SDV');
    return found;
  }
  if (['Observation', 'DiagnosticReport', 'Procedure'].includes(resource.resourceType)) {
    if (HIV.test(text)) found.push('HIV'); // e.g. "HIV status"
    if (DOMESTIC_ABUSE.test(text) || (HARK.test(text) && numericValue(resource) > 0)) found.push('SDV');
  }
  return found;
}

function numericValue(resource: Resource): number {
  const value = asObject(resource.valueQuantity)?.value;
  return typeof value === 'number' ? value : 0;
}

/** Applies labels to one domain in place and returns how many resources carry each label. */
export function applySecurityLabels(records: DomainRecords, options: LabelOptions): Record<SecurityLabel, number> {
  const labelled = [...records.resources.values()].filter((r) => LABELLABLE_TYPES.has(r.resourceType)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const labels = new Map<string, LabelSet>();
  const get = (r: Resource): LabelSet => {
    const key = refKey(r);
    const existing = labels.get(key);
    if (existing) return existing;
    const fresh: LabelSet = { sensitivities: new Set() };
    labels.set(key, fresh);
    return fresh;
  };
  const add = (r: Resource, label: SecurityLabel): void => {
    const set = get(r);
    if (label === 'R' || label === 'V') set.confidentiality = strongest(set.confidentiality, label);
    else {
      set.sensitivities.add(label);
      set.confidentiality = strongest(set.confidentiality, IMPLIED[label]);
    }
  };

  // 1. clinical rules, then inheritance through reasonReference / addresses (e.g. antidepressant for depression)
  for (const r of labelled) for (const s of clinicalSensitivities(r)) add(r, s);
  for (const r of labelled) {
    for (const reason of [...asArray(r.reasonReference), ...asArray(r.addresses)]) {
      const target = labels.get(asString(asObject(reason)?.reference) ?? '');
      if (target) for (const s of target.sensitivities) add(r, s);
    }
  }
  // 2. a deterministic sprinkle
  const arbitrary = labelled.filter((r) => !options.clinicalLabelsOnly?.has(patientRefOf(r) ?? ''));
  for (const r of arbitrary) {
    if (hashFraction('label', r.id) < options.randomFraction) add(r, pick(SECURITY_LABELS, 'which-label', r.id));
  }
  // 3. a floor per label, taken from resources that have no label yet
  for (const label of SECURITY_LABELS) {
    const missing = options.minimumPerLabel - labelled.filter((r) => has(labels.get(refKey(r)), label)).length;
    if (missing <= 0) continue;
    const unlabelled = arbitrary.filter((r) => !labels.has(refKey(r)));
    for (const r of hashOrder(unlabelled, (x) => x.id, `floor-${label}-${records.domain.id}`).slice(0, missing)) add(r, label);
  }

  const counts = Object.fromEntries(SECURITY_LABELS.map((l) => [l, 0])) as Record<SecurityLabel, number>;
  for (const r of labelled) {
    const set = labels.get(refKey(r));
    if (!set) continue;
    setMetaSecurity(r, set);
    for (const l of SECURITY_LABELS) if (has(set, l)) counts[l]++;
  }
  return counts;
}

/** Labels present on a resource's meta.security (for stats and tests). */
export function labelsOf(resource: Resource): SecurityLabel[] {
  return asArray(asObject(resource.meta)?.security)
    .filter(isObject)
    .map((c) => asString(c.code))
    .filter((c): c is SecurityLabel => SECURITY_LABELS.includes(c as SecurityLabel));
}

function has(set: LabelSet | undefined, label: SecurityLabel): boolean {
  if (!set) return false;
  return label === 'R' || label === 'V' ? set.confidentiality === label : set.sensitivities.has(label);
}

function strongest(a: Confidentiality | undefined, b: Confidentiality): Confidentiality {
  return a === 'V' || b === 'V' ? 'V' : 'R';
}

function setMetaSecurity(resource: Resource, set: LabelSet): void {
  const security: Coding[] = [];
  if (set.confidentiality) security.push({ ...CODINGS[set.confidentiality] });
  for (const s of ['HIV', 'PSY', 'SDV'] as const) if (set.sensitivities.has(s)) security.push({ ...CODINGS[s] });
  resource.meta = { ...(asObject(resource.meta) ?? {}), security };
}
