// npm run mappings:bindings -- [--check] [--base-url URL]
//   --base-url  the FHIR server to derive from (default: the local mesh's first trust, on MESH_FHIR_PORT or 8190)
//
// Derives the `bindings` of every sql-mappings/*.json from a live FHIR server's CapabilityStatement and
// search parameter expressions (search-bindings.ts), then either rewrites each file's `bindings` (every
// other byte stays as it was) or, with --check, lists the differences and exits 1 if there are any.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FhirServerError, loadServerSearchParams, ServerSearchParams } from './capability';
import { Binding, columnNames, deriveBindings, diffBindings, replaceBindings, ViewDefinitionLike } from './search-bindings';

/** The checkout whose committed mapping files the CLI reads and rewrites. */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const MAPPINGS_DIR = path.join(REPO_ROOT, 'sql-mappings');

/** The server `npm run mesh` starts first (trust RX1's partition); any other is named with --base-url. */
export function defaultBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${env.MESH_FHIR_PORT || 8190}/fhir/rx1`;
}

interface MappingFile {
  table: string;
  view: ViewDefinitionLike;
  bindings: Record<string, Binding>;
}

export interface TableResult {
  file: string;
  table: string;
  committed: Record<string, Binding>;
  derived: Record<string, Binding>;
  differences: string[];
  notes: string[];
  /** Parameters the server lists for the type without any definition (nothing to derive from). */
  withoutDefinition: string[];
  text: string;
}

/** The mapping files, sorted by name. */
export function mappingFiles(dir = MAPPINGS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Derives one mapping file's bindings against a loaded server. */
export function deriveForFile(file: string, server: ServerSearchParams): TableResult {
  const text = fs.readFileSync(file, 'utf8');
  let mapping: MappingFile;
  try {
    mapping = JSON.parse(text) as MappingFile;
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  if (!mapping.view?.resource || !Array.isArray(mapping.view.select)) throw new UsageError(`${file}: no view.resource or view.select`);
  const resolved = server.forResource(mapping.view.resource);
  const { bindings, notes } = deriveBindings(mapping.view, resolved.params);
  const committed = mapping.bindings ?? {};
  return {
    file,
    table: mapping.table,
    committed,
    derived: bindings,
    differences: diffBindings(committed, bindings, columnNames(mapping.view)),
    notes: [...resolved.notes, ...notes],
    withoutDefinition: resolved.withoutDefinition,
    text,
  };
}

/** Wrong arguments or a mapping file that cannot be read as one: reported without a stack trace. */
class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { check: boolean; baseUrl: string } {
  let check = false;
  let baseUrl = defaultBaseUrl();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--check') check = true;
    else if (arg === '--base-url') {
      const value = argv[i + 1];
      if (!value) throw new UsageError('--base-url needs a URL');
      baseUrl = value;
      i += 1;
    } else if (arg.startsWith('--base-url=')) baseUrl = arg.slice('--base-url='.length);
    else throw new UsageError(`unknown argument ${arg}; usage: npm run mappings:bindings -- [--check] [--base-url URL]`);
  }
  return { check, baseUrl };
}

async function main(): Promise<number> {
  const { check, baseUrl } = parseArgs(process.argv.slice(2));
  const server = await loadServerSearchParams(baseUrl);
  process.stdout.write(`${server.describe()}\n`);
  for (const note of server.notes) process.stdout.write(`  note: ${note}\n`);
  let differing = 0;
  const withoutDefinition = new Set<string>();
  for (const file of mappingFiles()) {
    const result = deriveForFile(file, server);
    for (const name of result.withoutDefinition) withoutDefinition.add(name);
    const name = path.relative(REPO_ROOT, file);
    const bound = Object.keys(result.derived).length;
    process.stdout.write(`${name} (${result.table}): ${bound} bound column(s)\n`);
    for (const note of result.notes) process.stdout.write(`  note: ${note}\n`);
    if (result.differences.length === 0) continue;
    differing += 1;
    if (check) {
      for (const line of result.differences) process.stdout.write(`  differs: ${line}\n`);
    } else {
      fs.writeFileSync(file, replaceBindings(result.text, result.derived));
      for (const line of result.differences) process.stdout.write(`  rewritten: ${line}\n`);
    }
  }
  if (withoutDefinition.size > 0) {
    process.stdout.write(`note: listed without a definition, so never bound: ${[...withoutDefinition].join(', ')}\n`);
  }
  if (check && differing > 0) {
    process.stderr.write(`${differing} mapping file(s) differ from the bindings derived from ${baseUrl}; run npm run mappings:bindings to rewrite them\n`);
    return 1;
  }
  process.stdout.write(check ? 'all committed bindings match the server\n' : `${differing} mapping file(s) rewritten\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      const known = e instanceof FhirServerError || e instanceof UsageError;
      process.stderr.write(`mappings:bindings: ${known ? e.message : ((e as Error).stack ?? String(e))}\n`);
      process.exit(2);
    },
  );
}
