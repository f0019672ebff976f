// The FHIR trusts: one HAPI FHIR JPA JVM (e2e/fhir-server) serving every domain as its own URL
// partition (/fhir/<domain>/), stored in the mesh's PostgreSQL. One JVM with N partitions instead of
// N JVMs: see the figures in the README.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Component, ComponentStatus } from './component';
import { jdbcUrl } from './postgres';
import { assertPortFree, httpOk, rssMiB, runningPid, say, startDaemon, stopDaemon, waitUntil } from './processes';
import { ensureSecret, SECRETS, writeSecret } from './secrets';
import { javaBin, mavenPackage } from './toolchain';
import { DOMAINS, fhirBaseUrl, HOST, ONBOARDING_TENANT, paths, ports, postgres, ROOT } from './topology';

const NAME = 'fhir';
const SERVER_DIR = path.join(ROOT, 'e2e', 'fhir-server');
const SERVER_JAR = path.join(SERVER_DIR, 'target', 'fhir-mesh-hapi.jar');
const HEAP = process.env.MESH_FHIR_HEAP ?? '1536m';

/** Every tenant the server serves: the demo domains plus the onboarding partition. */
export const FHIR_TENANTS: readonly string[] = [...DOMAINS.map((d) => d.id), ONBOARDING_TENANT];

/**
 * The server's callers file (token hashes only): the loader may write everywhere, each tenant has one
 * reader token, kept in the connector's token folder for the catalog to name.
 */
export function ensureFhirCallers(): void {
  const hash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
  const lines = [
    '# <sha256 of the bearer token>\t<read|write>\t<tenants|*>\t<caller>; written by the mesh runtime',
    `${hash(ensureSecret(SECRETS.fhirLoaderToken))}\twrite\t*\tmesh-loader`,
    ...FHIR_TENANTS.map((tenant) => `${hash(ensureSecret(SECRETS.fhirReaderToken(tenant)))}\tread\t${tenant}\treader-${tenant}`),
  ];
  writeSecret(SECRETS.fhirCallers, `${lines.join('\n')}\n`);
}

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
    ensureFhirCallers();
    ensureSecret(SECRETS.fhirAccessLogKey);
  }

  async start(): Promise<boolean> {
    if (runningPid(NAME) !== undefined && (await allDomainsReady().catch(() => false))) return false;
    await stopDaemon(NAME);
    await assertPortFree(NAME, ports.fhir);
    say(NAME, `starting HAPI FHIR with partitions ${DOMAINS.map((d) => d.id).join(', ')} on http://${HOST}:${ports.fhir}/fhir/ (heap ${HEAP})`);
    const pid = startDaemon(
      NAME,
      javaBin(),
      [
        `-Xmx${HEAP}`,
        '-XX:+UseG1GC',
        '-XX:ActiveProcessorCount=2',
        '--sun-misc-unsafe-memory-access=allow',
        '-jar',
        SERVER_JAR,
        `--server.address=${HOST}`,
        `--server.port=${ports.fhir}`,
        `--spring.datasource.url=${jdbcUrl(postgres.fhirDatabase)}`,
        `--spring.datasource.username=${postgres.roles.fhir}`,
        `--mesh.tenants=${FHIR_TENANTS.join(',')}`,
        `--mesh.callers-file=${SECRETS.fhirCallers}`,
        `--mesh.access-log-dir=${paths.logs}`,
        `--mesh.access-log-key-file=${SECRETS.fhirAccessLogKey}`,
        // The database password through the environment (Spring's relaxed binding), never on the command line.
      ],
      { ...process.env, SPRING_DATASOURCE_PASSWORD: ensureSecret(SECRETS.fhirDatabase) },
    );
    const ms = await waitUntil(NAME, 'serving every domain', allDomainsReady, { timeoutMs: 300_000, pid });
    say(NAME, `ready in ${(ms / 1000).toFixed(1)} s`);
    return true;
  }

  async stop(): Promise<void> {
    if (await stopDaemon(NAME)) say(NAME, 'stopped');
  }

  async status(): Promise<ComponentStatus[]> {
    const pid = runningPid(NAME);
    return Promise.all(
      DOMAINS.map(async (domain): Promise<ComponentStatus> => {
        const url = fhirBaseUrl(domain);
        const base = { name: `fhir:${domain.id}`, kind: 'fhir' as const, url, pid, rssMiB: pid ? rssMiB(pid) : undefined };
        try {
          const healthy = await httpOk(`${url}/metadata`, 5000);
          return { ...base, healthy, detail: `${domain.odsCode} ${domain.name}` };
        } catch (e) {
          return { ...base, healthy: false, detail: `${domain.odsCode}: ${(e as Error).message}` };
        }
      }),
    );
  }
}
