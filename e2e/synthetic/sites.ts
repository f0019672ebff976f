// The synthetic sites of a mesh larger than the three demo trusts (`npm run mesh -- --domains N`): each
// site holds a share of one demo trust's patients, every resource that references them, and the
// Organization/Practitioner/Location resources those reference, ids re-prefixed. No Synthea run: the demo output
// is the input, so N sites cost seconds. A patient's share does not depend on N, so growing the mesh only
// adds sites and never moves a loaded record. Output beside the demo data, with its own manifest.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { paths, type SiteSpec } from '../runtime/topology';
import { compareStrings, sha256Hex } from './deterministic';
import { cloneJson, parseRelative, type Resource, referencesOf, rewriteReferences } from './fhir';
import { MANIFEST_FILE, type Manifest, type ManifestFile } from './manifest';
import { fileDigest } from './pipeline';

export const SITES_MANIFEST_FILE = 'sites-manifest.json';
/**
 * Shares each demo trust's patients are dealt into (patient i of the trust, by id, goes to share i mod this).
 * Fixed, so a site's content never depends on how many sites there are; 3 + 3 x 64 = 195 domains hold data,
 * sites past that are empty.
 */
export const SHARES_PER_TRUST = 64;

export interface SiteManifestDomain {
  id: string;
  name: string;
  odsCode: string;
  kind: string;
  region: string;
  source: string;
  share: number;
  counts: Record<string, number>;
  totalResources: number;
  patients: number;
  /** Patients of the site whose Consent (a national data opt-out, as generated) came with them. */
  patientsWithConsent: number;
  files: ManifestFile[];
}

export interface SitesManifest {
  generator: string;
  /** Digest of this file: a change of the derivation re-derives. */
  sourceDigest: string;
  /** Digest of the demo manifest the sites were derived from. */
  demoManifestSha256: string;
  totalResources: number;
  domains: SiteManifestDomain[];
}

type Log = (line: string) => void;

