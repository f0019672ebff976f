// Entry point: `npx tsx e2e/synthetic/generate.ts [--size small|large] [--patients N] [--out DIR] [--force]`
// and ensureSyntheticData() for the mesh runtime. Synthea per domain -> post-processing -> NDJSON +
// manifest.json under paths.synthetic; a second call with the same parameters only verifies hashes.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DOMAINS, paths } from '../runtime/topology';
import { compareStrings, sha256Hex } from './deterministic';
import { buildManifest, MANIFEST_FILE, type Manifest, renderManifest } from './manifest';
import { type GenerationParams, generationParams, type SizeName } from './params';
import { type DomainInput, postProcess } from './pipeline';
import { inParallel, type Log, runSynthea, seconds, syntheaClasspath } from './synthea-runner';

export interface SyntheticDataOptions {
  size?: SizeName;
  /** Patients per domain (overrides the size's default). */
  patients?: number;
  /** Output folder; default paths.synthetic. */
  out?: string;
  /** Regenerate even if the output matches, re-running Synthea too. */
  force?: boolean;
  log?: Log;
}

export type { Manifest } from './manifest';

export async function ensureSyntheticData(options: SyntheticDataOptions = {}): Promise<Manifest> {
  const log = options.log ?? ((line: string) => console.log(line));
  const params = generationParams({ size: options.size, patients: options.patients, sourceDigest: generatorSourceDigest() });
  const out = path.resolve(options.out ?? paths.synthetic);

  if (!options.force) {
    const existing = readManifest(out);
    if (existing && sameParams(existing.params, params) && filesIntact(out, existing)) {
      log(`synthetic: up to date in ${path.relative(process.cwd(), out) || '.'} (${existing.totalResources} resources)`);
      return existing;
    }
  }

  const started = Date.now();
  const classpath = await syntheaClasspath(params.synthea.syntheaVersion, log);
  const concurrency = Math.max(1, Math.min(2, os.cpus().length));
  const fhirDirs = await inParallel(DOMAINS, concurrency, (domain) => runSynthea(domain, params.synthea, classpath, log, options.force ?? false));

  const postStarted = Date.now();
  const inputs: DomainInput[] = DOMAINS.map((domain, i) => ({ domain, bundles: () => readBundles(fhirDirs[i] as string) }));
  const result = postProcess(inputs, DOMAINS, { ...params.postProcess, referenceDate: params.synthea.referenceDate }, (m) => log(`synthetic: ${m}`));
  const manifest = buildManifest(params, result);
  writeOutput(
    out,
    result.domains.map((d) => ({ id: d.domain.id, files: d.files })),
    renderManifest(manifest),
  );
  log(`synthetic: post-processed and written ... ${seconds(postStarted)}`);
  for (const d of manifest.domains) {
    const labels = Object.entries(d.securityLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    log(
      `synthetic: ${d.id} ${d.totalResources} resources, ${d.homePatients}+${d.visitingPatients} patients, ` +
        `${d.optedOutPatients} opted out, labels ${labels}, stroke ${d.strokePatients} (${d.thrombolysed} thrombolysed, ${d.strokeOptedOut} opted out)`,
    );
  }
  log(`synthetic: ${manifest.totalResources} resources, ${manifest.sharedPatients.length} shared patients ... ${seconds(started)}`);
  return manifest;
}

/** What the loader needs for one domain: its NDJSON folder and the expected count per resource type. */
export function syntheticDomainData(manifest: Manifest, domainId: string, out: string = paths.synthetic): { dir: string; counts: Record<string, number> } {
  const domain = manifest.domains.find((d) => d.id === domainId);
  if (!domain) throw new Error(`synthetic data has no domain ${domainId}`);
  return { dir: path.join(path.resolve(out), domainId), counts: { ...domain.counts } };
}

export function readManifest(out: string): Manifest | undefined {
  const file = path.join(out, MANIFEST_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** Digest of this folder's sources (not tests or fixtures) and the Synthea pom. */
export function generatorSourceDigest(): string {
  const files = readdirSync(__dirname)
    // sites.ts derives from this output and keeps its own digest (sites-manifest.json): no demo regeneration for it.
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'sites.ts')
    .sort(compareStrings)
    .map((f) => path.join(__dirname, f));
  files.push(path.join(__dirname, 'synthea', 'pom.xml'));
  return sha256Hex(files.map((f) => `${path.basename(f)}\n${readFileSync(f, 'utf8')}`).join('\n')).slice(0, 16);
}

function sameParams(a: GenerationParams, b: GenerationParams): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => compareStrings(x, y)))
      : v,
  );
}

/** Every file the manifest lists is present with the recorded digest (cheap: tens of MB at most). */
function filesIntact(out: string, manifest: Manifest): boolean {
  return manifest.domains.every((d) =>
    d.files.every((f) => {
      const file = path.join(out, f.path);
      return existsSync(file) && sha256Hex(readFileSync(file)) === f.sha256;
    }),
  );
}

function readBundles(fhirDir: string): unknown[] {
  return readdirSync(fhirDir)
    .filter((f) => f.endsWith('.json'))
    .sort(compareStrings)
    .map((f) => JSON.parse(readFileSync(path.join(fhirDir, f), 'utf8')) as unknown);
}

/** Writes into a sibling temp folder and swaps it in, so a crash never leaves half an output with a manifest. */
function writeOutput(out: string, domains: { id: string; files: ReadonlyMap<string, string> }[], manifest: string): void {
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const d of domains) {
    mkdirSync(path.join(tmp, d.id), { recursive: true });
    for (const [type, text] of d.files) writeFileSync(path.join(tmp, d.id, `${type}.ndjson`), text);
  }
  writeFileSync(path.join(tmp, MANIFEST_FILE), manifest);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.dirname(out), { recursive: true });
  renameSync(tmp, out);
}

function parseCli(argv: string[]): SyntheticDataOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string' },
      patients: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.size !== undefined && values.size !== 'small' && values.size !== 'large') {
    throw new Error(`--size must be small or large, got ${values.size}`);
  }
  const patients = values.patients === undefined ? undefined : Number(values.patients);
  if (patients !== undefined && (!Number.isInteger(patients) || patients < 1)) {
    throw new Error(`--patients must be a positive integer, got ${values.patients}`);
  }
  return { size: values.size as SizeName | undefined, patients, out: values.out, force: values.force };
}

if (require.main === module) {
  let options: SyntheticDataOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`synthetic: ${(err as Error).message}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log('usage: npx tsx e2e/synthetic/generate.ts [--size small|large] [--patients N] [--out DIR] [--force]');
  } else {
    ensureSyntheticData(options).catch((err: unknown) => {
      console.error(`synthetic: failed: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    });
  }
}
