// Constants the battery filters on, picked at run time from the ground-truth rows (the most frequent
// code, a patient with many conditions, an NHS number seen at two trusts, …) so that no answer is
// hard-coded and regenerated data still gives selective, non-empty queries.

import { DOMAINS, paths } from '../../runtime/topology';
import { readManifest } from '../../synthetic/generate';
import { readResources } from '../ground-truth';
import { Row, TruthTables } from './truth';

export interface Facts {
  condition: {
    topCode: string;
    topCodes: string[];
    rareCode: string;
    topIcd10: string;
    ids: string[];
    richPatient: string;
    patients: string[];
    encounter: string;
    rareOnset: string;
    onsetValue: string;
    onsetLow: string;
    onsetHigh: string;
    abatementValue: string;
    recordedValue: string;
  };
  observation: {
    code: string;
    codes: string[];
    category: string;
    valueCode: string;
    value: number;
    valueLow: number;
    valueHigh: number;
    patient: string;
    encounter: string;
    effectiveLow: string;
    effectiveHigh: string;
    effectiveValue: string;
    id: string;
  };
  component: { code: string; panel: string; value: number; patient: string; effectiveValue: string };
  encounter: { typeCode: string; provider: string; startValue: string; startLow: string; startHigh: string; endValue: string; patients: string[]; id: string };
  patient: {
    sharedNhsNumber: string;
    nhsNumbers: string[];
    family: string;
    maidenOnly: string;
    given: string;
    postcode: string;
    birthValue: string;
    birthLow: string;
    birthHigh: string;
    organization: string;
    ids: string[];
  };
  procedure: { code: string; reasonCode: string; performedValue: string; performedLow: string; performedHigh: string; patients: string[]; encounter: string };
  medication: {
    code: string;
    codes: string[];
    reasonCodes: string[];
    requester: string;
    encounter: string;
    authoredLow: string;
    authoredHigh: string;
    authoredValue: string;
  };
  consent: { policyUri: string; purpose: string; patients: string[]; startValue: string; dateTimeValue: string };
}

function column(rows: Row[], name: string): string[] {
  return rows.map((r) => r[name]).filter((v): v is string => typeof v === 'string');
}

