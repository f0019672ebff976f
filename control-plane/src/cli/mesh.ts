// `mesh publish product.json`: the data product owner's CLI over the admin API.
//   MESH_API    control plane URL (default: the local mesh's)
//   MESH_TOKEN  the caller's API token (required: the CLI never falls back to the ops token, so nobody
//               publishes as ops by forgetting to say who they are)
import * as fs from 'node:fs';
import { loadConfig } from '../config';

const USAGE = 'usage: mesh publish <product.json> | mesh lifecycle <product> <version> <published|deprecated|retired> | mesh products';

class CliError extends Error {}

function token(): string {
  if (process.env.MESH_TOKEN) return process.env.MESH_TOKEN;
  throw new CliError(
    'MESH_TOKEN is not set: set MESH_TOKEN to your own API token (ops create one with POST /api/v1/consumers); the CLI does not use the ops token file',
  );
}

/** The control plane this machine runs, as its own configuration places it. */
function adminApiUrl(): string {
  const { host, port } = loadConfig();
  return `http://${host}:${port}`;
}

async function call(method: string, route: string, body?: unknown): Promise<unknown> {
  const base = process.env.MESH_API ?? adminApiUrl();
  const bearer = token();
  let response: Response;
  try {
    response = await fetch(`${base}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new CliError(`control plane at ${base} is not reachable: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) {
    const problems = Array.isArray(parsed.problems)
      ? `\n${(parsed.problems as { path: string; message: string }[]).map((p) => `  ${p.path}: ${p.message}`).join('\n')}`
      : '';
    throw new CliError(`HTTP ${response.status}: ${String(parsed.message ?? text)}${problems}`);
  }
  return parsed;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === 'publish' && args.length === 1) {
    const result = (await call('POST', '/data-products', readJson(args[0]!))) as {
      product: string;
      version: string;
      created: boolean;
      tables: string[];
      dryRun: { view: string; rows: number }[];
      serving?: { problems: string[] };
    };
    process.stdout.write(`${result.created ? 'published' : 'already published (unchanged)'}: ${result.product} ${result.version}\n`);
    process.stdout.write(`tables: ${result.tables.join(', ')}\n`);
    for (const d of result.dryRun) process.stdout.write(`dry run ${d.view}: ${d.rows} rows read\n`);
    for (const p of result.serving?.problems ?? []) process.stdout.write(`warning: ${p}\n`);
    return;
  }
  if (command === 'lifecycle' && args.length === 3) {
    await call('PATCH', `/data-products/${encodeURIComponent(args[0]!)}/versions/${encodeURIComponent(args[1]!)}`, { lifecycle: args[2] });
    process.stdout.write(`${args[0]} ${args[1]}: ${args[2]}\n`);
    return;
  }
  if (command === 'products' && args.length === 0) {
    for (const p of (await call('GET', '/data-products')) as { name: string; domain: string; versions: { version: string; lifecycle: string }[] }[]) {
      process.stdout.write(`${p.name} (${p.domain}): ${p.versions.map((v) => `${v.version} ${v.lifecycle}`).join(', ')}\n`);
    }
    return;
  }
  throw new CliError(USAGE);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`mesh: ${e instanceof CliError ? e.message : (e as Error).stack}\n`);
  process.exit(1);
});
