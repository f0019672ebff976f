// `npm run bench:gateway`: what the SQL gateway costs on a running local mesh, as `name: value` lines, the
// gateway and direct Trino side by side in one run. (a) parse+rewrite alone, in-process, over the demo's
// mappings and privacy tags; (b) end-to-end latency of cheap statements through the gateway vs their
// rewritten form sent straight to Trino as the gateway's principal with the same pseudonym key, so Trino
// does the same work; (c) relay throughput of a many-row result, both ways. Both sides use one client loop.
// Options: --runs N (end-to-end pairs per statement, default 40), --relay-runs N (default 3).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultGatewayPolicy } from '../../control-plane/src/gateway/gateway-config';
import type { MeshTable } from '../../control-plane/src/gateway/policy/mesh-tables';
import type { PolicyContext, PolicySources } from '../../control-plane/src/gateway/policy/policy-form';
import { PSEUDONYM_KEY_CREDENTIAL, PseudonymKeys } from '../../control-plane/src/gateway/pseudonym-keys';
import { api, DEMO_ANALYST } from '../runtime/demo-registry';
import { gatewayHeaders, httpsRequest } from '../runtime/gateway-client';
import { readSecret, SECRETS } from '../runtime/secrets';
import { controlPlaneUrl, gatewayUrl, ROOT, trinoUrl } from '../runtime/topology';
import { TRINO_USERS } from '../runtime/trino-security';

function print(name: string, value: string | number): void {
  process.stdout.write(`${name}: ${value}\n`);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const ms = (value: number): string => value.toFixed(2);

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

const RUNS = option('runs', 40);
const RELAY_RUNS = option('relay-runs', 3);
const SESSION = { catalog: 'fhir', schema: 'default' };
const GATEWAY = defaultGatewayPolicy(SESSION.catalog);
const SOURCES: PolicySources = { catalog: SESSION.catalog, schema: SESSION.schema, patientIndex: GATEWAY.patientIndex, optOut: GATEWAY.optOut };
/** What the gateway gives purpose `research`: every sensitivity label excluded, opt-outs applied, no break-glass. */
const RESEARCH: PolicyContext = { excludedLabels: [...GATEWAY.alwaysExcludedLabels, ...GATEWAY.sensitivityLabels], breakGlass: false };

// ---- (a) parse + rewrite, in-process ----

const CODES = Array.from({ length: 200 }, (_, i) => `'${(230690000 + i * 7).toString()}'`).join(', ');

/** Statements an analyst writes, from one table to five; labels name them in the output. */
const ANALYST_STATEMENTS: [string, string][] = [
  ['simple', 'SELECT gender, count(*) AS patients FROM patient GROUP BY gender'],
  ['filter', `SELECT id, birth_date, postcode FROM fhir.default.patient WHERE gender = 'female' AND birth_date >= DATE '1980-01-01'`],
  [
    'join',
    `SELECT p.gender, count(DISTINCT c.patient_id) AS patients FROM condition c JOIN patient p ON p.id = c.patient_id
     WHERE c.code = '44054006' AND c.onset >= TIMESTAMP '2015-01-01 00:00:00 UTC' GROUP BY p.gender`,
  ],
  [
    'cte',
    `WITH diabetics AS (SELECT DISTINCT patient_id FROM condition WHERE code = '44054006'),
          hba1c AS (SELECT patient_id, avg(value) AS mean_hba1c FROM observation WHERE code = '4548-4' GROUP BY patient_id)
     SELECT count(*) AS patients, avg(h.mean_hba1c) AS mean_hba1c FROM diabetics d JOIN hba1c h ON h.patient_id = d.patient_id`,
  ],
  [
    'five_tables',
    `SELECT p.gender, year(p.birth_date) AS birth_year, count(DISTINCT e.id) AS encounters, count(DISTINCT m.id) AS prescriptions,
            count(DISTINCT pr.id) AS procedures, max(o.value) AS max_value
     FROM patient p
     JOIN encounter e ON e.patient_id = p.id
     JOIN condition c ON c.patient_id = p.id AND c.encounter_id = e.id
     LEFT JOIN medication_request m ON m.patient_id = p.id AND m.reason_condition_id = c.id
     LEFT JOIN procedure pr ON pr.patient_id = p.id AND pr.encounter_id = e.id
     LEFT JOIN observation o ON o.patient_id = p.id AND o.encounter_id = e.id AND o.code = '8480-6'
     WHERE c.code = '38341003' AND e.start >= TIMESTAMP '2018-01-01 00:00:00 UTC'
     GROUP BY p.gender, year(p.birth_date) ORDER BY encounters DESC`,
  ],
  ['in_list_200', `SELECT patient_id, code, onset FROM condition WHERE code IN (${CODES}) AND clinical_status = 'active'`],
  [
    'window',
    `SELECT patient_id, code, onset FROM (
       SELECT patient_id, code, onset, row_number() OVER (PARTITION BY patient_id ORDER BY onset) AS rn FROM condition WHERE verification_status = 'confirmed'
     ) WHERE rn = 1`,
  ],
  [
    'union',
    `SELECT patient_id, 'condition' AS source, onset AS at FROM condition WHERE code = '44054006'
     UNION ALL SELECT patient_id, 'medication', authored_on FROM medication_request WHERE medication_code = '860975'
     UNION ALL SELECT patient_id, 'observation', effective FROM observation WHERE code = '4548-4' AND value > 6.5`,
  ],
  ['metadata', `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'default' ORDER BY table_name`],
  ['show_columns', 'SHOW COLUMNS FROM patient'],
];

/** The demo's published tables with their privacy tags, as the registry holds them after `npm run mesh`. */
function demoTables(): Map<string, MeshTable> {
  const { tags } = JSON.parse(fs.readFileSync(path.join(ROOT, 'control-plane', 'demo', 'privacy-tags.json'), 'utf8'));
  const tables = new Map<string, MeshTable>();
  for (const file of fs.readdirSync(path.join(ROOT, 'sql-mappings')).filter((f) => f.endsWith('.json'))) {
    const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'sql-mappings', file), 'utf8'));
    tables.set(m.table, { table: m.table, view: m.view, tags: tags[m.table] ?? {}, domains: ['RR8', 'RTH', 'RX1'] });
  }
  return tables;
}

