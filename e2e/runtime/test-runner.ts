// `npm test`: type check, lint and format check, the Java suites, the TypeScript unit suites, then the e2e suite against a real
// mesh (PostgreSQL, HAPI FHIR trusts, Trino) that it starts itself and stops again afterwards.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { meshDown, meshUp, printReport } from './mesh';
import { say } from './processes';
import { mavenEnv } from './toolchain';
import { ROOT } from './topology';

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  exitCode: number;
}

const MOCHA = path.join(ROOT, 'node_modules', '.bin', 'mocha');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const BIOME = path.join(ROOT, 'node_modules', '.bin', 'biome');

/** Runs a command with its output shown live, counting tests from the runner's own summary lines. */
function suite(name: string, command: string, args: string[], cwd = ROOT, env = process.env): Promise<SuiteResult> {
  say('test', `${name}: ${path.basename(command)} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const tee =
      (target: NodeJS.WriteStream) =>
      (chunk: Buffer): void => {
        output += chunk.toString();
        target.write(chunk);
      };
    child.stdout.on('data', tee(process.stdout));
    child.stderr.on('data', tee(process.stderr));
    child.on('close', (code) => {
      const counts = countTests(output);
      resolve({ name, ...counts, exitCode: code ?? 1, failed: counts.failed + (code !== 0 && counts.failed === 0 ? 1 : 0) });
    });
  });
}

function countTests(output: string): { passed: number; failed: number } {
  const mochaPassing = /(\d+) passing/.exec(output);
  const mochaFailing = /(\d+) failing/.exec(output);
  if (mochaPassing || mochaFailing) {
    return { passed: Number(mochaPassing?.[1] ?? 0), failed: Number(mochaFailing?.[1] ?? 0) };
  }
  // Surefire prints one "Tests run:" total line per module after the per-class lines.
  let passed = 0;
  let failed = 0;
  for (const m of output.matchAll(
    /^\[INFO\] Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)$|^\[ERROR\] Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)$/gm,
  )) {
    const [run, failures, errors, skipped] = (m[1] !== undefined ? m.slice(1, 5) : m.slice(5, 9)).map(Number) as [number, number, number, number];
    passed += run - failures - errors - skipped;
    failed += failures + errors;
  }
  return { passed, failed };
}

export async function runTests(): Promise<number> {
  const results: SuiteResult[] = [];
  results.push(await suite('typecheck', TSC, ['--noEmit', '-p', 'tsconfig.json']));
  // The web console is browser code (DOM, JSX) with its own compiler settings.
  results.push(await suite('typecheck (console)', TSC, ['--noEmit', '-p', 'control-plane/console']));
  // Lint and formatting (biome.json): `npm run lint -- --write` fixes what it can.
  results.push(await suite('lint and format (Biome)', BIOME, ['check', '.']));
  results.push(await suite('connector (Java)', 'mvn', ['-B', 'test'], path.join(ROOT, 'connector'), mavenEnv()));
  results.push(await suite('FHIR server (Java)', 'mvn', ['-B', 'test'], path.join(ROOT, 'e2e', 'fhir-server'), mavenEnv()));
  results.push(await suite('unit (TypeScript)', MOCHA, ['--require', 'tsx', 'e2e/**/*.test.ts', 'control-plane/test/**/*.test.ts']));

  let started: string[] = [];
  try {
    const report = await meshUp();
    started = report.started;
    printReport(report);
    results.push(await suite('e2e', MOCHA, ['--require', 'tsx', '--timeout', '600000', 'e2e/test/**/*.e2e.ts']));
  } catch (e) {
    process.stderr.write(`[mesh] ${(e as Error).message}\n`);
    results.push({ name: 'e2e (mesh start)', passed: 0, failed: 1, exitCode: 1 });
  } finally {
    await meshDown(started);
  }

  for (const r of results) say('test', `${r.name}: ${r.passed} passed, ${r.failed} failed${r.exitCode ? ` (exit ${r.exitCode})` : ''}`);
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
  return results.every((r) => r.exitCode === 0) ? 0 : 1;
}
