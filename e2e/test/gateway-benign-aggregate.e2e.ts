// The benign analyst battery (gateway/benign-battery.ts) sent by an aggregate-only consumer under
// differential privacy (issue 13): every query is either refused saying what is allowed, or answered, and
// every answered number is checked against the policy-form oracle (gateway/benign-oracle.ts). Metadata
// (SHOW, DESCRIBE, information_schema, VALUES) reads no patient data and is answered exactly; a query over
// patient tables is answered only with protected aggregates, each with a 95% interval the exact value must
// lie near. The DP answer's truth is the *bounded* value (at most maxRowsPerPatient rows per patient across
// trusts, values clamped): a number is compared only where the oracle shows bounding cannot change it, and
// otherwise counted as answered but not compared.
import { expect } from 'chai';
import { api, DEMO_ANALYST } from '../runtime/demo-registry';
import type { GatewayIdentity, GatewayResult } from '../runtime/gateway-client';
import { type Cell, describeDifference, difference, normaliseRows } from './connector/compare';
import { AnalystSession } from './gateway/analyst-session';
import { type BenignQuery, benignBattery, benignFacts, POLICY_TABLES } from './gateway/benign-battery';
import { loadPolicyTruth, PolicyTruthEngine, policyTables, projectKey, RESEARCH_RULES } from './gateway/benign-oracle';
import { connectionLost, MAX_RETRIES, pauseBeforeRetry, throwIfConnectionLost } from './gateway/connection-loss';

/** Small: the mesh's two cores are shared with Trino and three HAPI trusts. */
const CONCURRENCY = Number(process.env.BENIGN_CONCURRENCY ?? 2);
const RUN = Date.now().toString(36);
/** The tender's cap per output by default (at most 10); larger ε narrows the intervals and needs more consumers. */
const EPSILON_PER_QUERY = Number(process.env.BENIGN_DP_EPSILON ?? 1);
/** The ceiling of a consumer's budget per period: 100 answers at ε=1. */
const BUDGET_EPSILON = 100;
/** Most consumers created for one run (a fresh one takes over when a budget is spent): enough if every query were answered. */
const MAX_CONSUMERS = Math.ceil((420 * EPSILON_PER_QUERY) / BUDGET_EPSILON) + 1;
/** High, so that bounding rarely changes an answer and most numbers can be compared with the exact oracle. */
const MAX_ROWS_PER_PATIENT = 100;
/** Declared clamping bounds (a plausible clinical range, chosen without the data; whether they bite is checked per query). */
const BOUNDS: Record<string, [number, number]> = {
  'observation.value': [-100, 1000],
  'observation_component.component_value': [0, 1000],
};
/** Clamped values are put on a grid of 10^floor(log10(range / 1000)) (1 for the bounds above): a mean may move by half a step. */
const GRID_TOLERANCE = 0.5;
/** The run's chance of failing a correct gateway by noise alone, at most (sets the interval widening below). */
const FALSE_ALARM = 1e-3;
/** The widening asked for per number: the truth within three stated 95% half-widths of the answer. */
const MIN_WIDENING = 3;
const ALLOWED_FORM = 'Aggregate-only access allows:';
const PREPARED_REFUSAL = /prepared statements are not available/;
const DP_NOTE = /^differential privacy: ε=/;

type Verdict =
  | { kind: 'refused'; reason: string }
  | { kind: 'exact' }
  | { kind: 'dp'; compared: ComparedCell[]; skipped: number; collapsed: string[]; note?: string }
  | { kind: 'failure'; failure: string };

interface ComparedCell {
  /** Where: column and group, for the failure message. */
  where: string;
  value: number;
  low: number;
  high: number;
  truth: number;
  /** How many stated half-widths (measured from the answer) the interval must be widened to reach the truth; ≤ 1 inside it. */
  widening: number;
}

interface Outcome {
  query: BenignQuery;
  verdict: Verdict;
  ms: number;
  retries: number;
}

/** The consumer's budget for the period is spent: the query is sent again by the next consumer. */
class BudgetSpent extends Error {}

/** Throws for a dropped connection or a spent budget; otherwise the result as it came. */
function settled(result: GatewayResult): GatewayResult {
  throwIfConnectionLost(result);
  if (result.error?.errorName === 'QUERY_REJECTED' && /privacy budget exhausted/.test(result.error.message)) throw new BudgetSpent(result.error.message);
  return result;
}