const TABLES = demoTables();
const loadStarted = performance.now();
// Required (not imported) so that loading the grammar, which deserializes the ATNs, is timed.
const { rewriteStatement } =
  require('../../control-plane/src/gateway/rewrite/statement-rewriter') as typeof import('../../control-plane/src/gateway/rewrite/statement-rewriter');
const { QueryPolicy } = require('../../control-plane/src/gateway/policy/query-policy') as typeof import('../../control-plane/src/gateway/policy/query-policy');
const grammarLoadMs = performance.now() - loadStarted;

/** What the gateway does per statement: a policy for this caller, then parse and rewrite. Returns the SQL. */
function rewriteInProcess(sql: string): string {
  const resolver = new QueryPolicy(TABLES, SOURCES, RESEARCH);
  const result = rewriteStatement(sql, { session: SESSION, resolver, sessionProperties: new Set(GATEWAY.sessionProperties) });
  if (!result.ok) throw new Error(`bench statement refused: ${result.refusal.message}\n${sql}`);
  return result.sql;
}

function timedRewrite(sql: string): number {
  const started = performance.now();
  rewriteInProcess(sql);
  return performance.now() - started;
}

function rewriteLatency(): void {
  const coldFirst = timedRewrite(ANALYST_STATEMENTS[0]![1]);
  const coldPass = ANALYST_STATEMENTS.slice(1).map(([, sql]) => timedRewrite(sql));
  const WARM_UP_PASSES = 20;
  const PASSES = 100;
  for (let i = 0; i < WARM_UP_PASSES; i++) for (const [, sql] of ANALYST_STATEMENTS) timedRewrite(sql);
  const samples = new Map<string, number[]>(ANALYST_STATEMENTS.map(([label]) => [label, []]));
  for (let i = 0; i < PASSES; i++) for (const [label, sql] of ANALYST_STATEMENTS) samples.get(label)!.push(timedRewrite(sql));
  const all = sorted([...samples.values()].flat());
  print('rewrite_statements', ANALYST_STATEMENTS.length);
  print('rewrite_warm_passes', PASSES);
  print('rewrite_grammar_load_ms', ms(grammarLoadMs));
  print('rewrite_cold_first_ms', ms(coldFirst));
  print('rewrite_cold_rest_mean_ms', ms(coldPass.reduce((a, b) => a + b, 0) / coldPass.length));
  print('rewrite_warm_p50_ms', ms(percentile(all, 0.5)));
  print('rewrite_warm_p95_ms', ms(percentile(all, 0.95)));
  print('rewrite_warm_max_ms', ms(all[all.length - 1]!));
  for (const [label, values] of samples) print(`rewrite_${label}_p50_ms`, ms(percentile(sorted(values), 0.5)));
}

