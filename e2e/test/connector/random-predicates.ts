// Random WHERE clauses for the differential test: atoms over the bound columns of condition, observation,
// encounter and patient, with values drawn from the ground truth plus edge values (exactly at a value,
// a millisecond or a day beside it, NULL, values absent from the data, case and prefix variants for
// strings), combined with AND, OR and NOT. Pure: the same seed gives the same predicates.
import { str, ts } from './battery';
import { Row, TruthTables } from './truth';

/** mulberry32: tiny, fast and good enough to pick test cases; the seed is printed so a run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomCase {
  table: 'condition' | 'observation' | 'encounter' | 'patient';
  predicate: string;
}

type Random = () => number;
/** An atom draws its values mostly from a focus row of the table, so conjunctions often still match. */
type Atom = (r: Random, focus: Row) => string;

const FOCUS_SHARE = 0.65;

function pick<T>(r: Random, items: readonly T[]): T {
  const item = items[Math.floor(r() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function distinct(rows: Row[], column: string): string[] {
  return [...new Set(rows.map((row) => row[column]).filter((v): v is string => typeof v === 'string'))].sort();
}

/** The focus row's value when it is one of `values` (keeps anchors selective), else any of `values`. */
function draw<T extends string | number>(r: Random, focus: Row, column: string, values: T[]): T {
  const own = focus[column.replace(/"/g, '')];
  if (r() < FOCUS_SHARE && (typeof own === 'string' || typeof own === 'number') && values.includes(own as T)) return own as T;
  return pick(r, values);
}

function numbers(rows: Row[], column: string): number[] {
  return [...new Set(rows.map((row) => row[column]).filter((v): v is number => typeof v === 'number'))].sort((a, b) => a - b);
}

const ABSENT_TOKEN = 'no-such-value';
const NOT_AN_ID = 'not a FHIR id!'; // connector-spec: values that are not FHIR ids are not pushed
const LABELS = ['R', 'V', 'PSY', 'HIV', 'SDV', 'NOPE'];

/** Token atoms: = and IN mostly, then absent values, NULL tests, <> (not pushed) and IN with NULL. */
function token(column: string, values: string[], selective = false): Atom {
  const absent = ABSENT_TOKEN;
  return (r, focus) => {
    const choice = selective ? r() * 0.7 : r();
    if (choice < 0.45) return `${column} = ${str(draw(r, focus, column, values))}`;
    if (choice < 0.7) {
      const n = 1 + Math.floor(r() * 4);
      const list = [draw(r, focus, column, values), ...Array.from({ length: n - 1 }, () => (r() < 0.15 ? absent : pick(r, values)))];
      return `${column} IN (${[...new Set(list)].map(str).join(', ')})`;
    }
    if (choice < 0.8) return `${column} = ${str(absent)}`;
    if (choice < 0.87) return `${column} IS ${r() < 0.5 ? '' : 'NOT '}NULL`;
    if (choice < 0.93) return `${column} <> ${str(draw(r, focus, column, values))}`;
    return `${column} IN (${str(draw(r, focus, column, values))}, NULL)`;
  };
}

const RANGE_OPS = ['>=', '>', '<', '<=', '=', 'BETWEEN'] as const;

/**
 * Years outside FHIR's 0001..9999 (never pushed: -3000 was once sent as ge3001-...) and the edges of that
 * range. Spelt as literals: ts() would write JavaScript's six-digit years.
 */
const FAR_INSTANTS = [
  "TIMESTAMP '-3000-01-01 00:00:00 UTC'",
  "TIMESTAMP '-0001-12-31 23:59:59.999 UTC'",
  "TIMESTAMP '0001-01-01 00:00:00 UTC'",
  "TIMESTAMP '9999-12-31 23:59:59.999 UTC'",
  "TIMESTAMP '10000-01-01 00:00:00 UTC'",
  "TIMESTAMP '12345-06-07 08:09:10 UTC'",
];
const FAR_DATES = ["DATE '-3000-01-01'", "DATE '-0001-12-31'", "DATE '0001-01-01'", "DATE '9999-12-31'", "DATE '10000-01-01'", "DATE '12345-06-07'"];

/** Instants at, beside (±1 ms, ±1 s), at midnight of, and far away from real values. */
function instantEdge(r: Random, focus: Row, column: string, values: string[]): string {
  const base = Date.parse(draw(r, focus, column, values));
  const shifts = [0, 0, 0, 1, -1, 1000, -1000];
  const choice = r();
  if (choice < 0.08) return ts(r() < 0.5 ? '1900-01-01T00:00:00Z' : '2100-01-01T00:00:00Z');
  if (choice < 0.16) return pick(r, FAR_INSTANTS);
  if (choice < 0.28) return ts(`${new Date(base).toISOString().slice(0, 10)}T00:00:00Z`);
  return ts(new Date(base + pick(r, shifts)).toISOString());
}

function instantRange(column: string, values: string[]): Atom {
  return (r, focus) => {
    const op = pick(r, RANGE_OPS);
    if (op === 'BETWEEN') {
      const [a, b] = [instantEdge(r, focus, column, values), instantEdge(r, focus, column, values)];
      return `${column} BETWEEN ${a} AND ${b}`;
    }
    return `${column} ${op} ${instantEdge(r, focus, column, values)}`;
  };
}

function dateEdge(r: Random, focus: Row, column: string, values: string[]): string {
  const choice = r();
  if (choice < 0.08) return `DATE '${r() < 0.5 ? '1800-01-01' : '2100-12-31'}'`;
  if (choice < 0.16) return pick(r, FAR_DATES);
  const day = new Date(`${draw(r, focus, column, values)}T00:00:00Z`).getTime() + pick(r, [0, 0, 86_400_000, -86_400_000]);
  return `DATE '${new Date(day).toISOString().slice(0, 10)}'`;
}

function dateRange(column: string, values: string[]): Atom {
  return (r, focus) => {
    const op = pick(r, RANGE_OPS);
    const edge = (): string => dateEdge(r, focus, column, values);
    return op === 'BETWEEN' ? `${column} BETWEEN ${edge()} AND ${edge()}` : `${column} ${op} ${edge()}`;
  };
}

/** Exact data values, their neighbours within 1e-12 relative, integers between, and out-of-range values. */
function quantityEdge(r: Random, focus: Row, column: string, values: number[]): string {
  const choice = r();
  if (choice < 0.08) return pick(r, ['-1', '0', '1e9']);
  const v = draw(r, focus, column, values);
  if (choice < 0.25) return String(v + (r() < 0.5 ? 1 : -1) * Math.max(Math.abs(v) * 1e-12, 1e-12));
  if (choice < 0.35) return String(Math.round(v));
  return String(v);
}

function quantityRange(column: string, values: number[]): Atom {
  return (r, focus) => {
    const op = pick(r, RANGE_OPS);
    const edge = (): string => quantityEdge(r, focus, column, values);
    return op === 'BETWEEN' ? `${column} BETWEEN ${edge()} AND ${edge()}` : `${column} ${op} ${edge()}`;
  };
}

/**
 * last_updated against instants far from the data only: the truth holds a stand-in for it (truth.ts), so
 * only bounds that every real and stand-in value is on the same side of are comparable.
 */
function farLastUpdated(): Atom {
  const far = ["TIMESTAMP '1900-01-01 00:00:00 UTC'", "TIMESTAMP '2100-01-01 00:00:00 UTC'", ...FAR_INSTANTS];
  return (r) => {
    const op = pick(r, RANGE_OPS);
    return op === 'BETWEEN' ? `last_updated BETWEEN ${pick(r, far)} AND ${pick(r, far)}` : `last_updated ${op} ${pick(r, far)}`;
  };
}

function security(): Atom {
  return (r, focus) => {
    const own = Array.isArray(focus.security_labels) ? focus.security_labels : [];
    const label = own.length && r() < FOCUS_SHARE ? pick(r, own) : pick(r, LABELS);
    return `${r() < 0.6 ? '' : 'NOT '}contains(security_labels, ${str(label)})`;
  };
}

/** FHIR string search is case-insensitive and by prefix; the SQL column is exact. Trino must re-check. */
function exactString(column: string, values: string[], extra: string[] = []): Atom {
  return (r, focus) => {
    const v = draw(r, focus, column, values);
    const variant = pick(r, [v, v, v, v.toLowerCase(), v.toUpperCase(), v.slice(0, Math.max(1, v.length - 2)), `${v} `, ...extra]);
    return r() < 0.8 ? `${column} = ${str(variant)}` : `${column} IN (${str(variant)}, ${str(pick(r, values))})`;
  };
}

interface TableAtoms {
  /** Atoms whose pushed search is selective: observation cases always include one (full scans are slow). */
  anchors: Atom[];
  others: Atom[];
}

function atomsFor(t: TruthTables, maidenNames: string[]): Record<RandomCase['table'], TableAtoms> {
  const c = t.condition ?? [];
  const o = t.observation ?? [];
  const e = t.encounter ?? [];
  const p = t.patient ?? [];
  const sample = (values: string[], n: number): string[] => values.filter((_, i) => i % Math.max(1, Math.floor(values.length / n)) === 0);
  const domainAtom: Atom = (r) => (r() < 0.7 ? `domain = ${str(pick(r, ['RX1', 'RTH', 'RR8']))}` : `domain IN ('RX1', 'RR8')`);
  const notId: Atom = () => `patient_id = ${str(NOT_AN_ID)}`;
  // A few days of observations (at most a page or two per trust).
  const effectives = distinct(o, 'effective');
  const effectiveWindow: Atom = (r, focus) => {
    const start = Date.parse(draw(r, focus, 'effective', effectives)) - (r() < 0.5 ? 86_400_000 : 0);
    return `effective BETWEEN ${ts(new Date(start).toISOString())} AND ${ts(new Date(start + 3 * 86_400_000).toISOString())}`;
  };
  const rareCodes = (rows: Row[], column: string, max: number): string[] => {
    const counts = new Map<string, number>();
    for (const row of rows) if (typeof row[column] === 'string') counts.set(row[column] as string, (counts.get(row[column] as string) ?? 0) + 1);
    return [...counts.entries()]
      .filter(([, n]) => n <= max)
      .map(([v]) => v)
      .sort();
  };
  return {
    condition: {
      anchors: [
        token('code', distinct(c, 'code'), true),
        token('patient_id', sample(distinct(c, 'patient_id'), 40), true),
        token('encounter_id', sample(distinct(c, 'encounter_id'), 40), true),
        token('id', sample(distinct(c, 'id'), 40), true),
        token('icd10_code', distinct(c, 'icd10_code'), true),
      ],
      // The anchors again, unrestricted (NULL tests, <>), among the others.
      others: [
        token('code', distinct(c, 'code')),
        token('encounter_id', sample(distinct(c, 'encounter_id'), 40)),
        token('icd10_code', distinct(c, 'icd10_code')),
        token('clinical_status', distinct(c, 'clinical_status')),
        token('verification_status', [...distinct(c, 'verification_status'), 'refuted']),
        instantRange('onset', distinct(c, 'onset')),
        instantRange('abatement', distinct(c, 'abatement')),
        instantRange('recorded_date', distinct(c, 'recorded_date')),
        security(),
        domainAtom,
        notId,
        () => 'last_updated IS NOT NULL',
        farLastUpdated(),
      ],
    },
    observation: {
      anchors: [
        token('code', rareCodes(o, 'code', 400), true),
        token('patient_id', sample(distinct(o, 'patient_id'), 40), true),
        token('encounter_id', sample(distinct(o, 'encounter_id'), 40), true),
        token('id', sample(distinct(o, 'id'), 40), true),
        token('value_code', rareCodes(o, 'value_code', 400), true),
        effectiveWindow,
      ],
      others: [
        token('category', distinct(o, 'category')),
        token('status', [...distinct(o, 'status'), 'amended']),
        quantityRange('value', numbers(o, 'value')),
        instantRange('effective', distinct(o, 'effective')),
        security(),
        domainAtom,
        notId,
        token('code', distinct(o, 'code')),
        token('value_code', distinct(o, 'value_code')),
        token('encounter_id', sample(distinct(o, 'encounter_id'), 40)),
      ],
    },
    encounter: {
      anchors: [
        token('patient_id', sample(distinct(e, 'patient_id'), 40), true),
        token('id', sample(distinct(e, 'id'), 40), true),
        token('type_code', rareCodes(e, 'type_code', 200), true),
        token('class_code', ['EMER', 'IMP', 'HH', 'VR'], true),
      ],
      others: [
        token('patient_id', sample(distinct(e, 'patient_id'), 40)),
        token('class_code', distinct(e, 'class_code')),
        token('status', [...distinct(e, 'status'), 'cancelled']),
        token('type_code', distinct(e, 'type_code')),
        token('service_provider_id', distinct(e, 'service_provider_id')),
        instantRange('start', distinct(e, 'start')),
        instantRange('"end"', distinct(e, 'end')),
        security(),
        domainAtom,
        notId,
        farLastUpdated(),
      ],
    },
    patient: {
      anchors: [],
      others: [
        token('nhs_number', distinct(p, 'nhs_number')),
        exactString('family_name', distinct(p, 'family_name'), maidenNames),
        exactString('given_name', distinct(p, 'given_name')),
        exactString('postcode', distinct(p, 'postcode')),
        token('gender', ['male', 'female', 'other']),
        dateRange('birth_date', distinct(p, 'birth_date')),
        token('managing_organization_id', distinct(p, 'managing_organization_id')),
        token('id', distinct(p, 'id')),
        () => 'deceased_at IS NULL',
        security(),
        domainAtom,
        farLastUpdated(),
      ],
    },
  };
}

function combine(r: Random, atoms: Atom[], focus: Row, depth: number): string {
  const choice = r();
  if (depth >= 2 || choice < 0.45) {
    const atom = pick(r, atoms)(r, focus);
    return r() < 0.08 ? `NOT (${atom})` : atom;
  }
  const op = choice < 0.78 ? 'AND' : 'OR';
  return `(${combine(r, atoms, focus, depth + 1)} ${op} ${combine(r, atoms, focus, depth + 1)})`;
}

/** `count` predicates; observation ones are anchored always, condition/encounter ones mostly (scan time). */
export function randomCases(seed: number, count: number, t: TruthTables, maidenNames: string[]): RandomCase[] {
  const r = prng(seed);
  const atoms = atomsFor(t, maidenNames);
  const weights: [RandomCase['table'], number][] = [
    ['condition', 0.3],
    ['observation', 0.25],
    ['encounter', 0.25],
    ['patient', 0.2],
  ];
  const cases: RandomCase[] = [];
  for (let i = 0; i < count; i++) {
    let x = r();
    const table = (weights.find(([, w]) => {
      x -= w;
      return x < 0;
    }) ?? weights[0]!)[0];
    const { anchors, others } = atoms[table];
    const anchorChance = table === 'observation' ? 1 : anchors.length ? 0.7 : 0;
    const focus = pick(r, t[table] ?? []);
    const body = combine(r, [...anchors, ...others], focus, 0);
    const predicate = r() < anchorChance ? `${pick(r, anchors)(r, focus)} AND ${body}` : body;
    cases.push({ table, predicate });
  }
  return cases;
}
