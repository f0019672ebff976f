// The SQL shape of every `fhir.default` table, written out by hand: the ground truth must not learn its
// columns from the connector. A test checks it against sql-mappings/*.json and Trino's catalog.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../runtime/topology';

export type SqlType = 'varchar' | 'timestamptz' | 'date' | 'double' | 'integer' | 'boolean' | 'varchar[]';

export interface TableSchema {
  readonly name: string;
  /** Column name -> SQL type, in the order Trino lists them (the connector's `domain` first). */
  readonly columns: readonly (readonly [string, SqlType])[];
}

const commonTail = [
  ['last_updated', 'timestamptz'],
  ['security_labels', 'varchar[]'],
] as const;

export const TABLES: readonly TableSchema[] = [
  {
    name: 'condition',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['encounter_id', 'varchar'],
      ['code', 'varchar'],
      ['code_display', 'varchar'],
      ['icd10_code', 'varchar'],
      ['clinical_status', 'varchar'],
      ['verification_status', 'varchar'],
      ['onset', 'timestamptz'],
      ['abatement', 'timestamptz'],
      ['recorded_date', 'timestamptz'],
      ...commonTail,
    ],
  },
  {
    name: 'consent',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['status', 'varchar'],
      ['scope_code', 'varchar'],
      ['category_code', 'varchar'],
      ['provision_type', 'varchar'],
      ['provision_start', 'timestamptz'],
      ['provision_end', 'timestamptz'],
      ['policy_uri', 'varchar'],
      ['purpose_codes', 'varchar[]'],
      ['date_time', 'timestamptz'],
      ...commonTail,
    ],
  },
  {
    name: 'encounter',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['status', 'varchar'],
      ['class_code', 'varchar'],
      ['type_code', 'varchar'],
      ['type_display', 'varchar'],
      ['start', 'timestamptz'],
      ['end', 'timestamptz'],
      ['service_provider_id', 'varchar'],
      ...commonTail,
    ],
  },
  {
    name: 'medication_request',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['encounter_id', 'varchar'],
      ['status', 'varchar'],
      ['intent', 'varchar'],
      ['medication_code', 'varchar'],
      ['medication_display', 'varchar'],
      ['authored_on', 'timestamptz'],
      ['requester_id', 'varchar'],
      ['reason_condition_id', 'varchar'],
      ...commonTail,
    ],
  },
  {
    name: 'observation',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['encounter_id', 'varchar'],
      ['status', 'varchar'],
      ['category', 'varchar'],
      ['code', 'varchar'],
      ['code_display', 'varchar'],
      ['effective', 'timestamptz'],
      ['issued', 'timestamptz'],
      ['value', 'double'],
      ['unit', 'varchar'],
      ['value_code', 'varchar'],
      ['value_string', 'varchar'],
      ...commonTail,
    ],
  },
  {
    name: 'observation_component',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['code', 'varchar'],
      ['effective', 'timestamptz'],
      ...commonTail,
      ['component_code', 'varchar'],
      ['component_display', 'varchar'],
      ['component_value', 'double'],
      ['component_unit', 'varchar'],
    ],
  },
  {
    name: 'patient',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['nhs_number', 'varchar'],
      ['family_name', 'varchar'],
      ['given_name', 'varchar'],
      ['gender', 'varchar'],
      ['birth_date', 'date'],
      ['postcode', 'varchar'],
      ['deceased_at', 'timestamptz'],
      ['managing_organization_id', 'varchar'],
      ...commonTail,
    ],
  },
  {
    name: 'procedure',
    columns: [
      ['domain', 'varchar'],
      ['id', 'varchar'],
      ['patient_id', 'varchar'],
      ['encounter_id', 'varchar'],
      ['status', 'varchar'],
      ['code', 'varchar'],
      ['code_display', 'varchar'],
      ['performed_start', 'timestamptz'],
      ['performed_end', 'timestamptz'],
      ['reason_code', 'varchar'],
      ...commonTail,
    ],
  },
];

export function table(name: string): TableSchema {
  const found = TABLES.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name}`);
  return found;
}

/** Trino's spelling of each type, as `information_schema.columns` and result headers give it. */
export const TRINO_TYPE: Record<SqlType, string> = {
  varchar: 'varchar',
  timestamptz: 'timestamp(3) with time zone',
  date: 'date',
  double: 'double',
  integer: 'integer',
  boolean: 'boolean',
  'varchar[]': 'array(varchar)',
};

export const PG_TYPE: Record<SqlType, string> = {
  varchar: 'text',
  timestamptz: 'timestamptz',
  date: 'date',
  double: 'double precision',
  integer: 'integer',
  boolean: 'boolean',
  'varchar[]': 'text[]',
};

/** The type a mapping column should have under connector-spec's type table (for the cross-check test). */
export function expectedFromMapping(fhirType: string, collection: boolean): SqlType {
  const scalar: SqlType = ['dateTime', 'instant'].includes(fhirType)
    ? 'timestamptz'
    : fhirType === 'date'
      ? 'date'
      : fhirType === 'decimal'
        ? 'double'
        : ['integer', 'positiveInt', 'unsignedInt'].includes(fhirType)
          ? 'integer'
          : fhirType === 'boolean'
            ? 'boolean'
            : 'varchar';
  if (!collection) return scalar;
  if (scalar !== 'varchar') throw new Error(`collection of ${fhirType} not expected in the mappings`);
  return 'varchar[]';
}

export interface MappingFile {
  table: string;
  view: { select: { forEach?: string; column: { name: string; type: string; collection?: boolean }[] }[] };
  bindings: Record<string, { param: string; type: string; system?: string; target?: string }>;
}

export function readMappings(): MappingFile[] {
  const dir = path.join(ROOT, 'sql-mappings');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as MappingFile);
}