// ---- one Trino-protocol client loop for both sides ----

interface Side {
  name: 'gateway' | 'direct';
  base: string;
  headers: Record<string, string>;
}

interface Run {
  ms: number;
  rows: number;
  requests: number;
  bytes: number;
  queryId?: string;
}

/** POST the statement and follow nextUri to the end, parsing each page as a client must. */
async function run(side: Side, sql: string): Promise<Run> {
  const started = performance.now();
  const result: Run = { ms: 0, rows: 0, requests: 1, bytes: 0 };
  let response = await httpsRequest('POST', `${side.base}/v1/statement`, side.headers, sql);
  for (;;) {
    if (response.status !== 200) throw new Error(`${side.name}: HTTP ${response.status}: ${response.text.slice(0, 300)}`);
    result.bytes += Buffer.byteLength(response.text);
    const page = JSON.parse(response.text) as { id?: string; data?: unknown[][]; nextUri?: string; error?: { message: string } };
    result.queryId ??= page.id;
    if (page.error) throw new Error(`${side.name}: ${page.error.message}\n${sql.slice(0, 300)}`);
    if (page.data) result.rows += page.data.length;
    if (!page.nextUri) break;
    response = await httpsRequest('GET', page.nextUri, side.headers);
    result.requests++;
  }
  result.ms = performance.now() - started;
  return result;
}

function gatewaySide(): Side {
  return { name: 'gateway', base: gatewayUrl(), headers: gatewayHeaders(SESSION) };
}

/** Trino as the gateway reaches it: its own principal and the project's pseudonym key as extra credential. */
function directSide(): Side {
  const user = TRINO_USERS.gateway;
  const key = new PseudonymKeys(SECRETS.pseudonymKey).forProject(DEMO_ANALYST.project);
  return {
    name: 'direct',
    base: trinoUrl(),
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${readSecret(SECRETS.gatewayTrino)}`).toString('base64')}`,
      'x-trino-user': user,
      'x-trino-source': 'fhir-mesh-tests',
      'x-trino-catalog': SESSION.catalog,
      'x-trino-schema': SESSION.schema,
      'x-trino-extra-credential': `${PSEUDONYM_KEY_CREDENTIAL}=${key}`,
    },
  };
}

/** The statement the gateway sent Trino for this query, from its audit record. */
async function rewrittenByGateway(queryId: string): Promise<string> {
  const entries = (await api('GET', `/audit?entity=query&entityId=${encodeURIComponent(queryId)}&limit=10`)).body as {
    action: string;
    after: { rewrittenSql?: string };
  }[];
  const started = entries.find((e) => e.action === 'query.started')?.after.rewrittenSql;
  if (!started) throw new Error(`no query.started audit entry with the rewritten SQL for ${queryId}`);
  return started;
}

interface Paired {
  label: string;
  sql: string;
  /** What the direct side sends: the gateway's own rewrite of sql. */
  rewritten: string;
}

