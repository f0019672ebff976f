// `npm run bench:sql-parser`: how long the gateway's Trino parser takes per statement of the e2e corpus,
// as `name: value` lines. Cold is the first pass in a fresh process (prediction DFAs still empty); warm
// is the mean of later passes, when the DFA cache shared by all parses is filled. No mesh needed.
import { performance } from 'node:perf_hooks';
import { SQL_CORPUS } from '../test/sql-parser-corpus';

function print(name: string, value: string | number): void {
  process.stdout.write(`${name}: ${value}\n`);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const loadStarted = performance.now();
// Required (not imported) so that loading, which deserializes the ATNs, is timed.
const { parseStatement } = require('../../control-plane/src/gateway/sql/trino-parser') as typeof import('../../control-plane/src/gateway/sql/trino-parser');
const loadMs = performance.now() - loadStarted;

/** One pass over the corpus; returns each statement's parse time (ms), rejected statements included. */
function pass(): number[] {
  return SQL_CORPUS.map((sql) => {
    const started = performance.now();
    try {
      parseStatement(sql);
    } catch {
      // a rejection is a result too: the corpus is half invalid on purpose
    }
    return performance.now() - started;
  });
}

const WARM_PASSES = 5;
const cold = pass();
const warm: number[][] = Array.from({ length: WARM_PASSES }, pass);
const perStatementWarm = SQL_CORPUS.map((_, i) => warm.reduce((sum, run) => sum + run[i]!, 0) / WARM_PASSES).sort((a, b) => a - b);
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

print('statements', SQL_CORPUS.length);
print('grammar_load_ms', loadMs.toFixed(1));
print('cold_ms_per_statement', mean(cold).toFixed(3));
print('warm_ms_per_statement', mean(perStatementWarm).toFixed(3));
print('warm_p50_ms', percentile(perStatementWarm, 0.5).toFixed(3));
print('warm_p95_ms', percentile(perStatementWarm, 0.95).toFixed(3));
print('warm_max_ms', perStatementWarm[perStatementWarm.length - 1]!.toFixed(3));