/** Values by descending frequency, ties by value (deterministic for the same data). */
function byFrequency(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function top(values: string[], n = 1): string[] {
  const found = byFrequency(values)
    .slice(0, n)
    .map(([v]) => v);
  if (found.length < n) throw new Error(`ground truth has fewer than ${n} distinct values`);
  return found;
}

function first<T>(values: T[], what: string): T {
  const v = values[0];
  if (v === undefined) throw new Error(`ground truth has no ${what}`);
  return v;
}

/** The value at a quantile of the sorted values (an actual data value: boundaries land exactly on one). */
function quantile<T extends string | number>(values: T[], q: number): T {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return first(sorted.slice(Math.min(sorted.length - 1, Math.floor(q * sorted.length))), 'values for a quantile');
}

/** One value per domain, so IN lists span trusts. */
function onePerDomain(rows: Row[], name: string): string[] {
  const seen = new Map<string, string>();
  for (const [value] of byFrequency(column(rows, name))) {
    const domain = String(rows.find((r) => r[name] === value)?.domain);
    if (!seen.has(domain)) seen.set(domain, value);
  }
  return [...seen.values()];
}

export function computeFacts(t: TruthTables): Facts {
  const conditions = t.condition ?? [];
  const observations = t.observation ?? [];
  const components = t.observation_component ?? [];
  const encounters = t.encounter ?? [];
  const patients = t.patient ?? [];
  const procedures = t.procedure ?? [];
  const medications = t.medication_request ?? [];
  const consents = t.consent ?? [];

  // A rare code: a handful of conditions, ideally at more than one trust (a selective cohort).
  const codeCounts = byFrequency(column(conditions, 'code'));
  const domainsOf = (code: string): number => new Set(conditions.filter((c) => c.code === code).map((c) => c.domain)).size;
  const rare =
    codeCounts.filter(([, n]) => n >= 3 && n <= 8).sort((a, b) => domainsOf(b[0]) - domainsOf(a[0]) || a[1] - b[1])[0] ??
    first(codeCounts.slice(-1), 'condition code');

  const onsets = column(conditions, 'onset');
  // The most frequent code with fractional values (body weight rather than a 0-10 score): ranges bite.
  const fractional = observations.filter((o) => typeof o.value === 'number' && !Number.isInteger(o.value));
  const obsCode = first(top(column(fractional, 'code')), 'observation code');
  const obsValues = observations.filter((o) => o.code === obsCode && typeof o.value === 'number').map((o) => o.value as number);
  const effectives = column(observations, 'effective');
  const componentCode = first(
    top(
      column(
        components.filter((c) => c.component_value !== null),
        'component_code',
      ),
    ),
    'component code',
  );

  // Shared patients: the manifest says which NHS numbers were seen at two trusts.
  const manifest = readManifest(paths.synthetic);
  const shared = (manifest?.sharedPatients ?? []).map((s) => s.nhsNumber);
  const sharedNhs = first(
    shared.filter((n) => patients.filter((p) => p.nhs_number === n).length >= 2),
    'NHS number shared by two trusts',
  );

  const componentPatient = first(top(column(components, 'patient_id')), 'patient with components');
  const activeReasons = new Set(
    column(
      medications.filter((x) => x.status === 'active'),
      'reason_condition_id',
    ),
  );

  const officialFamilies = new Set(column(patients, 'family_name'));
  const maidenOnly = first(
    maidenNames()
      .filter((m) => !officialFamilies.has(m))
      .sort(),
    'maiden-only family name',
  );
  const births = column(patients, 'birth_date');
  const starts = column(encounters, 'start');
  const performed = column(procedures, 'performed_start');
  const authored = column(medications, 'authored_on');

  return {
    condition: {
      topCode: first(top(column(conditions, 'code')), 'condition code'),
      topCodes: top(column(conditions, 'code'), 5),
      rareCode: rare[0],
      topIcd10: first(top(column(conditions, 'icd10_code')), 'ICD-10 code'),
      ids: onePerDomain(conditions, 'id'),
      richPatient: first(top(column(conditions, 'patient_id')), 'patient with conditions'),
      patients: onePerDomain(conditions, 'patient_id'),
      encounter: first(top(column(conditions, 'encounter_id')), 'encounter with conditions'),
      rareOnset: quantile(
        column(
          conditions.filter((x) => x.code === rare[0]),
          'onset',
        ),
        0.4,
      ),
      onsetValue: quantile(onsets, 0.5),
      onsetLow: quantile(onsets, 0.3),
      onsetHigh: quantile(onsets, 0.6),
      abatementValue: quantile(column(conditions, 'abatement'), 0.5),
      recordedValue: quantile(column(conditions, 'recorded_date'), 0.7),
    },
    observation: {
      code: obsCode,
      codes: top(column(observations, 'code'), 4),
      category: first(top(column(observations, 'category')), 'observation category'),
      valueCode: first(top(column(observations, 'value_code')), 'value code'),
      value: quantile(obsValues, 0.5),
      valueLow: quantile(obsValues, 0.25),
      valueHigh: quantile(obsValues, 0.75),
      patient: first(top(column(observations, 'patient_id')), 'patient with observations'),
      encounter: first(top(column(observations, 'encounter_id')), 'encounter with observations'),
      effectiveLow: quantile(effectives, 0.8),
      effectiveHigh: quantile(effectives, 0.85),
      effectiveValue: quantile(effectives, 0.9),
      id: quantile(column(observations, 'id'), 0.5),
    },
    component: {
      code: componentCode,
      panel: first(top(column(components, 'code')), 'panel code'),
      value: quantile(
        components.filter((c) => c.component_code === componentCode).map((c) => c.component_value as number),
        0.8,
      ),
      patient: componentPatient,
      effectiveValue: quantile(
        column(
          components.filter((c) => c.patient_id === componentPatient),
          'effective',
        ),
        0.5,
      ),
    },
    encounter: {
      typeCode: first(top(column(encounters, 'type_code')), 'encounter type'),
      provider: first(top(column(encounters, 'service_provider_id')), 'service provider'),
      startValue: quantile(starts, 0.5),
      startLow: quantile(starts, 0.9),
      startHigh: quantile(starts, 0.95),
      endValue: quantile(column(encounters, 'end'), 0.1),
      patients: onePerDomain(encounters, 'patient_id'),
      id: quantile(column(encounters, 'id'), 0.5),
    },
    patient: {
      sharedNhsNumber: sharedNhs,
      nhsNumbers: [
        sharedNhs,
        ...column(patients, 'nhs_number')
          .filter((n) => n !== sharedNhs)
          .sort()
          .slice(0, 3),
      ],
      family: first(top(column(patients, 'family_name')), 'family name'),
      maidenOnly,
      given: first(top(column(patients, 'given_name')), 'given name'),
      postcode: first(top(column(patients, 'postcode')), 'postcode'),
      birthValue: quantile(births, 0.5),
      birthLow: quantile(births, 0.2),
      birthHigh: quantile(births, 0.6),
      organization: first(top(column(patients, 'managing_organization_id')), 'managing organisation'),
      ids: onePerDomain(patients, 'id'),
    },
    procedure: {
      code: first(top(column(procedures, 'code')), 'procedure code'),
      reasonCode: first(top(column(procedures, 'reason_code')), 'procedure reason'),
      performedValue: quantile(performed, 0.5),
      performedLow: quantile(performed, 0.9),
      performedHigh: quantile(performed, 0.92),
      patients: onePerDomain(procedures, 'patient_id'),
      encounter: first(top(column(procedures, 'encounter_id')), 'encounter with procedures'),
    },
    medication: {
      code: first(top(column(medications, 'medication_code')), 'medication code'),
      codes: top(column(medications, 'medication_code'), 3),
      // Codes of the conditions active requests give as their reason (for the reason join).
      reasonCodes: top(
        column(
          conditions.filter((x) => activeReasons.has(x.id as string)),
          'code',
        ),
        3,
      ),
      requester: first(top(column(medications, 'requester_id')), 'requester'),
      encounter: first(top(column(medications, 'encounter_id')), 'encounter with medication'),
      authoredLow: quantile(authored, 0.4),
      authoredHigh: quantile(authored, 0.6),
      authoredValue: quantile(authored, 0.5),
    },
    consent: {
      policyUri: first(top(column(consents, 'policy_uri')), 'consent policy'),
      purpose: first(top(consents.flatMap((c) => (Array.isArray(c.purpose_codes) ? c.purpose_codes : []))), 'consent purpose'),
      patients: onePerDomain(consents, 'patient_id'),
      startValue: quantile(column(consents, 'provision_start'), 0.5),
      dateTimeValue: quantile(column(consents, 'date_time'), 0.5),
    },
  };
}

/** Family names used only in non-official (maiden) names: FHIR `family` matches them, the column must not. */
function maidenNames(): string[] {
  // Read from the NDJSON directly: the flattened patient table keeps only the official name.
  return DOMAINS.flatMap((d) => readResources(d, 'Patient'))
    .flatMap((p) => (p.name ?? []) as { use?: string; family?: string }[])
    .filter((n) => n.use !== 'official' && typeof n.family === 'string')
    .map((n) => n.family as string);
}
