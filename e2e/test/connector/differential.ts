// Runs the random predicates: each as its own Trino query with pushdown on (so each is translated to a
// FHIR search) against PostgreSQL, and all of a table's predicates at once with pushdown off, as
// FILTER aggregates over one full scan (a per-predicate full scan of Observation would take ~35 s).
import { Cell, normaliseRows } from './compare';
import { TrinoEngine, TruthEngine } from './engines';
import { RandomCase } from './random-predicates';

export interface Mismatch {
  sql: string;
  engine: string;
  trino: Cell[];
  truth: Cell[];
}

export interface DifferentialReport {
  cases: number;
  nonEmpty: number;
  mismatches: Mismatch[];
  pushdownOnMs: number;
  pushdownOffMs: number;
  pushdownOffQueries: number;
}

const DISTINCT_OF: Record<RandomCase['table'], string> = {
  condition: 'patient_id',
  observation: 'patient_id',
  encounter: 'patient_id',
  patient: 'nhs_number',
};

export function checksumSql(c: RandomCase): string {
  return `SELECT count(*), count(DISTINCT ${DISTINCT_OF[c.table]}), min(id), max(id) FROM fhir.default.${c.table} WHERE ${c.predicate}`;
}

const TYPES = ['bigint', 'bigint', 'varchar', 'varchar'];

function sameCells(a: Cell[], b: Cell[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function inPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

export async function runDifferential(
  cases: RandomCase[],
  trino: TrinoEngine,
  truth: TruthEngine,
  options: { concurrency: number; batchSize: number; log?: (line: string) => void },
): Promise<DifferentialReport> {
  const mismatches: Mismatch[] = [];
  const expected = new Map<RandomCase, Cell[]>();
  for (const c of cases) {
    const { rows } = await truth.query(checksumSql(c));
    expected.set(c, normaliseRows(rows, TYPES)[0] ?? []);
  }

  const onStarted = Date.now();
  let done = 0;
  await inPool(cases, options.concurrency, async (c) => {
    const sql = checksumSql(c);
    let actual: Cell[];
    try {
      const result = await trino.query(sql);
      actual = normaliseRows(result.rows, TYPES)[0] ?? [];
    } catch (e) {
      actual = [`error: ${(e as Error).message.split('\n')[0]}`];
    }
    const want = expected.get(c) ?? [];
    if (!sameCells(actual, want)) mismatches.push({ sql, engine: 'pushdown on', trino: actual, truth: want });
    if (++done % 50 === 0)
      options.log?.(`  ${done}/${cases.length} with pushdown on, ${mismatches.length} mismatches, ${Math.round((Date.now() - onStarted) / 1000)} s`);
  });
  const pushdownOnMs = Date.now() - onStarted;

  // Pushdown off: count/min/max per predicate as FILTER aggregates, a few full scans per table.
  const offStarted = Date.now();
  let pushdownOffQueries = 0;
  for (const table of ['condition', 'observation', 'encounter', 'patient'] as const) {
    const ofTable = cases.filter((c) => c.table === table);
    for (let i = 0; i < ofTable.length; i += options.batchSize) {
      const batch = ofTable.slice(i, i + options.batchSize);
      const select = batch.map((c) => `count(*) FILTER (WHERE ${c.predicate}), min(id) FILTER (WHERE ${c.predicate}), max(id) FILTER (WHERE ${c.predicate})`);
      const sql = `SELECT ${select.join(',\n  ')}\nFROM fhir.default.${table}`;
      pushdownOffQueries++;
      let row: Cell[] | undefined;
      let failure: string | undefined;
      try {
        const result = await trino.query(sql, { pushdown: false });
        row = normaliseRows(
          result.rows,
          batch.flatMap(() => ['bigint', 'varchar', 'varchar']),
        )[0];
      } catch (e) {
        failure = `error: ${(e as Error).message.split('\n')[0]}`;
      }
      batch.forEach((c, j) => {
        const want = expected.get(c) ?? [];
        const truthCells = [want[0] ?? null, want[2] ?? null, want[3] ?? null];
        const actual = failure ? [failure] : (row ?? []).slice(3 * j, 3 * j + 3);
        if (!sameCells(actual, truthCells)) {
          mismatches.push({
            sql: `SELECT count(*), min(id), max(id) FROM fhir.default.${table} WHERE ${c.predicate}`,
            engine: 'pushdown off',
            trino: actual,
            truth: truthCells,
          });
        }
      });
    }
  }
  return {
    cases: cases.length,
    nonEmpty: cases.filter((c) => (expected.get(c)?.[0] ?? 0) !== 0).length,
    mismatches,
    pushdownOnMs,
    pushdownOffMs: Date.now() - offStarted,
    pushdownOffQueries,
  };
}
