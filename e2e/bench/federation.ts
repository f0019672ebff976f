// `npm run bench:federation`: cohort queries across many FHIR endpoints on a running local mesh, as
// `name: value` lines. A fixed battery (counts, grouped counts, a filtered join) runs through the gateway as
// the demo analyst (purpose research: opt-outs and label filters applied, as analysts are served) against 1,
// 8, 32 and 128 endpoints of the same catalog (`domain IN (...)`, which selects splits). Per size and query:
// latency percentiles, and the FHIR requests and bytes each query cost, read from the FHIR servers' access log
// (queries run one at a time, so every line appended during a query is that query's). The Trino topology
// (nodes) is printed; run once with `npm run mesh -- --domains 128` and once with `--workers 1` as well.
// Options: --runs N (timed runs per query and size, default 10), --sizes 1,8,32,128, --direct (Trino as ops
// instead of the gateway: the platform's own cost without the gateway's policy form).
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { demoIdentity, gatewayQuery } from '../runtime/gateway-client';
import { trinoClient } from '../runtime/trino-clients';
import { type AccessLine, linesSince, logLength } from '../test/connector/access-log';

function print(name: string, value: string | number): void {
  process.stdout.write(`${name}: ${value}\n`);
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const RUNS = Number(option('runs') ?? 10);
const SIZES = (option('sizes') ?? '1,8,32,128').split(',').map(Number);
const DIRECT = process.argv.includes('--direct');
if (!Number.isInteger(RUNS) || RUNS < 1 || SIZES.some((s) => !Number.isInteger(s) || s < 1)) throw new Error('--runs and --sizes need positive whole numbers');

/** The battery: `count` style queries are the tender's cohort counts; the goal (p80 < 1 s at 128 endpoints) is theirs. */
const BATTERY: { name: string; countStyle: boolean; sql: (domains: string) => string }[] = [
  { name: 'count_encounters', countStyle: true, sql: (d) => `SELECT count(*) FROM encounter WHERE domain IN (${d})` },
  { name: 'count_emergency', countStyle: true, sql: (d) => `SELECT count(*) FROM encounter WHERE domain IN (${d}) AND class_code = 'EMER'` },
  {
    name: 'count_stroke_patients',
    countStyle: true,
    sql: (d) => `SELECT count(DISTINCT patient_id) FROM condition WHERE domain IN (${d}) AND icd10_code = 'I63.9'`,
  },
  { name: 'grouped_by_class', countStyle: false, sql: (d) => `SELECT domain, class_code, count(*) FROM encounter WHERE domain IN (${d}) GROUP BY 1, 2` },
  {
    name: 'join_female_stroke',
    countStyle: false,
    sql: (d) =>
      `SELECT count(DISTINCT c.patient_id) FROM condition c JOIN patient p ON p.id = c.patient_id AND p.domain = c.domain ` +
      `WHERE c.domain IN (${d}) AND c.icd10_code = 'I63.9' AND p.gender = 'female'`,
  },
];

async function direct(sql: string): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  const iterator = await trinoClient('bench-federation').query({ query: sql, catalog: 'fhir', schema: 'default' });
  for await (const page of iterator) {
    if (page.error) throw new Error(`${page.error.errorName}: ${page.error.message}`);
    rows.push(...(page.data ?? []));
  }
  return rows;
}

async function run(sql: string): Promise<unknown[][]> {
  if (DIRECT) return direct(sql);
  const result = await gatewayQuery(sql, { identity: demoIdentity(), catalog: 'fhir', schema: 'default' });
  if (result.error) throw new Error(`${result.error.errorName}: ${result.error.message}`);
  return result.rows;
}

const percentile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
const fhirLines = (lines: AccessLine[]): AccessLine[] => lines.filter((l) => !l.target.startsWith('metadata'));

async function main(): Promise<void> {
  const domains = (await direct('SELECT domain FROM fhir.mesh.domains ORDER BY domain')).map((r) => String(r[0]));
  const nodes = await direct(
    "SELECT count(*) FILTER (WHERE coordinator), count(*) FILTER (WHERE NOT coordinator) FROM system.runtime.nodes WHERE state = 'active'",
  );
  print('machine', `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  print('path', DIRECT ? 'Trino as ops (no gateway)' : 'gateway as the demo analyst (purpose research)');
  print('trino.coordinators', String(nodes[0]?.[0]));
  print('trino.workers', String(nodes[0]?.[1]));
  print('endpoints.available', domains.length);
  print('runs_per_query', RUNS);
  const countStyleAt = new Map<number, number[]>();
  for (const size of SIZES) {
    if (size > domains.length) {
      print(`endpoints_${size}`, `skipped: the mesh serves ${domains.length} (npm run mesh -- --domains ${size})`);
      continue;
    }
    // Spread over the list (not the first N), so every size mixes demo trusts and synthetic sites.
    const chosen = Array.from({ length: size }, (_, i) => domains[Math.floor((i * domains.length) / size)]!);
    const list = chosen.map((d) => `'${d}'`).join(', ');
    for (const query of BATTERY) {
      const sql = query.sql(list);
      await run(sql); // warm: plans, connections, the opt-out cache
      const latencies: number[] = [];
      const requests: number[] = [];
      const bytes: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const before = logLength();
        const t0 = performance.now();
        await run(sql);
        latencies.push(performance.now() - t0);
        const lines = fhirLines(linesSince(before));
        requests.push(lines.length);
        bytes.push(lines.reduce((sum, l) => sum + l.bytes, 0));
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      const prefix = `endpoints_${size}.${query.name}`;
      for (const [label, q] of [
        ['p50', 0.5],
        ['p80', 0.8],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const)
        print(`${prefix}.${label}_ms`, percentile(sorted, q).toFixed(0));
      print(`${prefix}.fhir_requests_per_query`, (requests.reduce((a, b) => a + b, 0) / RUNS).toFixed(1));
      print(`${prefix}.fhir_kib_per_query`, (bytes.reduce((a, b) => a + b, 0) / RUNS / 1024).toFixed(1));
      if (query.countStyle) countStyleAt.set(size, [...(countStyleAt.get(size) ?? []), ...latencies]);
    }
  }
  for (const [size, latencies] of countStyleAt) {
    const p80 = percentile(
      [...latencies].sort((a, b) => a - b),
      0.8,
    );
    print(`endpoints_${size}.count_style.p80_ms`, p80.toFixed(0));
    if (size >= 128) print('goal.count_style_p80_under_1s_at_128_endpoints', p80 < 1000 ? 'met' : 'missed');
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:federation failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
