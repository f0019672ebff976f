// Static checks of a ViewDefinition before any server is asked: resource type, FHIRPath syntax and the
// function subset the connector's evaluator implements, constants, column names and types, and unionAll
// branches that agree. Structure is connector-spec/view-definition.schema.json's, applied to every
// publication first; the few structural tests left here only keep this function safe on its own.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { ownValue } from '../own-property';

export interface ViewProblem {
  path: string;
  message: string;
}

/** The functions of connector/src/main/java/uk/nhs/fhirmesh/view/fhirpath/Function.java. */
export const SUPPORTED_FUNCTIONS: readonly string[] = [
  'where',
  'select',
  'exists',
  'empty',
  'first',
  'last',
  'count',
  'not',
  'hasValue',
  'ofType',
  'extension',
  'join',
  'lowBoundary',
  'highBoundary',
  'getResourceKey',
  'getReferenceKey',
];

/** FHIR R4 primitive types (plus R5's integer64): a column's `type`. The connector types date, dateTime,
 * instant, the integers, decimal and boolean; every other primitive becomes varchar. */
export const COLUMN_TYPES: readonly string[] = [
  'base64Binary',
  'boolean',
  'canonical',
  'code',
  'date',
  'dateTime',
  'decimal',
  'id',
  'instant',
  'integer',
  'integer64',
  'markdown',
  'oid',
  'positiveInt',
  'string',
  'time',
  'unsignedInt',
  'uri',
  'url',
  'uuid',
];

/** Values of the `ansi/type` column tag the connector accepts (connector/.../mapping/ColumnTypes.java). */
const ANSI_TYPES = ['BOOLEAN', 'INTEGER', 'INT', 'BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP WITH TIME ZONE', 'VARCHAR', 'CHARACTER VARYING'];

const PARENTS = (r4 as unknown as { type2Parent: Record<string, string> }).type2Parent;

function isResourceType(name: string): boolean {
  let type: string | undefined = name;
  for (let i = 0; type && i < 5; i++) {
    // `resource` is the publisher's string: `constructor` must not walk into Object.prototype.
    const parent: string | undefined = ownValue(PARENTS, type);
    if (parent === 'DomainResource' || parent === 'Resource') return name !== 'DomainResource';
    type = parent;
  }
  return false;
}

interface Node {
  type: string;
  text?: string;
  children?: Node[];
}

