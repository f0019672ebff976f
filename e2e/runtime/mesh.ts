// The whole local mesh: set-up of what is missing, start-up in dependency order with readiness checks,
// the synthetic data load, status and shut-down. Used by `npm run mesh*` and by the test runner.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureSyntheticData, Manifest, syntheticDomainData } from '../synthetic/generate';
import { ensureSiteData } from '../synthetic/sites';
import { Component, ComponentStatus } from './component';
import { ControlPlane } from './control-plane';
import { registerDemo } from './demo-registry';
import { FhirTrusts } from './fhir';
import { LoadReport, loadSyntheticData } from './load';
import { cachedArtefact } from './maven-central';
import { Postgres } from './postgres';
import { restrictMeshHome, rssMiB, runningPid, say } from './processes';
import { meshDomains, meshShape, meshSites, paths, SHAPE_FILE, versions } from './topology';
import { Trino, trinoWorkers } from './trino';

/**
 * Start order; shut-down runs in reverse. Trino's workers (`--workers K`) follow the coordinator; with
 * `strays`, also workers still running beyond K from an earlier, larger start (to stop them).
 */
export function meshComponents(options: { strays?: boolean } = {}): Component[] {
  const workers = trinoWorkers().filter((w, i) => options.strays || i < meshShape().workers);
  return [new Postgres(), new FhirTrusts(), new Trino(), ...workers, new ControlPlane()];
}

export interface UpReport {
  /** Components this call started (not those that were already running). */
  started: string[];
  seconds: { prepare: number; data: number; start: number; load: number; total: number };
  load?: LoadReport;
  rssMiB: Record<string, number | undefined>;
}

const since = (t: number): number => Math.round((Date.now() - t) / 100) / 10;

export async function meshUp(): Promise<UpReport> {
  const t0 = Date.now();
  const components = meshComponents();
  // Set-up first, services second: downloads, builds and data generation would otherwise compete with
  // starting JVMs for the two cores.
  for (const component of components) await component.prepare();
  await trinoCliJar();
  restrictMeshHome();
  const prepare = since(t0);

  const t1 = Date.now();
  const manifest = await ensureSyntheticData({ log: (line) => process.stdout.write(`[mesh] ${line}\n`) });
  if (meshSites().length) ensureSiteData(manifest, meshSites(), { log: (line) => process.stdout.write(`[mesh] ${line}\n`) });
  const data = since(t1);

  const started: string[] = [];
  let load: LoadReport | undefined;
  let loadSeconds = 0;
  const t2 = Date.now();
  // Workers beyond this start's --workers would stay in the cluster and take splits: stop them first.
  for (const stray of trinoWorkers().slice(meshShape().workers)) await stray.stop();
  for (const component of components) {
    if (await component.start()) started.push(component.name);
    if (component instanceof FhirTrusts) {
      // Load before Trino starts, so the two do not compete for the cores.
      const t3 = Date.now();
      load = await loadManifest(manifest);
      loadSeconds = since(t3);
    }
  }
  // Through the control plane's own API: the demo domains, endpoints and data products (idempotent).
  await registerDemo();
  const start = Math.round((since(t2) - loadSeconds) * 10) / 10;

  const report: UpReport = {
    started,
    seconds: { prepare, data, start, load: loadSeconds, total: since(t0) },
    load,
    rssMiB: Object.fromEntries(
      ['fhir', 'trino', ...trinoWorkers().map((w) => w.name), 'control-plane'].map((name) => {
        const pid = runningPid(name);
        return [name, pid ? rssMiB(pid) : undefined];
      }),
    ),
  };
  fs.mkdirSync(paths.run, { recursive: true });
  fs.writeFileSync(SHAPE_FILE, `${JSON.stringify(meshShape())}\n`, { mode: 0o600 });
  fs.mkdirSync(paths.logs, { recursive: true });
  fs.writeFileSync(path.join(paths.logs, 'mesh-up.json'), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  restrictMeshHome(); // what the services and this start wrote meanwhile (generated/, logs, ...)
  return report;
}

export function loadManifest(manifest: Manifest): Promise<LoadReport> {
  const sites = meshSites();
  // The sites' records are shares of the demo trusts' (e2e/synthetic/sites.ts): seconds, no Synthea.
  const siteData = sites.length ? ensureSiteData(manifest, sites, { log: (line) => process.stdout.write(`[mesh] ${line}\n`) }) : undefined;
  return loadSyntheticData(
    manifest.loadOrder,
    (domain) => {
      const site = siteData?.domains.find((d) => d.id === domain.id);
      return site ? { dir: path.join(paths.synthetic, site.id), counts: { ...site.counts } } : syntheticDomainData(manifest, domain.id);
    },
    meshDomains(),
  );
}

/** Stops the named components (default: all), in reverse start order. */
export async function meshDown(only?: readonly string[]): Promise<void> {
  const components = meshComponents({ strays: true });
  for (const component of [...components].reverse()) {
    if (only && !only.includes(component.name)) continue;
    await component.stop();
  }
  // The next start without --domains/--workers gets the defaults (or MESH_DOMAINS/MESH_TRINO_WORKERS) again.
  if (!only || components.every((c) => only.includes(c.name))) fs.rmSync(SHAPE_FILE, { force: true });
}

export async function meshStatus(): Promise<ComponentStatus[]> {
  const all = await Promise.all(meshComponents({ strays: true }).map((c) => c.status()));
  return all.flat();
}

/** The Trino CLI is one way to connect; it is cached like every other download. */
export async function trinoCliJar(): Promise<string> {
  return cachedArtefact('trino-cli', {
    group: 'io.trino',
    artifact: 'trino-cli',
    version: versions.trino,
    extension: 'jar',
    classifier: 'executable',
  });
}

export function printReport(report: UpReport): void {
  const s = report.seconds;
  say('mesh', `timings: set-up ${s.prepare} s, synthetic data ${s.data} s, start ${s.start} s, load ${s.load} s, total ${s.total} s`);
  const rss = Object.entries(report.rssMiB)
    .map(([name, mib]) => `${name} ${mib ?? '-'} MiB`)
    .join(', ');
  say('mesh', `resident memory: ${rss}`);
}