function problemOf(result: GatewayResult): string | undefined {
  if (result.httpStatus !== undefined) return `HTTP ${result.httpStatus}: ${result.httpText ?? ''}`.trim();
  if (result.error) return `${result.error.errorName}: ${result.error.message}`;
  return undefined;
}

/**
 * Consumers created for this run, one at a time: aggregate-only under differential privacy, research
 * purpose, alice's project (the oracle's pseudonym key). A spent budget hands over to a fresh consumer.
 */
class Consumers {
  readonly names: string[] = [];
  private current: Promise<GatewayIdentity> | undefined;

  identity(): Promise<GatewayIdentity> {
    this.current ??= this.create();
    return this.current;
  }

  /** The budget of `spent` is gone: the next identity() is a new consumer (once, however many workers notice). */
  async exhausted(spent: GatewayIdentity): Promise<void> {
    if ((await this.identity()).user === spent.user) this.current = this.create();
    await this.current;
  }

  private async create(): Promise<GatewayIdentity> {
    if (this.names.length >= MAX_CONSUMERS) throw new Error(`${MAX_CONSUMERS} consumers' budgets spent: more answers than the run should need`);
    const name = `dp-benign-${RUN}-${this.names.length + 1}`;
    this.names.push(name);
    const created = await api('POST', '/consumers', {
      name,
      kind: 'user',
      roles: ['analyst'],
      allowedPurposes: ['research'],
      policies: {
        projects: [DEMO_ANALYST.project],
        disclosure: {
          mode: 'differential-privacy',
          epsilonPerQuery: EPSILON_PER_QUERY,
          maxRowsPerPatient: MAX_ROWS_PER_PATIENT,
          // Each query with private group keys spends δ=1e-6 on partition selection: room for all of them.
          deltaBudget: 1e-2,
          bounds: BOUNDS,
        },
      },
      budget: { epsilon: BUDGET_EPSILON, period: 'month' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const issued = await api('POST', `/consumers/${name}/token`);
    expect(issued.status, JSON.stringify(issued.body)).to.be.lessThan(300);
    return { user: name, token: String(issued.body.token), purpose: 'research', project: DEMO_ANALYST.project };
  }
}

const TABLE_NAMES = POLICY_TABLES.join('|');
/** A mesh table read in FROM / JOIN (qualified, schema-qualified after USE, or bare), also as (TABLE t). */
const READS_TABLE = new RegExp(`\\b(?:FROM|JOIN)\\s+(?:\\(\\s*TABLE\\s+)?(?:(?:fhir\\.)?default\\.)?(?:${TABLE_NAMES})\\b`, 'i');

/** Whether the statement reads patient data (a query over mesh tables): only protected aggregates may answer it. */
function readsPatientData(sql: string): boolean {
  return /^\s*(SELECT|WITH|VALUES|TABLE|\(|EXECUTE)\b/i.test(sql) && (READS_TABLE.test(sql) || /^\s*EXECUTE\b/i.test(sql));
}

/** Which positions of the statement are at top level: outside parentheses and string literals. */
function topLevel(sql: string): { depthZero: (i: number) => boolean } {
  const depth: number[] = [];
  let d = 0;
  let quoted = false;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') d++;
    depth.push(quoted ? -1 : d);
    if (!quoted && ch === ')') d--;
  }
  return { depthZero: (i) => depth[i] === 0 };
}

/** First top-level occurrence of a keyword (word-bounded), at or after `from`; -1 if none. */
function keywordAt(sql: string, keyword: RegExp, from = 0): number {
  const { depthZero } = topLevel(sql);
  const re = new RegExp(keyword.source, 'gi');
  re.lastIndex = from;
  for (let m = re.exec(sql); m; m = re.exec(sql)) if (depthZero(m.index)) return m.index;
  return -1;
}

interface AggregateShape {
  /** Per select item: a group key, or an aggregate with its kind and argument. */
  items: ({ kind: 'key' } | { kind: 'rows' | 'values' | 'patients' | 'sum' | 'avg'; argument?: string })[];
  /** `FROM ... [WHERE ...]` as written. */
  fromWhere: string;
  /** The first table's patient key as written (alias.column): whose rows bounding counts. */
  patientKey: string;
}

/** The oracle-side reading of a simple `SELECT <keys, aggregates> FROM ... [WHERE] [GROUP BY] [ORDER BY] [LIMIT]`. */
function aggregateShape(sql: string): AggregateShape | undefined {
  const select = /^\s*SELECT\s+/i.exec(sql);
  const from = keywordAt(sql, /\bFROM\b/);
  if (!select || from < 0) return undefined;
  const { depthZero } = topLevel(sql);
  const list = sql.slice(select[0].length, from);
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === ',' && depthZero(select[0].length + i)) {
      items.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  items.push(list.slice(start).trim());
  const ends = [/\bGROUP\s+BY\b/, /\bORDER\s+BY\b/, /\bLIMIT\b/, /\bHAVING\b/].map((k) => keywordAt(sql, k, from)).filter((i) => i >= 0);
  const fromWhere = sql.slice(from, ends.length ? Math.min(...ends) : undefined).trim();
  const first = /^FROM\s+((?:[\w]+\.)*([\w]+))(?:\s+(?:AS\s+)?(?!(?:JOIN|LEFT|RIGHT|FULL|INNER|CROSS|WHERE|ON)\b)(\w+))?/i.exec(fromWhere);
  if (!first) return undefined;
  const table = first[2]!.toLowerCase();
  const patientKey = `${first[3] ?? table}.${table === 'patient' ? 'id' : 'patient_id'}`;
  return {
    fromWhere,
    patientKey,
    items: items.map((text) => {
      const call = /^(count|sum|avg)\s*\((.*)\)(?:\s+(?:AS\s+)?\w+)?$/is.exec(text);
      if (!call) return { kind: 'key' as const };
      const name = call[1]!.toLowerCase();
      const argument = call[2]!.trim();
      if (name === 'count') {
        if (argument === '*') return { kind: 'rows' as const };
        if (/^DISTINCT\s/i.test(argument)) return { kind: 'patients' as const };
        return { kind: 'values' as const, argument };
      }
      return { kind: name as 'sum' | 'avg', argument };
    }),
  };
}

/** The answer's columns as outputs: an aggregate `x` is followed by x_ci95_low and x_ci95_high. */
function outputsOf(columns: { name: string }[]): { index: number; aggregate: boolean; name: string }[] {
  const out: { index: number; aggregate: boolean; name: string }[] = [];
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i]!.name;
    const aggregate = columns[i + 1]?.name === `${name}_ci95_low` && columns[i + 2]?.name === `${name}_ci95_high`;
    out.push({ index: i, aggregate, name });
    if (aggregate) i += 2;
  }
  return out;
}

function keyText(values: unknown[]): string {
  return JSON.stringify(values.map((v) => (v === null || v === undefined ? null : String(v))));
}

/** A statement that reads no patient data (metadata, VALUES): answered as the battery expects it, exactly. */
async function checkExact(query: BenignQuery, result: GatewayResult, oracle: PolicyTruthEngine): Promise<Verdict> {
  const names = result.columns.map((c) => c.name);
  if (query.columns && JSON.stringify(names) !== JSON.stringify(query.columns))
    return { kind: 'failure', failure: `columns ${JSON.stringify(names)}, expected ${JSON.stringify(query.columns)}` };
  if (query.answers) return result.rows.length > 0 ? { kind: 'exact' } : { kind: 'failure', failure: 'answered with no rows' };
  const types = result.columns.map((c) => c.type);
  const actual = normaliseRows(result.rows, types);
  if (query.includes) {
    const missing = normaliseRows(query.includes, types).filter((row) => !actual.some((a) => JSON.stringify(a) === JSON.stringify(row)));
    return missing.length ? { kind: 'failure', failure: `missing rows ${JSON.stringify(missing)} in ${JSON.stringify(actual)}` } : { kind: 'exact' };
  }
  let expected: Cell[][];
  if (query.expected) expected = normaliseRows(query.expected, types);
  else {
    const truth = await oracle.query(query.oracleSql ?? query.sql);
    if (truth.columns.length !== types.length) return { kind: 'failure', failure: `${types.length} columns, the oracle has ${truth.columns.length}` };
    expected = normaliseRows(truth.rows, types);
  }
  const d = difference(actual, expected, { ordered: query.ordered });
  return d ? { kind: 'failure', failure: describeDifference(d, 'gateway', 'policy-form oracle') } : { kind: 'exact' };
}

/** A protected aggregate answer, each released number held against the oracle where bounding cannot have changed it. */
async function checkProtected(query: BenignQuery, result: GatewayResult, oracle: PolicyTruthEngine): Promise<Verdict> {
  const fail = (failure: string): Verdict => ({ kind: 'failure', failure });
  if (!result.warnings.some((w) => DP_NOTE.test(w)))
    return fail(`patient data answered without differential privacy (warnings: ${JSON.stringify(result.warnings)}; columns ${JSON.stringify(result.columns)})`);
  // ORDER BY ... LIMIT picks from noisy numbers: the oracle gives every group, the released ones are looked up in it.
  const oracleSql = (query.oracleSql ?? query.sql).replace(/\s+LIMIT\s+\d+\s*$/i, '');
  const shape = aggregateShape(oracleSql);
  if (!shape) return fail(`answered, but the test cannot read the query as SELECT <keys, aggregates> FROM ...: ${oracleSql}`);
  const outputs = outputsOf(result.columns);
  const truth = await oracle.query(oracleSql);
  if (outputs.length !== truth.columns.length || outputs.length !== shape.items.length)
    return fail(
      `${outputs.length} outputs (${result.columns.map((c) => c.name)}), the oracle has ${truth.columns.length} columns, the query ${shape.items.length} items`,
    );
  for (const [i, o] of outputs.entries()) {
    if (o.aggregate !== (shape.items[i]!.kind !== 'key'))
      return fail(`output ${o.name} ${o.aggregate ? 'has' : 'lacks'} an interval; the query's item ${i + 1} is a ${shape.items[i]!.kind}`);
  }

  // Bounding: no patient with more than maxRowsPerPatient of the query's rows, no value outside its declared bounds.
  const perPatient = await oracle.query(
    `SELECT max(n) FROM (SELECT ${shape.patientKey} AS dp_patient, count(*) AS n ${shape.fromWhere} GROUP BY ${shape.patientKey}) AS per_patient`,
  );
  const mostRows = Number(perPatient.rows[0]?.[0] ?? 0);
  const unbounded = mostRows <= MAX_ROWS_PER_PATIENT;
  const unclamped = new Map<number, boolean>();
  for (const [i, item] of shape.items.entries()) {
    if (item.kind !== 'sum' && item.kind !== 'avg') continue;
    const column = item.argument!.split('.').pop()!.toLowerCase();
    const bounds = Object.entries(BOUNDS).find(([name]) => name.endsWith(`.${column}`))?.[1];
    if (!bounds) {
      unclamped.set(i, false);
      continue;
    }
    const range = await oracle.query(`SELECT min(${item.argument}), max(${item.argument}) ${shape.fromWhere}`);
    const [low, high] = range.rows[0]!.map((v) => (v === null ? null : Number(v))) as [number | null, number | null];
    unclamped.set(i, (low === null || low >= bounds[0]) && (high === null || high <= bounds[1]));
  }

  const keys = outputs.flatMap((o, i) => (o.aggregate ? [] : [i]));
  const thresholded = result.warnings.some((w) => /groups with fewer than \d+ patients/.test(w));
  const exact = new Map(truth.rows.map((row) => [keyText(keys.map((k) => row[k])), row]));
  const released = new Set<string>();
  const compared: ComparedCell[] = [];
  const collapsed: string[] = [];
  let skipped = 0;
  if (!keys.length && result.rows.length !== 1) return fail(`an ungrouped aggregate answered with ${result.rows.length} rows`);
  const cell = (row: unknown[], at: number): [number | null, number | null, number | null] =>
    [row[at], row[at + 1], row[at + 2]].map((v) => (v === null || v === undefined ? null : Number(v))) as [number | null, number | null, number | null];
  // A count's noise has one scale for every group of a column: its half-width, read where the count is positive
  // (the interval of a count clamped at zero is clamped too, and says less than the noise).
  const noiseHalfWidth = new Map<number, number>();
  for (const [i, o] of outputs.entries()) {
    if (!o.aggregate || ['sum', 'avg'].includes(shape.items[i]!.kind)) continue;
    for (const row of result.rows) {
      const [value, , high] = cell(row, o.index);
      if (value !== null && high !== null && value > 0) noiseHalfWidth.set(i, Math.max(noiseHalfWidth.get(i) ?? 0, high - value));
    }
  }
  for (const row of result.rows) {
    const group = keyText(keys.map((k) => row[outputs[k]!.index]));
    if (released.has(group)) return fail(`group ${group} released twice`);
    released.add(group);
    const oracleRow = exact.get(group);
    // A private key's group is released only when patients are in it; a public key set lists empty groups too.
    if (!oracleRow && (thresholded || !keys.length)) return fail(`group ${group} released, but the oracle has no such group`);
    for (const [i, o] of outputs.entries()) {
      if (!o.aggregate) continue;
      const item = shape.items[i] as { kind: 'rows' | 'values' | 'patients' | 'sum' | 'avg' };
      const [value, low, high] = cell(row, o.index);
      if (value === null) {
        if (item.kind !== 'avg') return fail(`${o.name} of group ${group} is NULL`);
        skipped++; // no mean: the noisy count was not positive
        continue;
      }
      if (low === null || high === null) {
        if (item.kind !== 'avg') return fail(`${o.name}=${value} of group ${group} has no interval`);
        skipped++; // the noisy count could be zero, so the data cannot bound the mean
        continue;
      }
      if (!(low <= value + 1e-9 && value <= high + 1e-9)) return fail(`${o.name}=${value} of group ${group} lies outside its own interval [${low}, ${high}]`);
      const comparable =
        item.kind === 'patients' ? !keys.length || unbounded : item.kind === 'sum' || item.kind === 'avg' ? unbounded && unclamped.get(i) === true : unbounded;
      const exactValue = oracleRow ? oracleRow[i] : item.kind === 'avg' ? null : 0;
      if (!comparable || exactValue === null || exactValue === undefined) {
        skipped++;
        continue;
      }
      const t = Number(exactValue);
      const tolerance = item.kind === 'avg' ? GRID_TOLERANCE : 0;
      const stated = Math.max(high - value, value - low);
      const halfWidth = Math.max(stated, noiseHalfWidth.get(i) ?? 0);
      // The noisy count fell below zero by more than the half-width: released as 0 with the interval [0, 0].
      if (value === 0 && high === 0 && t > 0) collapsed.push(`${o.name} of group ${group}: 0 (95%: 0–0), exact ${t}`);
      if (halfWidth === 0 && t !== value) {
        skipped++; // nothing in the answer tells the noise's size (a lone count clamped at zero)
        continue;
      }
      const gap = Math.max(0, low - t - tolerance, t - high - tolerance);
      const widening = gap === 0 ? 1 : halfWidth > 0 ? 1 + gap / halfWidth : Number.POSITIVE_INFINITY;
      compared.push({ where: `${o.name} of group ${group}`, value, low, high, truth: t, widening });
    }
  }
  const withheld = [...exact.keys()].filter((k) => !released.has(k)).length;
  const notes = [
    !unbounded && `a patient has ${mostRows} of the query's rows (bounded to ${MAX_ROWS_PER_PATIENT})`,
    withheld && `${withheld} of the oracle's ${exact.size} groups not released`,
  ].filter(Boolean);
  return { kind: 'dp', compared, skipped, collapsed, note: notes.join('; ') || undefined };
}

/** Sends one battery query (after its setup statements) in a fresh client session and judges the outcome. */
async function judge(query: BenignQuery, identity: GatewayIdentity, oracle: PolicyTruthEngine): Promise<Verdict> {
  const session = new AnalystSession(identity);
  for (const statement of query.setup ?? []) {
    const result = settled(await session.run(statement));
    const problem = problemOf(result);
    if (!problem) continue;
    // Answers the gateway checks whole cannot come from a prepared statement: PREPARE is refused, saying so.
    if (/^\s*PREPARE\b/i.test(statement) && result.error?.errorName === 'PERMISSION_DENIED' && PREPARED_REFUSAL.test(result.error.message))
      return { kind: 'refused', reason: 'prepared statement' };
    return { kind: 'failure', failure: `setup statement ${statement} was not answered: ${problem}` };
  }
  const result = settled(await session.run(query.sql));
  const data = readsPatientData(query.sql);
  if (result.error?.errorName === 'PERMISSION_DENIED') {
    const message = result.error.message;
    if (/^\s*EXECUTE\b/i.test(query.sql) && PREPARED_REFUSAL.test(message)) return { kind: 'refused', reason: 'prepared statement' };
    if (!data) return { kind: 'refused', reason: 'metadata' };
    const named = /(\S+) is not a mesh table with patient data/.exec(message)?.[1];
    if (named && POLICY_TABLES.includes(named.split('.').pop()!.toLowerCase()) && (named.split('.').length === 3 || query.setup?.includes('USE fhir.default')))
      return { kind: 'failure', failure: `refused, saying the mesh table ${named} is not one: ${message}` };
    if (message.includes(ALLOWED_FORM)) return { kind: 'refused', reason: message.slice(0, message.indexOf(ALLOWED_FORM)).trim() };
    return { kind: 'failure', failure: `refused without saying what is allowed: ${message}` };
  }
  const problem = problemOf(result);
  if (problem) return { kind: 'failure', failure: `neither answered nor refused: ${problem}` };
  return data ? await checkProtected(query, result, oracle) : await checkExact(query, result, oracle);
}

async function runAll(queries: readonly BenignQuery[], consumers: Consumers, oracle: PolicyTruthEngine): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(queries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < queries.length; i = next++) {
      const query = queries[i]!;
      const started = Date.now();
      let verdict: Verdict;
      let retries = 0;
      for (;;) {
        const identity = await consumers.identity();
        try {
          verdict = await judge(query, identity, oracle);
          break;
        } catch (e) {
          if (e instanceof BudgetSpent) {
            await consumers.exhausted(identity);
            continue;
          }
          if (!connectionLost(e) || retries === MAX_RETRIES) {
            verdict = { kind: 'failure', failure: `threw: ${(e as Error).message}` };
            break;
          }
          retries++;
          await pauseBeforeRetry();
        }
      }
      outcomes[i] = { query, verdict, ms: Date.now() - started, retries };
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

/** Widening that keeps the chance of any false alarm among `n` Laplace-noised numbers under FALSE_ALARM (P(|X| > k·t95) = 0.05^k). */
function wideningFor(n: number): number {
  return Math.max(MIN_WIDENING, n ? Math.ceil(Math.log(FALSE_ALARM / n) / Math.log(0.05)) : 0);
}

describe('SQL gateway: the benign battery as an aggregate-only (differential privacy) consumer', function () {
  this.timeout(3_600_000);
  const oracle = new PolicyTruthEngine(RESEARCH_RULES);
  const consumers = new Consumers();
  let queries: BenignQuery[] = [];

  before(async () => {
    await loadPolicyTruth();
    queries = benignBattery(benignFacts(policyTables(RESEARCH_RULES, projectKey())));
    // Connected once before the workers share it: two first queries at once would each open a client, one never closed.
    await oracle.query('SELECT 1');
  });

  after(async () => {
    await oracle.close();
    for (const name of consumers.names) await api('DELETE', `/consumers/${name}`).catch(() => undefined);
  });

  it('every query is refused saying what is allowed, or answered: metadata exactly, aggregates within their intervals of the oracle', async () => {
    expect(queries.length).to.be.at.least(300);
    const started = Date.now();
    const outcomes = await runAll(queries, consumers, oracle);
    const elapsed = Date.now() - started;

    const cells = outcomes.flatMap((o) => (o.verdict.kind === 'dp' ? o.verdict.compared.map((c) => ({ o, c })) : []));
    const widening = wideningFor(cells.length);
    const outside = cells.filter(({ c }) => c.widening > widening);
    for (const { o, c } of outside) {
      const failure = `${c.where}: ${c.value} (95%: ${c.low}–${c.high}) vs exact ${c.truth}: ${c.widening.toFixed(2)} half-widths, more than ${widening}`;
      o.verdict = { kind: 'failure', failure: o.verdict.kind === 'failure' ? `${o.verdict.failure}\n${failure}` : failure };
    }

    const families = new Map<string, { refused: number; compared: number; notCompared: number; failures: number }>();
    for (const o of outcomes) {
      const f = families.get(o.query.family) ?? { refused: 0, compared: 0, notCompared: 0, failures: 0 };
      const v = o.verdict;
      if (v.kind === 'refused') f.refused++;
      else if (v.kind === 'failure') f.failures++;
      else if (v.kind === 'exact' || v.compared.length) f.compared++;
      else f.notCompared++;
      families.set(o.query.family, f);
    }
    const total = [...families.values()].reduce(
      (t, f) => ({
        refused: t.refused + f.refused,
        compared: t.compared + f.compared,
        notCompared: t.notCompared + f.notCompared,
        failures: t.failures + f.failures,
      }),
      { refused: 0, compared: 0, notCompared: 0, failures: 0 },
    );
    const reasons = new Map<string, number>();
    for (const o of outcomes) if (o.verdict.kind === 'refused') reasons.set(o.verdict.reason, (reasons.get(o.verdict.reason) ?? 0) + 1);
    const dp = outcomes.filter((o) => o.verdict.kind === 'dp');
    const worst = [...cells].sort((a, b) => b.c.widening - a.c.widening)[0];
    const missed = cells.filter(({ c }) => c.widening > 1).length;
    const halfWidths = cells.map(({ c }) => Math.max(c.high - c.value, c.value - c.low)).sort((a, b) => a - b);
    const median = halfWidths[Math.floor(halfWidths.length / 2)] ?? 0;
    const collapsed = dp.flatMap((o) =>
      (o.verdict as { collapsed: string[] }).collapsed.map((c) => `  interval collapsed at zero: ${o.query.sql.slice(0, 110)}: ${c}`),
    );
    console.log(
      [
        `${outcomes.length} benign as an aggregate-only consumer (${(elapsed / 1000).toFixed(0)} s at concurrency ${CONCURRENCY}, ε=${EPSILON_PER_QUERY} a query, ` +
          `maxRowsPerPatient ${MAX_ROWS_PER_PATIENT}, ${consumers.names.length} consumer(s)): ` +
          `${total.refused} refused, ${total.compared} answered and compared, ${total.notCompared} answered not compared, ${total.failures} failures`,
        `  by family (refused/compared/not compared/failures): ${[...families].map(([n, f]) => `${n} ${f.refused}/${f.compared}/${f.notCompared}/${f.failures}`).join(', ')}`,
        `  protected answers: ${dp.length}; numbers compared ${cells.length} (widening allowed ${widening}×, largest needed ` +
          `${worst ? `${worst.c.widening.toFixed(2)}× at ${worst.c.where}` : '-'}; beyond ${MIN_WIDENING}×: ${cells.filter(({ c }) => c.widening > MIN_WIDENING).length}), ` +
          `not compared ${dp.reduce((n, o) => n + (o.verdict as { skipped: number }).skipped, 0)}; intervals collapsed to [0, 0] over a positive count: ${collapsed.length}`,
        // Calibration: a right 95% interval misses the exact value about 5% of the time (less where counts are clamped at zero).
        `  exact value outside the stated 95% interval: ${missed} of ${cells.length} (${((100 * missed) / Math.max(1, cells.length)).toFixed(1)}%); ` +
          `median stated half-width ${median.toFixed(1)}`,
        ...cells
          .filter(({ c }) => c.widening > MIN_WIDENING)
          .map(
            ({ o, c }) =>
              `  beyond ${MIN_WIDENING}×: ${o.query.sql.slice(0, 110)}: ${c.where}: ${c.value} (95%: ${c.low}–${c.high}), exact ${c.truth}, ${c.widening.toFixed(2)}×`,
          ),
        `  refusals: ${[...reasons]
          .sort((a, b) => b[1] - a[1])
          .map(([r, n]) => `${n}× ${r}`)
          .join(' | ')}`,
        ...dp
          .filter((o) => (o.verdict as { note?: string }).note)
          .map((o) => `  limits: ${o.query.sql.slice(0, 110)}: ${(o.verdict as { note?: string }).note}`),
        ...collapsed,
      ].join('\n'),
    );
    const failed = outcomes.filter((o) => o.verdict.kind === 'failure');
    const list = failed
      .map((o) => `- ${[...(o.query.setup ?? []), o.query.sql].join(' ; ')}\n    ${(o.verdict as { failure: string }).failure.replace(/\n/g, '\n    ')}`)
      .join('\n');
    expect(failed.length, `wrongly refused or wrongly answered:\n${list}`).to.equal(0);
    expect(dp.length, 'some queries answered with protected aggregates').to.be.greaterThan(0);
    expect(cells.length, 'some protected numbers compared with the oracle').to.be.greaterThan(0);
  });
});
