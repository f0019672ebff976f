// `npm run conformance`: runs the SQL-on-FHIR conformance suite against the connector's ViewDefinition
// engine (SqlOnFhirConformanceTest) and prints the pass counts, shareable last so tools can read the last line.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mavenEnv } from '../runtime/toolchain';
import { ROOT } from '../runtime/topology';

const CONNECTOR = path.join(ROOT, 'connector');
const SUMMARY = path.join(CONNECTOR, 'target', 'sql-on-fhir', 'summary.txt');
const MAVEN_ARGS = ['-B', '-q', 'test', '-Dtest=SqlOnFhirConformanceTest', '-Dsurefire.failIfNoSpecifiedTests=false'];

function runMaven(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('mvn', MAVEN_ARGS, { cwd: CONNECTOR, env: mavenEnv(), stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (e) => {
      process.stderr.write(`conformance: mvn could not run: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** The summary's lines with `shareable: …` moved to the end. */
function summaryLines(): string[] {
  const lines = fs
    .readFileSync(SUMMARY, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return [...lines.filter((line) => !line.startsWith('shareable:')), ...lines.filter((line) => line.startsWith('shareable:'))];
}

async function main(): Promise<number> {
  fs.rmSync(SUMMARY, { force: true }); // a stale summary must not pass for this run's
  process.stdout.write(`conformance: mvn ${MAVEN_ARGS.join(' ')} (in connector/)\n`);
  const exitCode = await runMaven();
  if (!fs.existsSync(SUMMARY)) {
    process.stderr.write(`conformance: Maven exited with ${exitCode} and wrote no ${path.relative(ROOT, SUMMARY)}\n`);
    return exitCode === 0 ? 1 : exitCode;
  }
  if (exitCode !== 0) {
    process.stderr.write(`conformance: Maven failed (exit ${exitCode}); report: ${path.relative(ROOT, path.dirname(SUMMARY))}/test-report.json\n`);
  }
  for (const line of summaryLines()) process.stdout.write(`${line}\n`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
