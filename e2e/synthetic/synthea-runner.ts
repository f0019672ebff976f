// Runs Synthea straight from its Maven Central jar: Maven only resolves the classpath (once, cached),
// then `java -cp ... App` runs per domain, single-threaded because Synthea's shared clinician RNG
// makes multi-threaded runs differ between runs. Raw output is cached per parameter set, so changing
// only the post-processing never re-runs Synthea.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type DomainSpec, paths } from '../runtime/topology';
import { sha256Hex } from './deterministic';
import type { SyntheaParams } from './params';

const POM_DIR = path.join(__dirname, 'synthea');
const CACHE_DIR = path.join(paths.cache, 'synthea');
const CLASSPATH_FILE = path.join(CACHE_DIR, 'classpath.txt');
const DONE_MARKER = '.complete';
/** Generous for 400 patients; SerialGC keeps each JVM on one core so two domains can run side by side. */
const JVM_OPTIONS = ['-Xms256m', '-Xmx2g', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];
const INCLUDED_RESOURCES = [
  'Patient',
  'Encounter',
  'Condition',
  'Observation',
  'MedicationRequest',
  'Procedure',
  'Immunization',
  'AllergyIntolerance',
  'DiagnosticReport',
  'CarePlan',
];

export type Log = (line: string) => void;

function javaCommand(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Synthea's runtime classpath, resolved from Maven Central by `mvn dependency:build-classpath` when missing. */
export async function syntheaClasspath(version: string, log: Log): Promise<string> {
  const usable = (cp: string): boolean => cp.includes(`synthea-${version}.jar`) && cp.split(path.delimiter).every((jar) => existsSync(jar));
  if (existsSync(CLASSPATH_FILE)) {
    const cp = readFileSync(CLASSPATH_FILE, 'utf8').trim();
    if (usable(cp)) return cp;
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const started = Date.now();
  log(`synthetic: resolving Synthea ${version} classpath from Maven Central ...`);
  const logFile = path.join(paths.logs, 'synthea-maven.log');
  await run('mvn', ['-q', '-B', 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH_FILE}`, `-Dsynthea.version=${version}`], {
    cwd: POM_DIR,
    logFile,
  });
  const cp = readFileSync(CLASSPATH_FILE, 'utf8').trim();
  if (!usable(cp)) throw new Error(`Maven produced an unusable Synthea classpath (see ${logFile})`);
  log(`synthetic: Synthea classpath ready (${cp.split(path.delimiter).length} jars) ... ${seconds(started)}`);
  return cp;
}

/** Synthea's arguments for one domain: all output-affecting settings are explicit. */
export function syntheaArgs(domain: Pick<DomainSpec, 'seed'>, params: SyntheaParams, outDir: string): string[] {
  const date = params.referenceDate.replace(/-/g, '');
  return [
    '-s',
    String(domain.seed),
    '-cs',
    String(domain.seed),
    '-p',
    String(params.patientsPerDomain),
    '-r',
    date,
    '-e',
    date,
    `--exporter.baseDirectory=${outDir}${path.sep}`,
    `--exporter.years_of_history=${params.yearsOfHistory}`,
    '--exporter.fhir.export=true',
    '--exporter.fhir.transaction_bundle=true',
    '--exporter.fhir.bulk_data=false',
    '--exporter.fhir.use_us_core_ig=false',
    `--exporter.fhir.included_resources=${INCLUDED_RESOURCES.join(',')}`,
    '--exporter.hospital.fhir.export=true',
    '--exporter.practitioner.fhir.export=true',
    '--exporter.metadata.export=false', // it embeds the wall-clock time
    '--exporter.ccda.export=false',
    '--exporter.csv.export=false',
    '--exporter.pretty_print=false',
    '--generate.thread_pool_size=1', // see header: threads make output non-deterministic
    '--generate.only_alive_patients=true',
    '--generate.append_numbers_to_person_names=false',
    '--generate.log_patients.detail=simple',
    'Massachusetts', // Synthea's default state; names are kept, addresses are replaced
  ];
}

/** Runs Synthea for one domain unless its raw output for these parameters is cached; returns the FHIR folder. */
export async function runSynthea(domain: DomainSpec, params: SyntheaParams, classpath: string, log: Log, force = false): Promise<string> {
  const key = sha256Hex(JSON.stringify({ seed: domain.seed, params })).slice(0, 12);
  const outDir = path.join(CACHE_DIR, 'runs', `${domain.id}-${key}`);
  const fhirDir = path.join(outDir, 'fhir');
  if (!force && existsSync(path.join(outDir, DONE_MARKER))) return fhirDir;

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const logFile = path.join(paths.logs, `synthea-${domain.id}.log`);
  const started = Date.now();
  const total = params.patientsPerDomain;
  let done = 0;
  let nextReport = 0.25;
  log(`synthetic: ${domain.id} synthea ${total} patients (seed ${domain.seed}, log ${path.relative(process.cwd(), logFile)}) ...`);
  await run(javaCommand(), [...JVM_OPTIONS, '-cp', classpath, 'App', ...syntheaArgs(domain, params, outDir)], {
    cwd: outDir,
    logFile,
    onLine: (line) => {
      if (!/^\d+ -- /.test(line)) return; // one line per generated patient
      done++;
      if (total >= 100 && done / total >= nextReport && done < total) {
        log(`synthetic: ${domain.id} synthea ${done}/${total} patients ... ${seconds(started)}`);
        nextReport += 0.25;
      }
    },
  });
  if (done !== total) throw new Error(`${domain.id}: Synthea reported ${done} of ${total} patients (see ${logFile})`);
  writeFileSync(path.join(outDir, DONE_MARKER), JSON.stringify({ seed: domain.seed, params }, null, 2));
  log(`synthetic: ${domain.id} synthea ${total} patients ... ${seconds(started)}`);
  return fhirDir;
}

/** Runs tasks with at most `limit` at a time, keeping result order. */
export async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

export function seconds(startedMs: number): string {
  return `${((Date.now() - startedMs) / 1000).toFixed(1)} s`;
}

function run(command: string, args: string[], options: { cwd: string; logFile: string; onLine?: (line: string) => void }): Promise<void> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const logStream = createWriteStream(options.logFile);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onData = (chunk: Buffer): void => {
      logStream.write(chunk);
      if (!options.onLine) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => logStream.write(chunk));
    child.on('error', (err) => {
      logStream.end();
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code) => {
      if (pending && options.onLine) options.onLine(pending);
      logStream.end(() => {
        if (code === 0) resolve();
        else reject(new Error(`${path.basename(command)} exited with ${code} (see ${options.logFile})`));
      });
    });
  });
}
