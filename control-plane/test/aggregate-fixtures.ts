// A small table catalogue for the aggregate-only tests: the column names and SQL-on-FHIR types of the
// demo mappings (sql-mappings/*.json) for four tables, as QueryPolicy.aggregateTable would describe their
// policy forms, and policy bounds for observation.value. Pure.

import { type AggregateQuery, type AnalysisContext, analyseAggregateQuery, type TableInfo } from '../src/gateway/disclosure/aggregate-query';
import type { NumericBounds } from '../src/privacy/disclosure-policy';

function table(columns: Record<string, string>): TableInfo {
  return {
    patientKey: 'patient_id',
    columns: new Map(
      Object.entries({ domain: 'code', ...columns }).map(([name, type]) => [
        name.replace('[]', ''),
        { type: type.replace('[]', ''), collection: type.endsWith('[]') },
      ]),
    ),
  };
}

export const CATALOGUE: Record<string, TableInfo> = {
  encounter: table({
    id: 'id',
    patient_id: 'id',
    status: 'code',
    class_code: 'code',
    type_code: 'code',
    type_display: 'string',
    start: 'dateTime',
    end: 'dateTime',
    'security_labels[]': 'code[]',
  }),
  procedure: table({ id: 'id', patient_id: 'id', encounter_id: 'id', status: 'code', code: 'code', code_display: 'string', performed_start: 'dateTime' }),
  condition: table({ id: 'id', patient_id: 'id', encounter_id: 'id', code: 'code', icd10_code: 'code', clinical_status: 'code', onset: 'dateTime' }),
  // `abnormal` is not in the demo mapping: it stands for a FHIR boolean column, which is categorical too.
  observation: table({
    id: 'id',
    patient_id: 'id',
    encounter_id: 'id',
    code: 'code',
    value: 'decimal',
    unit: 'code',
    value_string: 'string',
    abnormal: 'boolean',
  }),
};

/** Policy-declared bounds (as `policies.disclosure.bounds` would give them). */
export const BOUNDS: Record<string, NumericBounds> = { 'observation.value': { lower: 0, upper: 200 } };

/** Tables by their last name part, in any catalog and schema (the resolver's catalog check is not under test). */
export const CONTEXT: AnalysisContext = {
  table: (parts) => {
    const name = parts[parts.length - 1]!;
    const info = CATALOGUE[name];
    return info && { name, info };
  },
  bounds: (t, c) => BOUNDS[`${t}.${c}`],
};

export function analysed(sql: string): AggregateQuery {
  return analyseAggregateQuery(sql, CONTEXT);
}