/** Runs each statement once through the gateway and reads back its rewrite; checks the in-process fixture agrees. */
async function pair(gateway: Side, statements: [string, string][]): Promise<{ pairs: Paired[]; fixtureMatches: number }> {
  const pairs: Paired[] = [];
  let fixtureMatches = 0;
  for (const [label, sql] of statements) {
    const first = await run(gateway, sql);
    const rewritten = await rewrittenByGateway(first.queryId!);
    if (rewriteInProcess(sql) === rewritten) fixtureMatches++;
    else process.stderr.write(`bench: the registry's policy form of "${label}" differs from the demo fixture's (rewrite figures are for the fixture)\n`);
    pairs.push({ label, sql, rewritten });
  }
  return { pairs, fixtureMatches };
}

// ---- (b) end-to-end added latency ----

/** Cheap for Trino, so the gateway's share is visible: no FHIR read but the last one (small, LIMIT). */
const CHEAP_STATEMENTS: [string, string][] = [
  ['select_1', 'SELECT 1'],
  ['show_tables', 'SHOW TABLES'],
  ['metadata', `SELECT table_name FROM information_schema.tables WHERE table_schema = 'default'`],
  ['small_limit', 'SELECT gender, birth_date FROM patient LIMIT 5'],
];

async function endToEndLatency(gateway: Side, direct: Side, pairs: Paired[]): Promise<number> {
  const WARM_UP_ROUNDS = 3;
  const samples = new Map<string, { gateway: number[]; direct: number[]; requests: { gateway: number; direct: number } }>(
    pairs.map((p) => [p.label, { gateway: [], direct: [], requests: { gateway: 0, direct: 0 } }]),
  );
  const differences: number[] = [];
  for (let round = 0; round < WARM_UP_ROUNDS + RUNS; round++) {
    for (const p of pairs) {
      // Alternate which side goes first, so neither always meets a warmer Trino.
      const order: Side[] = round % 2 === 0 ? [gateway, direct] : [direct, gateway];
      const runs: Partial<Record<Side['name'], Run>> = {};
      for (const side of order) runs[side.name] = await run(side, side === gateway ? p.sql : p.rewritten);
      if (round < WARM_UP_ROUNDS) continue;
      const s = samples.get(p.label)!;
      s.gateway.push(runs.gateway!.ms);
      s.direct.push(runs.direct!.ms);
      s.requests.gateway += runs.gateway!.requests;
      s.requests.direct += runs.direct!.requests;
      differences.push(runs.gateway!.ms - runs.direct!.ms);
    }
  }
  print('e2e_runs_per_statement', RUNS);
  for (const p of pairs) {
    const s = samples.get(p.label)!;
    const g = sorted(s.gateway);
    const d = sorted(s.direct);
    print(`e2e_${p.label}_gateway_p50_ms`, ms(percentile(g, 0.5)));
    print(`e2e_${p.label}_direct_p50_ms`, ms(percentile(d, 0.5)));
    print(`e2e_${p.label}_added_p50_ms`, ms(percentile(g, 0.5) - percentile(d, 0.5)));
    print(`e2e_${p.label}_gateway_p95_ms`, ms(percentile(g, 0.95)));
    print(`e2e_${p.label}_direct_p95_ms`, ms(percentile(d, 0.95)));
    print(`e2e_${p.label}_added_p95_ms`, ms(percentile(g, 0.95) - percentile(d, 0.95)));
    // The fastest run of each side: what the gateway adds when neither meets a busy CPU.
    print(`e2e_${p.label}_added_min_ms`, ms(g[0]! - d[0]!));
    print(`e2e_${p.label}_requests_per_query`, `${(s.requests.gateway / RUNS).toFixed(1)} gateway, ${(s.requests.direct / RUNS).toFixed(1)} direct`);
  }
  // Each gateway run against the direct run next to it: robust to the machine's load drifting over the run.
  const diffs = sorted(differences);
  const added = percentile(diffs, 0.5);
  print('e2e_added_p50_ms', ms(added));
  print('e2e_added_p95_ms', ms(percentile(diffs, 0.95)));
  return added;
}

// ---- (c) relay throughput ----

