// Loads each domain's synthetic NDJSON into its FHIR partition with transaction Bundles of PUTs, so ids
// are the ground truth's ids and a reload is idempotent. A domain whose counts already match is skipped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ComponentError, say } from './processes';
import { readSecret, SECRETS } from './secrets';
import { DOMAINS, DomainSpec, fhirBaseUrl } from './topology';

const BATCH = Number(process.env.MESH_LOAD_BATCH ?? 500);
/** Requests in flight per domain: the server has two cores, more only queue. */
const CONCURRENCY = 2;

export interface DomainData {
  /** Folder holding `<ResourceType>.ndjson` files. */
  dir: string;
  counts: Record<string, number>;
}

export interface LoadReport {
  resources: number;
  skippedDomains: string[];
  seconds: number;
  resourcesPerSecond: number;
}

/** The loader's write token (the servers refuse anonymous writes and reads). */
export function loaderAuthorization(): { authorization: string } {
  return { authorization: `Bearer ${readSecret(SECRETS.fhirLoaderToken)}` };
}

async function countOnServer(domain: DomainSpec, resourceType: string): Promise<number> {
  const response = await fetch(`${fhirBaseUrl(domain)}/${resourceType}?_summary=count&_total=accurate`, {
    headers: { accept: 'application/fhir+json', ...loaderAuthorization() },
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new ComponentError('load', `${domain.id}: counting ${resourceType} answered HTTP ${response.status}`);
  const bundle = (await response.json()) as { total?: number };
  return bundle.total ?? 0;
}

/** Referenced types first (the generator guarantees references only point earlier in its order). */
function orderTypes(types: string[], loadOrder: readonly string[]): string[] {
  const rank = (t: string): number => (loadOrder.includes(t) ? loadOrder.indexOf(t) : loadOrder.length);
  return [...types].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function* batchesOf(file: string): AsyncGenerator<Record<string, unknown>[]> {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let batch: Record<string, unknown>[] = [];
  for await (const line of lines) {
    if (!line.trim()) continue;
    batch.push(JSON.parse(line) as Record<string, unknown>);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function postTransaction(domain: DomainSpec, resourceType: string, resources: Record<string, unknown>[]): Promise<void> {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => {
      const url = `${resourceType}/${String(resource.id)}`;
      return { fullUrl: url, resource, request: { method: 'PUT', url } };
    }),
  };
  const response = await fetch(fhirBaseUrl(domain), {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...loaderAuthorization() },
    body: JSON.stringify(bundle),
    signal: AbortSignal.timeout(300_000),
  });
  if (!response.ok) {
    const text = await response.text();
    const diagnostics = /"diagnostics"\s*:\s*"([^"]{0,500})/.exec(text)?.[1] ?? text.slice(0, 500);
    throw new ComponentError(
      'load',
      `${domain.id}: a transaction of ${resources.length} ${resourceType} resources ` + `failed with HTTP ${response.status}: ${diagnostics}`,
    );
  }
  await response.arrayBuffer();
}

async function isLoaded(domain: DomainSpec, data: DomainData): Promise<boolean> {
  for (const [type, expected] of Object.entries(data.counts)) {
    if ((await countOnServer(domain, type)) !== expected) return false;
  }
  return true;
}

async function loadDomain(domain: DomainSpec, data: DomainData, loadOrder: readonly string[]): Promise<number> {
  let loaded = 0;
  const total = Object.values(data.counts).reduce((a, b) => a + b, 0);
  let lastReport = Date.now();
  for (const type of orderTypes(Object.keys(data.counts), loadOrder)) {
    const inFlight = new Set<Promise<void>>();
    for await (const batch of batchesOf(path.join(data.dir, `${type}.ndjson`))) {
      const request: Promise<void> = postTransaction(domain, type, batch).then(() => {
        loaded += batch.length;
        inFlight.delete(request);
      });
      inFlight.add(request);
      if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
      if (Date.now() - lastReport > 10_000) {
        say('load', `${domain.id}: ${loaded}/${total} resources (${type})`);
        lastReport = Date.now();
      }
    }
    // Finish a type before the next starts: later types reference earlier ones.
    await Promise.all(inFlight);
  }
  return loaded;
}

/** Loads every domain whose FHIR partition does not already hold exactly the ground-truth counts. */
export async function loadSyntheticData(
  loadOrder: readonly string[],
  dataFor: (domain: DomainSpec) => DomainData,
  domains: readonly DomainSpec[] = DOMAINS,
): Promise<LoadReport> {
  const started = Date.now();
  let resources = 0;
  const skippedDomains: string[] = [];
  for (const domain of domains) {
    const data = dataFor(domain);
    if (await isLoaded(domain, data)) {
      skippedDomains.push(domain.id);
      continue;
    }
    const domainStart = Date.now();
    const n = await loadDomain(domain, data, loadOrder);
    resources += n;
    const secs = (Date.now() - domainStart) / 1000;
    say('load', `${domain.id}: ${n} resources in ${secs.toFixed(1)} s (${Math.round(n / secs)}/s)`);
    if (!(await isLoaded(domain, data))) {
      throw new ComponentError('load', `${domain.id}: after loading, the server's counts differ from the ground truth`);
    }
  }
  if (skippedDomains.length) {
    const names = skippedDomains.length > 8 ? `${skippedDomains.slice(0, 8).join(', ')} and ${skippedDomains.length - 8} more` : skippedDomains.join(', ');
    say('load', `already loaded, skipped: ${names}`);
  }
  const seconds = (Date.now() - started) / 1000;
  return { resources, skippedDomains, seconds, resourcesPerSecond: resources ? Math.round(resources / seconds) : 0 };
}
