// The whole local mesh: set-up of what is missing, start-up in dependency order with readiness checks,
// the synthetic data load, status and shut-down. Used by `npm run mesh*` and by the test runner.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureSyntheticData, Manifest, syntheticDomainData } from '../synthetic/generate';
import { Component, ComponentStatus } from './component';
import { ControlPlane } from './control-plane';
import { registerDemo } from './demo-registry';
import { FhirTrusts } from './fhir';
import { LoadReport, loadSyntheticData } from './load';
import { cachedArtefact } from './maven-central';
import { Postgres } from './postgres';
import { restrictMeshHome, rssMiB, runningPid, say } from './processes';
import { paths, versions } from './topology';
import { Trino } from './trino';

/** Start order; shut-down runs in reverse. */
export function meshComponents(): Component[] {
  return [new Postgres(), new FhirTrusts(), new Trino(), new ControlPlane()];
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
  const data = since(t1);

  const started: string[] = [];
  let load: LoadReport | undefined;
  let loadSeconds = 0;
  const t2 = Date.now();
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
      ['fhir', 'trino', 'control-plane'].map((name) => {
        const pid = runningPid(name);
        return [name, pid ? rssMiB(pid) : undefined];
      }),
    ),
  };
  fs.mkdirSync(paths.logs, { recursive: true });
  fs.writeFileSync(path.join(paths.logs, 'mesh-up.json'), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  restrictMeshHome(); // what the services and this start wrote meanwhile (generated/, logs, ...)
  return report;
}

export function loadManifest(manifest: Manifest): Promise<LoadReport> {
  return loadSyntheticData(manifest.loadOrder, (domain) => syntheticDomainData(manifest, domain.id));
}

/** Stops the named components (default: all), in reverse start order. */
export async function meshDown(only?: readonly string[]): Promise<void> {
  for (const component of meshComponents().reverse()) {
    if (only && !only.includes(component.name)) continue;
    await component.stop();
  }
}

export async function meshStatus(): Promise<ComponentStatus[]> {
  const all = await Promise.all(meshComponents().map((c) => c.status()));
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