function fhirPathProblems(expression: unknown, where: string, label: string, constants: Set<string>): ViewProblem[] {
  if (typeof expression !== 'string' || expression.trim() === '') return [{ path: where, message: `${label}: FHIRPath must be a non-empty string` }];
  let ast: Node;
  try {
    ast = fhirpath.parse(expression) as Node;
  } catch (e) {
    return [{ path: where, message: `${label}: "${expression}" is not valid FHIRPath (${(e as Error).message.split('\n')[0]})` }];
  }
  const problems: ViewProblem[] = [];
  const walk = (n: Node): void => {
    if (n.type === 'FunctionInvocation' && n.text && !SUPPORTED_FUNCTIONS.includes(n.text)) {
      problems.push({
        path: where,
        message: `${label}: unknown function '${n.text}()' in path "${expression}" (supported: ${SUPPORTED_FUNCTIONS.join(', ')})`,
      });
    }
    if (
      n.type === 'ExternalConstantTerm' &&
      n.text &&
      !constants.has(n.text) &&
      !['resource', 'rootResource', 'context', 'ucum', 'sct', 'loinc'].includes(n.text)
    ) {
      problems.push({ path: where, message: `${label}: constant %${n.text} in path "${expression}" is not defined in the view's constant list` });
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(ast);
  return problems;
}

interface Select {
  column?: { name?: unknown; path?: unknown; type?: unknown; tag?: unknown }[];
  select?: Select[];
  unionAll?: Select[];
  forEach?: unknown;
  forEachOrNull?: unknown;
}

function columnsOf(s: Select): string[] {
  return [
    ...(s.column ?? []).map((c) => `${String(c.name)}:${String(c.type)}`),
    ...(s.select ?? []).flatMap(columnsOf),
    ...(s.unionAll?.length ? columnsOf(s.unionAll[0]!) : []),
  ];
}

export function validateViewDefinition(view: unknown): ViewProblem[] {
  if (view === null || typeof view !== 'object' || Array.isArray(view)) return [{ path: '', message: 'a ViewDefinition must be a JSON object' }];
  const v = view as Record<string, unknown>;
  const problems: ViewProblem[] = [];
  if (v.resourceType !== undefined && v.resourceType !== 'ViewDefinition')
    problems.push({ path: '/resourceType', message: `resourceType must be ViewDefinition, not ${JSON.stringify(v.resourceType)}` });
  if (typeof v.resource !== 'string' || !isResourceType(v.resource))
    problems.push({ path: '/resource', message: `resource ${JSON.stringify(v.resource)} is not a FHIR R4 resource type` });
  if (typeof v.name !== 'string') problems.push({ path: '/name', message: 'name is required' });
  if (!Array.isArray(v.select) || v.select.length === 0) return [...problems, { path: '/select', message: 'select must be a non-empty array' }];
  const constants = new Set(Array.isArray(v.constant) ? (v.constant as { name?: unknown }[]).map((c) => String(c.name)) : []);
  const wheres = Array.isArray(v.where) ? (v.where as { path?: unknown }[]) : [];
  for (const [i, w] of wheres.entries()) problems.push(...fhirPathProblems(w.path, `/where/${i}/path`, 'where', constants));
  const names = new Map<string, string>();
  const walk = (selects: Select[], at: string, countNames: boolean): void => {
    selects.forEach((s, i) => {
      const here = `${at}/${i}`;
      for (const key of ['forEach', 'forEachOrNull'] as const)
        if (s[key] !== undefined) problems.push(...fhirPathProblems(s[key], `${here}/${key}`, key, constants));
      (s.column ?? []).forEach((c, j) => {
        const label = `column '${String(c.name)}'`;
        if (typeof c.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(c.name))
          problems.push({ path: `${here}/column/${j}/name`, message: `column name ${JSON.stringify(c.name)} must be letters, digits and underscores` });
        if (typeof c.type !== 'string' || c.type === '') problems.push({ path: `${here}/column/${j}/type`, message: `${label}: type is required` });
        else if (!COLUMN_TYPES.includes(c.type))
          problems.push({ path: `${here}/column/${j}/type`, message: `${label}: type '${c.type}' is not a FHIR primitive type (${COLUMN_TYPES.join(', ')})` });
        const ansi = Array.isArray(c.tag) ? (c.tag as { name?: unknown; value?: unknown }[]).find((t) => t.name === 'ansi/type') : undefined;
        if (ansi && !ANSI_TYPES.includes(String(ansi.value).trim().toUpperCase())) {
          problems.push({
            path: `${here}/column/${j}/tag`,
            message: `${label}: ansi/type '${String(ansi.value)}' is not supported (${ANSI_TYPES.join(', ')})`,
          });
        }
        problems.push(...fhirPathProblems(c.path, `${here}/column/${j}/path`, label, constants));
        if (countNames && typeof c.name === 'string') {
          if (names.has(c.name)) problems.push({ path: `${here}/column/${j}/name`, message: `${label} is defined twice` });
          names.set(c.name, here);
        }
      });
      walk(s.select ?? [], `${here}/select`, countNames);
      if (s.unionAll?.length) {
        const first = columnsOf(s.unionAll[0]!).join(',');
        s.unionAll.forEach((branch, k) => {
          if (columnsOf(branch).join(',') !== first)
            problems.push({
              path: `${here}/unionAll/${k}`,
              message: `unionAll branch ${k} has columns ${columnsOf(branch).join(', ')}; branch 0 has ${first}`,
            });
        });
        walk(s.unionAll.slice(0, 1), `${here}/unionAll`, countNames);
        walk(s.unionAll.slice(1), `${here}/unionAll`, false);
      }
    });
  };
  walk(v.select as Select[], '/select', true);
  return problems;
}
