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
import { DomainSpec, fhirBaseUrl, HOST, meshDomains, ONBOARDING_TENANT, paths, ports, postgres, ROOT } from './topology';

const NAME = 'fhir';
const SERVER_DIR = path.join(ROOT, 'e2e', 'fhir-server');
const SERVER_JAR = path.join(SERVER_DIR, 'target', 'fhir-mesh-hapi.jar');
const HEAP = process.env.MESH_FHIR_HEAP ?? '1536m';
/** Up to this many domains `mesh:status` shows one line each; more get one summary line. */
const DEMO_SCALE = 8;

/** Every tenant the server serves: the mesh's domains (demo trusts, then sites) plus the onboarding partition. */
export function fhirTenants(): string[] {
  return [...meshDomains().map((d) => d.id), ONBOARDING_TENANT];
}

/**
 * The server's callers file (token hashes only): the loader may write everywhere, each tenant has one
 * reader token, kept in the connector's token folder for the catalog to name.
 */
export function ensureFhirCallers(): void {
  const hash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
  const lines = [
    '# <sha256 of the bearer token>\t<read|write>\t<tenants|*>\t<caller>; written by the mesh runtime',
    `${hash(ensureSecret(SECRETS.fhirLoaderToken))}\twrite\t*\tmesh-loader`,
    ...fhirTenants().map((tenant) => `${hash(ensureSecret(SECRETS.fhirReaderToken(tenant)))}\tread\t${tenant}\treader-${tenant}`),
  ];
  writeSecret(SECRETS.fhirCallers, `${lines.join('\n')}\n`);
}

/** Probes every domain's /metadata, a few at a time (128 one after another would take seconds per poll). */
async function domainHealth(domains: readonly DomainSpec[], timeoutMs: number): Promise<{ domain: DomainSpec; healthy: boolean; problem?: string }[]> {
  const results: { domain: DomainSpec; healthy: boolean; problem?: string }[] = [];
  for (let i = 0; i < domains.length; i += 8) {
    results.push(
      ...(await Promise.all(
        domains.slice(i, i + 8).map(async (domain) => {
          try {
            const healthy = await httpOk(`${fhirBaseUrl(domain)}/metadata`, timeoutMs);
            return { domain, healthy, problem: healthy ? undefined : 'metadata not OK' };
          } catch (e) {
            return { domain, healthy: false, problem: (e as Error).message };
          }
        }),
      )),
    );
  }
  return results;
}

async function allDomainsReady(): Promise<boolean> {
  // Eight at a time, stopping at the first batch with a partition not yet serving: a cold server answers slowly.
  const domains = meshDomains();
  for (let i = 0; i < domains.length; i += 8) {
    if (!(await domainHealth(domains.slice(i, i + 8), 10_000)).every((r) => r.healthy)) return false;
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
    const ids = meshDomains().map((d) => d.id);
    const partitions = ids.length > 8 ? `${ids.length} partitions (${ids.slice(0, 4).join(', ')}, ..., ${ids.at(-1)})` : `partitions ${ids.join(', ')}`;
    say(NAME, `starting HAPI FHIR with ${partitions} on http://${HOST}:${ports.fhir}/fhir/ (heap ${HEAP})`);
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
        `--mesh.tenants=${fhirTenants().join(',')}`,
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
    const base = { kind: 'fhir' as const, pid, rssMiB: pid ? rssMiB(pid) : undefined };
    const health = await domainHealth(meshDomains(), 5000);
    if (health.length <= DEMO_SCALE) {
      return health.map(({ domain, healthy, problem }) => ({
        ...base,
        name: `fhir:${domain.id}`,
        url: fhirBaseUrl(domain),
        healthy,
        detail: healthy ? `${domain.odsCode} ${domain.name}` : `${domain.odsCode}: ${problem}`,
      }));
    }
    // A large mesh: one line for the server, and a line per partition only for those that are down.
    const down = health.filter((r) => !r.healthy);
    const summary: ComponentStatus = {
      ...base,
      name: NAME,
      url: `http://${HOST}:${ports.fhir}/fhir/`,
      healthy: down.length === 0,
      detail: `${health.length - down.length} of ${health.length} partitions up`,
    };
    return [
      summary,
      ...down.map(({ domain, problem }) => ({
        ...base,
        name: `fhir:${domain.id}`,
        url: fhirBaseUrl(domain),
        healthy: false,
        detail: `${domain.odsCode}: ${problem}`,
      })),
    ];
  }
}
