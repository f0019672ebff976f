// `npm run bench:connector`: figures for the `fhir` connector on a running local mesh, as `name: value`
// lines. (a) resources fetched for a selective cohort with pushdown on vs off (from Trino's query stats:
// physicalInputPositions are the rows the connector produced, one per Condition resource here);
// (b) latency of the connector battery run once; (c) the Java flattening micro-benchmark, forwarded.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAPPINGS_DIR } from '../runtime/fhir-catalog';
import { mavenEnv } from '../runtime/toolchain';
import { DOMAINS, fhirBaseUrl, paths, ROOT, trinoUrl } from '../runtime/topology';
import { trinoRest } from '../runtime/trino-clients';
import { battery, str, ts } from '../test/connector/battery';
import { TrinoEngine } from '../test/connector/engines';
import { computeFacts } from '../test/connector/facts';
import { observe, trafficFor } from '../test/connector/pushdown-proofs';
import { truthTables } from '../test/connector/truth';

function print(name: string, value: string | number): void {
  process.stdout.write(`${name}: ${value}\n`);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function reachable(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Says what is missing; the bench measures a mesh, it does not start one. */
async function meshProblems(trino: TrinoEngine): Promise<string[]> {
  const problems: string[] = [];
  if ((await trinoRest('/v1/info').catch(() => ({ status: 0 }))).status !== 200) problems.push(`Trino is not answering at ${trinoUrl()}`);
  for (const domain of DOMAINS) {
    if (!(await reachable(`${fhirBaseUrl(domain)}/metadata`, { accept: 'application/fhir+json' }))) {
      problems.push(`FHIR ${domain.id} is not answering at ${fhirBaseUrl(domain)}`);
    }
  }
  if (problems.length === 0 && !(await trino.serving())) problems.push('Trino is up but the fhir catalog lists no tables (connector not installed?)');
  return problems;
}

async function cohortReduction(trino: TrinoEngine): Promise<void> {
  const facts = computeFacts(truthTables());
  // Patients with a rare condition whose onset is after a date: the selective query pushdown is for.
  const sql = `SELECT DISTINCT patient_id FROM fhir.default.condition WHERE code = ${str(facts.condition.rareCode)} AND onset >= ${ts(facts.condition.rareOnset)}`;
  const on = await observe(trino, sql, true);
  const off = await observe(trino, sql, false);
  print('cohort_sql', sql);
  print('cohort_rows', on.result.rows.length);
  print('resources_fetched_pushdown', on.rowsFetched);
  print('resources_fetched_full', off.rowsFetched);
  print('pushdown_reduction_x', (off.rowsFetched / Math.max(1, on.rowsFetched)).toFixed(1));
  print('cohort_latency_pushdown_ms', on.result.elapsedMs);
  print('cohort_latency_full_ms', off.result.elapsedMs);
  // Bytes served, when this mesh's access log is the one HAPI writes (it is unless another MESH_HOME started it).
  const bytes = (lines: typeof on.lines): number => DOMAINS.reduce((a, d) => a + trafficFor(lines, d.id, 'Condition').bytes, 0);
  if (on.lines.length > 0 && off.lines.length > 0) {
    print('fhir_bytes_pushdown', bytes(on.lines));
    print('fhir_bytes_full', bytes(off.lines));
  }
}

async function batteryLatency(trino: TrinoEngine): Promise<void> {
  const queries = battery(computeFacts(truthTables()));
  const latencies: number[] = [];
  let failed = 0;
  for (const q of queries) {
    try {
      latencies.push((await trino.query(q.sql)).elapsedMs);
    } catch (e) {
      failed++;
      process.stderr.write(`bench: battery query failed: ${(e as Error).message.split('\n')[0]}\n`);
    }
  }
  latencies.sort((a, b) => a - b);
  print('battery_queries', queries.length);
  if (failed) print('battery_failed', failed);
  print('battery_latency_p50_ms', percentile(latencies, 0.5));
  print('battery_latency_p95_ms', percentile(latencies, 0.95));
}

// ---- hook: flatten_rows_per_second_per_core comes from the Java side ----
const FLATTEN_CLASS = 'uk.nhs.fhirmesh.bench.FlattenBenchmark';
const EXEC_PLUGIN = 'org.codehaus.mojo:exec-maven-plugin:3.5.0:java';

function flattenBenchmark(): void {
  const relative = path.join('uk', 'nhs', 'fhirmesh', 'bench', 'FlattenBenchmark.java');
  const scope = ['test', 'main'].find((s) => fs.existsSync(path.join(ROOT, 'connector', 'src', s, 'java', relative)));
  if (!scope) {
    print('flatten_rows_per_second_per_core', 'unavailable');
    return;
  }
  // The plugin by full coordinates: a bare `exec:java` would need plugin metadata from the network.
  const result = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      'connector/pom.xml',
      scope === 'test' ? 'test-compile' : 'compile',
      EXEC_PLUGIN,
      `-Dexec.mainClass=${FLATTEN_CLASS}`,
      `-Dexec.classpathScope=${scope}`,
      `-Dexec.args=${paths.synthetic} ${MAPPINGS_DIR}`,
    ],
    { cwd: ROOT, env: mavenEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  // Maven's colour resets can precede the program's first line: strip ANSI escapes before matching.
  // eslint-disable-next-line no-control-regex
  const lines = (result.stdout ?? '')
    .split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))
    .filter((l) => /^flatten_\w+: /.test(l));
  if (result.status !== 0 || !lines.some((l) => l.startsWith('flatten_rows_per_second_per_core:'))) {
    process.stderr.write(`bench: ${FLATTEN_CLASS} did not run (exit ${result.status}):\n${(result.stderr || result.stdout || '').slice(-2000)}\n`);
    print('flatten_rows_per_second_per_core', 'unavailable');
    return;
  }
  for (const line of lines) process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const trino = new TrinoEngine();
  const problems = await meshProblems(trino);
  if (problems.length) {
    process.stderr.write(`bench: the mesh is not running (${problems.join('; ')}).\nStart it with: npm run mesh -- --detach\n`);
    return 1;
  }
  await cohortReduction(trino);
  await batteryLatency(trino);
  flattenBenchmark();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