const RELAY_STATEMENT: [string, string] = [
  'relay',
  // A policy-form table (pseudonym, generalised birth date, opt-out join) fanned out by UNNEST: Trino's
  // share is one small FHIR read, the rest is rows streaming through the protocol in ~1 MB pages.
  'SELECT p.id, p.gender, p.birth_date, s.n FROM patient p CROSS JOIN UNNEST(sequence(1, 5000)) AS s(n)',
];

async function relayThroughput(gateway: Side, direct: Side, p: Paired): Promise<number> {
  const rates: Record<Side['name'], number[]> = { gateway: [], direct: [] };
  let last: Run | undefined;
  for (let round = 0; round < RELAY_RUNS; round++) {
    const order: Side[] = round % 2 === 0 ? [gateway, direct] : [direct, gateway];
    for (const side of order) {
      const r = await run(side, side === gateway ? p.sql : p.rewritten);
      rates[side.name].push(r.rows / (r.ms / 1000));
      last = r;
    }
  }
  const g = percentile(sorted(rates.gateway), 0.5);
  const d = percentile(sorted(rates.direct), 0.5);
  print('relay_sql', p.sql);
  print('relay_runs', RELAY_RUNS);
  print('relay_rows', last!.rows);
  print('relay_pages', last!.requests);
  print('relay_mb', (last!.bytes / 1024 / 1024).toFixed(1));
  print('relay_gateway_rows_per_s', Math.round(g));
  print('relay_direct_rows_per_s', Math.round(d));
  print('relay_throughput_ratio', (g / d).toFixed(3));
  return g / d;
}

// ---- set-up ----

async function meshProblems(gateway: Side, direct: Side): Promise<string[]> {
  const problems: string[] = [];
  for (const side of [direct, gateway]) {
    const answer = await httpsRequest('GET', `${side.base}/v1/info`, side.headers).catch((e: Error) => ({ status: 0, text: e.message }));
    if (answer.status !== 200) problems.push(`${side.name === 'direct' ? 'Trino' : 'the gateway'} is not answering at ${side.base}/v1/info`);
  }
  // The direct side sends what the gateway's audit says it sent Trino.
  const audit = await api('GET', '/audit?entity=query&limit=1').catch(() => ({ status: 0 }));
  if (audit.status !== 200) problems.push(`the control plane's audit API is not answering at ${controlPlaneUrl()}/api/v1/audit`);
  return problems;
}

async function main(): Promise<number> {
  const gateway = gatewaySide();
  const direct = directSide();
  const problems = await meshProblems(gateway, direct);
  if (problems.length) {
    process.stderr.write(`bench: the mesh is not running (${problems.join('; ')}).\nStart it with: npm run mesh -- --detach\n`);
    return 1;
  }
  const info = JSON.parse((await httpsRequest('GET', `${trinoUrl()}/v1/info`, direct.headers)).text) as { nodeVersion?: { version?: string } };
  print('machine_cpu', os.cpus()[0]?.model ?? 'unknown');
  print('machine_cores', os.cpus().length);
  print('machine_load_1m_at_start', os.loadavg()[0]!.toFixed(2));
  print('node_version', process.version);
  print('trino_version', info.nodeVersion?.version ?? 'unknown');

  rewriteLatency();
  const { pairs, fixtureMatches } = await pair(gateway, [...CHEAP_STATEMENTS, RELAY_STATEMENT]);
  print('rewrite_fixture_matches_gateway', `${fixtureMatches}/${pairs.length}`);
  const added = await endToEndLatency(gateway, direct, pairs.slice(0, CHEAP_STATEMENTS.length));
  const ratio = await relayThroughput(gateway, direct, pairs[pairs.length - 1]!);
  print('machine_load_1m_at_end', os.loadavg()[0]!.toFixed(2));
  // The issue's goals: under 5 ms added at p50, at least 90% of direct throughput.
  print('goal_added_p50_under_5_ms', added < 5 ? 'met' : 'missed');
  print('goal_throughput_at_least_90_percent', ratio >= 0.9 ? 'met' : 'missed');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
