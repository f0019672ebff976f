// The FHIR trusts: one HAPI FHIR JPA JVM (e2e/fhir-server) serving every domain as its own URL
// partition (/fhir/<domain>/), stored in the mesh's PostgreSQL. One JVM with N partitions instead of
// N JVMs: see the figures in the README.
import * as path from 'node:path';
import { Component, ComponentStatus } from './component';
import { jdbcUrl } from './postgres';
import { assertPortFree, httpOk, runningPid, rssMiB, say, startDaemon, stopDaemon, waitUntil } from './processes';
import { javaBin, mavenPackage } from './toolchain';
import { DOMAINS, fhirBaseUrl, HOST, ONBOARDING_TENANT, paths, ports, postgres, ROOT } from './topology';

const NAME = 'fhir';
const SERVER_DIR = path.join(ROOT, 'e2e', 'fhir-server');
const SERVER_JAR = path.join(SERVER_DIR, 'target', 'fhir-mesh-hapi.jar');
const HEAP = process.env.MESH_FHIR_HEAP ?? '1536m';

async function allDomainsReady(): Promise<boolean> {
  for (const domain of DOMAINS) {
    if (!(await httpOk(`${fhirBaseUrl(domain)}/metadata`, 10_000))) return false;
  }
  return true;
}

export class FhirTrusts implements Component {
  readonly name = NAME;

  async prepare(): Promise<void> {
    mavenPackage(NAME, SERVER_DIR, SERVER_JAR);
  }

  async start(): Promise<boolean> {
    if (runningPid(NAME) !== undefined && (await allDomainsReady().catch(() => false))) return false;
    await stopDaemon(NAME);
    await assertPortFree(NAME, ports.fhir);
    say(NAME, `starting HAPI FHIR with partitions ${DOMAINS.map((d) => d.id).join(', ')} on http://${HOST}:${ports.fhir}/fhir/ (heap ${HEAP})`);
    const pid = startDaemon(NAME, javaBin(), [
      `-Xmx${HEAP}`,
      '-XX:+UseG1GC',
      '-XX:ActiveProcessorCount=2',
      '--sun-misc-unsafe-memory-access=allow',
      '-jar', SERVER_JAR,
      `--server.address=${HOST}`,
      `--server.port=${ports.fhir}`,
      `--spring.datasource.url=${jdbcUrl(postgres.fhirDatabase)}`,
      `--spring.datasource.username=${postgres.user}`,
      `--mesh.tenants=${[...DOMAINS.map((d) => d.id), ONBOARDING_TENANT].join(',')}`,
      `--mesh.access-log-dir=${paths.logs}`,
    ]);
    const ms = await waitUntil(NAME, 'serving every domain', allDomainsReady, { timeoutMs: 300_000, pid });
    say(NAME, `ready in ${(ms / 1000).toFixed(1)} s`);
    return true;
  }

  async stop(): Promise<void> {
    if (await stopDaemon(NAME)) say(NAME, 'stopped');
  }

  async status(): Promise<ComponentStatus[]> {
    const pid = runningPid(NAME);
    return Promise.all(DOMAINS.map(async (domain): Promise<ComponentStatus> => {
      const url = fhirBaseUrl(domain);
      const base = { name: `fhir:${domain.id}`, kind: 'fhir' as const, url, pid, rssMiB: pid ? rssMiB(pid) : undefined };
      try {
        const healthy = await httpOk(`${url}/metadata`, 5000);
        return { ...base, healthy, detail: `${domain.odsCode} ${domain.name}` };
      } catch (e) {
        return { ...base, healthy: false, detail: `${domain.odsCode}: ${(e as Error).message}` };
      }
    }));
  }
}
