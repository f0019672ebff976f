// `npm run bench:connector`: figures for the fhir connector, as `name: value` lines, against a running
// mesh (`npm run mesh -- --detach`). Flattening throughput (one core, JIT-warm, over the synthetic NDJSON
// repeated to 200k resources per table), resources fetched with and without pushdown for a selective
// cohort query, and the battery's latency on the local mesh.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MAPPINGS_DIR } from '../runtime/fhir-catalog';
import { javaHome, mavenEnv } from '../runtime/toolchain';
import { paths, ROOT } from '../runtime/topology';
import { linesSince, logLength } from '../test/connector/access-log';
import { battery } from '../test/connector/battery';
import { TrinoEngine } from '../test/connector/engines';
import { computeFacts } from '../test/connector/facts';
import { truthTables } from '../test/connector/truth';

function print(name: string, value: string | number): void {
  process.stdout.write(`${name}: ${value}\n`);
}

function flattenBenchmark(): void {
  const result = spawnSync('mvn', ['-B', '-q', 'test-compile', 'org.codehaus.mojo:exec-maven-plugin:3.5.0:java',
    '-Dexec.classpathScope=test', '-Dexec.mainClass=uk.nhs.fhirmesh.bench.FlattenBenchmark',
    `-Dexec.args=${paths.synthetic} ${MAPPINGS_DIR} 200000`],
  { cwd: path.join(ROOT, 'connector'), env: { ...mavenEnv(), JAVA_HOME: javaHome() }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`flatten benchmark failed:\n${result.stdout}${result.stderr}`);
  for (const line of result.stdout.split('\n')) if (/^\w+: /.test(line)) process.stdout.write(`${line}\n`);
}

/** Resources the FHIR servers returned for one query: entries counted from the connector's input rows. */
async function fetched(trino: TrinoEngine, sql: string, pushdown: boolean): Promise<{ rows: number; bytes: number; requests: number }> {
  const before = logLength();
  const result = await trino.query(sql, { pushdown });
  const stats = await trino.queryStats(result.queryId!);
  const lines = linesSince(before);
  return {
    rows: Number(stats.rawInputPositions ?? stats.physicalInputPositions ?? 0),
    bytes: lines.reduce((sum, line) => sum + line.bytes, 0),
    requests: lines.length,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
}

async function main(): Promise<void> {
  const trino = new TrinoEngine();
  if (!(await trino.serving())) {
    process.stderr.write('bench:connector needs a running mesh with the fhir catalog: npm run mesh -- --detach\n');
    process.exit(1);
  }
  flattenBenchmark();

  // A cohort whose code is rare: the patients with the least frequent SNOMED condition since 2015.
  const tables = truthTables();
  const counts = new Map<string, number>();
  for (const row of tables.condition ?? []) {
    if (typeof row.code === 'string') counts.set(row.code, (counts.get(row.code) ?? 0) + 1);
  }
  const [rare] = [...counts.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0] ?? [];
  const cohort = `SELECT DISTINCT patient_id FROM fhir.default.condition WHERE code = '${rare}'`;
  const on = await fetched(trino, cohort, true);
  const off = await fetched(trino, cohort, false);
  print('cohort_query', cohort);
  print('resources_fetched_pushdown', on.rows);
  print('resources_fetched_full', off.rows);
  print('pushdown_reduction_x', on.rows === 0 ? 'inf' : (off.rows / on.rows).toFixed(0));
  print('bytes_fetched_pushdown', on.bytes);
  print('bytes_fetched_full', off.bytes);
  print('requests_pushdown', on.requests);
  print('requests_full', off.requests);

  const latencies: number[] = [];
  for (const query of battery(computeFacts(tables))) {
    latencies.push((await trino.query(query.sql)).elapsedMs);
  }
  latencies.sort((a, b) => a - b);
  print('battery_queries', latencies.length);
  print('battery_latency_p50_ms', percentile(latencies, 0.5));
  print('battery_latency_p95_ms', percentile(latencies, 0.95));
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