/** Derives (or verifies and reuses) the sites' NDJSON under `out`, beside the demo trusts' folders. */
export function ensureSiteData(demo: Manifest, sites: readonly SiteSpec[], options: { out?: string; log?: Log } = {}): SitesManifest {
  const out = path.resolve(options.out ?? paths.synthetic);
  const log = options.log ?? (() => undefined);
  const demoManifestSha256 = sha256Hex(readFileSync(path.join(out, MANIFEST_FILE)));
  const sourceDigest = sha256Hex(readFileSync(__filename, 'utf8')).slice(0, 16);
  const existing = readSitesManifest(out);
  if (existing && existing.sourceDigest === sourceDigest && existing.demoManifestSha256 === demoManifestSha256) {
    const reused = sites.map((s) => existing.domains.find((d) => d.id === s.id));
    if (reused.every((d) => d !== undefined && filesIntact(out, d))) {
      log(`synthetic: ${sites.length} sites up to date`);
      return { ...existing, domains: reused as SiteManifestDomain[], totalResources: total(reused as SiteManifestDomain[]) };
    }
  }
  const started = Date.now();
  const domains: SiteManifestDomain[] = [];
  const bySource = new Map<string, SiteSpec[]>();
  for (const site of sites) bySource.set(site.source, [...(bySource.get(site.source) ?? []), site]);
  for (const [source, ofSource] of bySource) {
    const trust = demo.domains.find((d) => d.id === source);
    if (!trust) throw new Error(`synthetic sites: the demo data has no trust '${source}' to derive ${ofSource.map((s) => s.id).join(', ')} from`);
    const records = readTrust(out, trust.id, Object.keys(trust.counts));
    for (const site of ofSource) domains.push(writeSite(out, site, records, demo.loadOrder));
  }
  domains.sort((a, b) => compareStrings(a.id, b.id));
  const manifest: SitesManifest = { generator: 'fhir-mesh e2e/synthetic/sites.ts', sourceDigest, demoManifestSha256, totalResources: total(domains), domains };
  // The manifest last: present means every file it names was written.
  writeFileSync(path.join(out, SITES_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  log(
    `synthetic: ${sites.length} sites derived from the demo trusts (${manifest.totalResources} resources) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return manifest;
}

export function readSitesManifest(out: string = paths.synthetic): SitesManifest | undefined {
  try {
    return JSON.parse(readFileSync(path.join(out, SITES_MANIFEST_FILE), 'utf8')) as SitesManifest;
  } catch {
    return undefined;
  }
}

interface TrustRecords {
  /** Resource type -> [line as generated, parsed resource], in file order (sorted by id, prefix-invariant). */
  byType: Map<string, { line: string; resource: Resource }[]>;
  byKey: Map<string, { type: string; line: string; resource: Resource }>;
}

function readTrust(out: string, trustId: string, types: string[]): TrustRecords {
  const byType = new Map<string, { line: string; resource: Resource }[]>();
  const byKey = new Map<string, { type: string; line: string; resource: Resource }>();
  for (const type of types) {
    const lines = readFileSync(path.join(out, trustId, `${type}.ndjson`), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const parsed = lines.map((line) => ({ line, resource: JSON.parse(line) as Resource }));
    byType.set(type, parsed);
    for (const p of parsed) byKey.set(`${type}/${p.resource.id}`, { type, ...p });
  }
  return { byType, byKey };
}

function writeSite(out: string, site: SiteSpec, records: TrustRecords, loadOrder: readonly string[]): SiteManifestDomain {
  const patients = (records.byType.get('Patient') ?? []).filter((_, i) => i % SHARES_PER_TRUST === site.share);
  const chosen = new Set(patients.map((p) => `Patient/${p.resource.id}`));
  const included = new Set(chosen);
  // Everything about the chosen patients (a resource naming another patient too would be a generator bug).
  for (const [type, list] of records.byType) {
    if (type === 'Patient') continue;
    for (const { resource } of list) {
      const patientRefs = referencesOf(resource).filter((r) => r.startsWith('Patient/'));
      if (!patientRefs.some((r) => chosen.has(r))) continue;
      const stranger = patientRefs.find((r) => !chosen.has(r));
      if (stranger) throw new Error(`synthetic sites: ${type}/${resource.id} references ${stranger} besides a patient of ${site.id}`);
      included.add(`${type}/${resource.id}`);
    }
  }
  // Then what those reference (organisations, practitioners, locations, earlier encounters), transitively.
  const queue = [...included];
  while (queue.length) {
    const key = queue.pop()!;
    const record = records.byKey.get(key);
    if (!record) throw new Error(`synthetic sites: ${site.source} has no ${key}`);
    for (const reference of referencesOf(record.resource)) {
      const target = parseRelative(reference);
      if (!target) continue;
      const targetKey = `${target.type}/${target.id}`;
      if (included.has(targetKey)) continue;
      if (target.type === 'Patient') throw new Error(`synthetic sites: ${key} references ${targetKey}, not a patient of ${site.id}`);
      included.add(targetKey);
      queue.push(targetKey);
    }
  }
  const dir = path.join(out, site.id);
  mkdirSync(dir, { recursive: true });
  const counts: Record<string, number> = {};
  const files: ManifestFile[] = [];
  const types = [...records.byType.keys()].sort((a, b) => rank(a, loadOrder) - rank(b, loadOrder) || compareStrings(a, b));
  for (const type of types) {
    const lines = (records.byType.get(type) ?? [])
      .filter((r) => included.has(`${type}/${r.resource.id}`))
      .map((r) => JSON.stringify(rescoped(r.resource, site)));
    const text = lines.length ? `${lines.join('\n')}\n` : '';
    writeFileSync(path.join(dir, `${type}.ndjson`), text);
    counts[type] = lines.length;
    files.push({ path: `${site.id}/${type}.ndjson`, resourceType: type, count: lines.length, sha256: fileDigest(text), bytes: Buffer.byteLength(text) });
  }
  const consentPatients = new Set(
    (records.byType.get('Consent') ?? []).filter((c) => included.has(`Consent/${c.resource.id}`)).flatMap((c) => referencesOf(c.resource)),
  );
  return {
    id: site.id,
    name: site.name,
    odsCode: site.odsCode,
    kind: site.kind,
    region: site.region,
    source: site.source,
    share: site.share,
    counts,
    totalResources: Object.values(counts).reduce((a, b) => a + b, 0),
    patients: patients.length,
    patientsWithConsent: [...consentPatients].filter((r) => chosen.has(r)).length,
    files,
  };
}

/**
 * The record as the site holds it: ids and references moved from the trust's prefix to the site's
 * ("rx1-<uuid>" -> "s004-<uuid>"). HAPI keeps a client-assigned id unique per type across all partitions,
 * so a copy under the trust's id is refused; the prefix keeps the rest of the id, so records stay traceable.
 */
function rescoped(resource: Resource, site: SiteSpec): Resource {
  const from = `${site.source}-`;
  const move = (id: string): string => {
    if (!id.startsWith(from)) throw new Error(`synthetic sites: id ${id} is not scoped to ${site.source}`);
    return `${site.id}-${id.slice(from.length)}`;
  };
  const copy = cloneJson(resource);
  copy.id = move(copy.id);
  rewriteReferences(copy, (reference) => {
    const target = parseRelative(reference);
    return target ? `${target.type}/${move(target.id)}` : reference;
  });
  return copy;
}

function rank(type: string, loadOrder: readonly string[]): number {
  return loadOrder.includes(type) ? loadOrder.indexOf(type) : loadOrder.length;
}

function total(domains: readonly SiteManifestDomain[]): number {
  return domains.reduce((a, d) => a + d.totalResources, 0);
}

function filesIntact(out: string, domain: SiteManifestDomain): boolean {
  return domain.files.every((f) => {
    const file = path.join(out, f.path);
    return existsSync(file) && fileDigest(readFileSync(file, 'utf8')) === f.sha256;
  });
}
