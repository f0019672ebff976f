// Group keys whose set of values is public knowledge, so a group may be released without first proving
// (by noisy thresholding) that enough patients are in it: the answer lists every value of the set, empty
// groups included, and which groups exist reveals nothing about any patient. Everything else is private.
// Pure.

/** ICD-10 (WHO 2019) chapters by their code ranges: a public classification, grouped with icd10_chapter(code). */
export const ICD10_CHAPTERS: readonly { chapter: string; from: string; to: string }[] = [
  { chapter: 'I', from: 'A00', to: 'B99' },
  { chapter: 'II', from: 'C00', to: 'D48' },
  { chapter: 'III', from: 'D50', to: 'D89' },
  { chapter: 'IV', from: 'E00', to: 'E90' },
  { chapter: 'V', from: 'F00', to: 'F99' },
  { chapter: 'VI', from: 'G00', to: 'G99' },
  { chapter: 'VII', from: 'H00', to: 'H59' },
  { chapter: 'VIII', from: 'H60', to: 'H95' },
  { chapter: 'IX', from: 'I00', to: 'I99' },
  { chapter: 'X', from: 'J00', to: 'J99' },
  { chapter: 'XI', from: 'K00', to: 'K93' },
  { chapter: 'XII', from: 'L00', to: 'L99' },
  { chapter: 'XIII', from: 'M00', to: 'M99' },
  { chapter: 'XIV', from: 'N00', to: 'N99' },
  { chapter: 'XV', from: 'O00', to: 'O99' },
  { chapter: 'XVI', from: 'P00', to: 'P96' },
  { chapter: 'XVII', from: 'Q00', to: 'Q99' },
  { chapter: 'XVIII', from: 'R00', to: 'R99' },
  { chapter: 'XIX', from: 'S00', to: 'T98' },
  { chapter: 'XX', from: 'V01', to: 'Y98' },
  { chapter: 'XXI', from: 'Z00', to: 'Z99' },
  { chapter: 'XXII', from: 'U00', to: 'U99' },
];

/** The SQL (Trino) for the chapter of an ICD-10 code expression; NULL for anything that is not a code. */
export function icd10ChapterSql(code: string): string {
  const head = `substr(upper(${code}), 1, 3)`;
  const arms = ICD10_CHAPTERS.map((c) => `WHEN ${head} BETWEEN '${c.from}' AND '${c.to}' THEN '${c.chapter}'`).join(' ');
  return `CASE ${arms} END`;
}

/**
 * Public value sets of FHIR code columns (`table.column`), from the HL7 specifications: the codes are
 * fixed by the standard, not by the data.
 */
const FHIR_VALUE_SETS: Record<string, readonly string[]> = {
  // http://terminology.hl7.org/ValueSet/v3-ActEncounterCode
  'encounter.class_code': ['ACUTE', 'AMB', 'EMER', 'FLD', 'HH', 'IMP', 'NONAC', 'OBSENC', 'PRENC', 'SS', 'VR'],
  // http://hl7.org/fhir/ValueSet/encounter-status (R4)
  'encounter.status': ['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'cancelled', 'entered-in-error', 'unknown'],
  // http://hl7.org/fhir/ValueSet/administrative-gender
  'patient.gender': ['male', 'female', 'other', 'unknown'],
  // http://hl7.org/fhir/ValueSet/condition-clinical
  'condition.clinical_status': ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'],
  // http://hl7.org/fhir/ValueSet/event-status
  'procedure.status': ['preparation', 'in-progress', 'not-done', 'on-hold', 'stopped', 'completed', 'entered-in-error', 'unknown'],
};

/** A public key set; `nullable` when the column can be NULL (then NULL is one more value, always listed). */
export type KeyDomain = { kind: 'public'; values: readonly string[]; nullable: boolean; source: string } | { kind: 'private' };

/**
 * The key set of a group key: the connector's `domain` column is the ODS code of a registered trust (the
 * registry lists them), ICD-10 chapters and HL7 value sets are published standards; the rest is private.
 */
export function keyDomain(table: string, column: string, transform: 'icd10-chapter' | undefined, domains: readonly string[]): KeyDomain {
  if (transform === 'icd10-chapter') return { kind: 'public', values: ICD10_CHAPTERS.map((c) => c.chapter), nullable: true, source: 'ICD-10 chapters' };
  // The connector sets `domain` on every row.
  if (column === 'domain') return { kind: 'public', values: [...domains].sort(), nullable: false, source: 'ODS codes of the registered domains' };
  const set = FHIR_VALUE_SETS[`${table}.${column}`];
  return set ? { kind: 'public', values: set, nullable: true, source: `the HL7 FHIR value set of ${table}.${column}` } : { kind: 'private' };
}
