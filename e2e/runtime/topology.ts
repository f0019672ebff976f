// The local mesh in one typed place: every script (runtime, data generator, tests, compose.yaml)
// reads these values, so ports, domains and versions are never repeated elsewhere.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Ignored working folder: downloads (cache/), logs, databases, pid files, generated data. */
export const MESH_HOME = process.env.MESH_HOME ?? path.join(ROOT, '.mesh');

export const paths = {
  cache: path.join(MESH_HOME, 'cache'),
  logs: path.join(MESH_HOME, 'logs'),
  run: path.join(MESH_HOME, 'run'),
  pgData: path.join(MESH_HOME, 'pgdata'),
  trinoHome: path.join(MESH_HOME, 'trino'),
  synthetic: path.join(MESH_HOME, 'synthetic'),
  /** Credentials and keys (mode 0700): one subfolder per reader, so each process sees only its own. */
  secrets: path.join(MESH_HOME, 'secrets'),
};

/** The only folder the fhir connector takes bearer-token files from (Trino's -Dfhir.secrets-dir). */
export const FHIR_TOKEN_DIR = path.join(paths.secrets, 'fhir-tokens');

export type DomainKind = 'trust' | 'gp-federation' | 'ics';

export interface DomainSpec {
  /** Lower-case slug: HAPI partition name, Trino catalog suffix, folder name. */
  readonly id: string;
  readonly name: string;
  readonly kind: DomainKind;
  /** ODS organisation code of the domain (synthetic use of real codes: only the code is reused). */
  readonly odsCode: string;
  readonly region: string;
  /** Synthea seed for this domain's patients: same seed, same data. */
  readonly seed: number;
}

export const DOMAINS: readonly DomainSpec[] = [
  { id: 'rx1', name: 'Nottingham University Hospitals NHS Trust', kind: 'trust', odsCode: 'RX1', region: 'Midlands', seed: 1001 },
  { id: 'rth', name: 'Oxford University Hospitals NHS Foundation Trust', kind: 'trust', odsCode: 'RTH', region: 'South East', seed: 1002 },
  { id: 'rr8', name: 'Leeds Teaching Hospitals NHS Trust', kind: 'trust', odsCode: 'RR8', region: 'North East and Yorkshire', seed: 1003 },
];

/** NHS England's seven regions: synthetic sites cycle through them. */
export const NHS_REGIONS = ['North East and Yorkshire', 'North West', 'Midlands', 'East of England', 'London', 'South East', 'South West'] as const;

const SITE_KINDS: readonly DomainKind[] = ['trust', 'gp-federation', 'ics'];
const SITE_KIND_NAMES: Record<DomainKind, string> = { trust: 'Trust', 'gp-federation': 'GP Federation', ics: 'Integrated Care System' };

/** A synthetic site (domain 4..N of a larger mesh): its data is a share of one demo trust's patients. */
export interface SiteSpec extends DomainSpec {
  /** The demo trust (DOMAINS id) whose patients and records it holds a share of. */
  readonly source: string;
  /** Its place among the sites drawing on the same trust (0-based): which share it holds. */
  readonly share: number;
}

/**
 * Domain `index` (4-based) of the mesh. Codes are `S` + three or more digits: real trust codes are three
 * characters starting R or T and GP practice codes a letter and five digits, so none can clash.
 */
export function siteSpec(index: number): SiteSpec {
  if (!Number.isInteger(index) || index <= DOMAINS.length) throw new Error(`site index must be an integer above ${DOMAINS.length}, got ${index}`);
  const ordinal = index - DOMAINS.length - 1;
  const source = DOMAINS[ordinal % DOMAINS.length]!;
  const kind = SITE_KINDS[ordinal % SITE_KINDS.length]!;
  const number = String(index).padStart(3, '0');
  return {
    id: `s${number}`,
    odsCode: `S${number}`,
    name: `Synthetic ${SITE_KIND_NAMES[kind]} ${number}`,
    kind,
    region: NHS_REGIONS[ordinal % NHS_REGIONS.length]!,
    seed: source.seed,
    source: source.id,
    share: Math.floor(ordinal / DOMAINS.length),
  };
}

/** The mesh's size: FHIR domains (the demo trusts first) and Trino worker nodes beside the coordinator. */
export interface MeshShape {
  domains: number;
  workers: number;
}

export const DEFAULT_SHAPE: MeshShape = { domains: DOMAINS.length, workers: 0 };
/** The shape the last `npm run mesh` started with, so status, down and tests see the same mesh without flags. */
export const SHAPE_FILE = path.join(MESH_HOME, 'run', 'mesh-shape.json');

function wholeNumber(value: string, what: string, minimum: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < minimum) throw new Error(`${what} must be a whole number >= ${minimum}, got '${value}'`);
  return n;
}

let chosenShape: MeshShape | undefined;

/** `--domains`/`--workers` of this command; they win over MESH_DOMAINS/MESH_TRINO_WORKERS and the shape file. */
export function chooseMeshShape(options: { domains?: string; workers?: string }): MeshShape {
  const current = meshShape();
  chosenShape = {
    domains: options.domains === undefined ? current.domains : wholeNumber(options.domains, '--domains', DOMAINS.length),
    workers: options.workers === undefined ? current.workers : wholeNumber(options.workers, '--workers', 0),
  };
  return chosenShape;
}

export function meshShape(): MeshShape {
  if (chosenShape) return chosenShape;
  let saved: Partial<MeshShape> = {};
  try {
    saved = JSON.parse(fs.readFileSync(SHAPE_FILE, 'utf8')) as Partial<MeshShape>;
  } catch {
    /* no mesh started yet: defaults */
  }
  const env = process.env;
  return {
    domains: env.MESH_DOMAINS ? wholeNumber(env.MESH_DOMAINS, 'MESH_DOMAINS', DOMAINS.length) : (saved.domains ?? DEFAULT_SHAPE.domains),
    workers: env.MESH_TRINO_WORKERS ? wholeNumber(env.MESH_TRINO_WORKERS, 'MESH_TRINO_WORKERS', 0) : (saved.workers ?? DEFAULT_SHAPE.workers),
  };
}

/** The synthetic sites of this mesh (none in the default three-domain mesh). */
export function meshSites(): SiteSpec[] {
  return Array.from({ length: meshShape().domains - DOMAINS.length }, (_, i) => siteSpec(DOMAINS.length + 1 + i));
}

/** Every FHIR domain of this mesh: the demo trusts, then the synthetic sites. */
export function meshDomains(): DomainSpec[] {
  return [...DOMAINS, ...meshSites()];
}

/**
 * A FHIR partition served from the start but in no registry: the place a new domain's server comes
 * online in tests and demos of onboarding (register it through the control plane, then publish).
 */
export const ONBOARDING_TENANT = 'onboarding';

/** The ports a newcomer gets (and compose.yaml uses); MESH_*_PORT variables move the local mesh. */
export const DEFAULT_PORTS = { postgres: 55432, fhir: 8190, trino: 8180, controlPlane: 8170, gateway: 8443 } as const;

export const ports = {
  postgres: Number(process.env.MESH_PG_PORT ?? DEFAULT_PORTS.postgres),
  fhir: Number(process.env.MESH_FHIR_PORT ?? DEFAULT_PORTS.fhir),
  /** Trino's client port: HTTPS with passwords. */
  trino: Number(process.env.MESH_TRINO_PORT ?? DEFAULT_PORTS.trino),
  /** Trino's plain-HTTP port, for its own nodes only (calls signed with the internal shared secret). */
  trinoInternal: Number(process.env.MESH_TRINO_INTERNAL_PORT ?? Number(process.env.MESH_TRINO_PORT ?? DEFAULT_PORTS.trino) + 1),
  controlPlane: Number(process.env.MESH_CP_PORT ?? DEFAULT_PORTS.controlPlane),
  /** Trino worker i (1-based) listens on plain HTTP at trinoWorkerBase + i - 1 (internal calls only). */
  trinoWorkerBase: Number(process.env.MESH_TRINO_WORKER_PORT ?? Number(process.env.MESH_TRINO_PORT ?? DEFAULT_PORTS.trino) + 2),
  /** The analysts' SQL gateway (Trino protocol, HTTPS), served by the control plane. */
  gateway: Number(process.env.MESH_GATEWAY_PORT ?? DEFAULT_PORTS.gateway),
};

export const HOST = '127.0.0.1';

export const versions = {
  /** Newest Trino whose server tarball is on Maven Central (477+ publish only to GitHub). */
  trino: '476',
  synthea: '3.3.0',
};

export const postgres = {
  /** The cluster's superuser: the runtime (roles, databases) and the test harness, never a service. */
  user: 'mesh',
  registryDatabase: 'mesh_registry',
  fhirDatabase: 'mesh_fhir',
  /** Least-privilege login roles, each with its own password (scram-sha-256, loopback only). */
  roles: {
    /** Owns the FHIR server's database; HAPI creates its own schema. */
    fhir: 'mesh_fhir',
    /** Owns the registry's schema: the control plane's migrations run as it, and nothing else does. */
    registryOwner: 'mesh_registry_owner',
    /** The control plane at run time: reads and writes the registry, may only append to audit_log. */
    registryApp: 'mesh_registry_app',
    /** The audit retention job: may delete audit entries, and only ones past the retention floor. */
    auditRetention: 'mesh_audit_retention',
  },
};

export function fhirBaseUrl(domain: DomainSpec): string {
  return `http://${HOST}:${ports.fhir}/fhir/${domain.id}`;
}

export function tenantBaseUrl(tenant: string): string {
  return `http://${HOST}:${ports.fhir}/fhir/${tenant}`;
}

export function trinoUrl(): string {
  return `https://${HOST}:${ports.trino}`;
}

/** Where Trino's nodes find each other; refuses every caller without the internal shared secret. */
export function trinoInternalUrl(): string {
  return `http://${HOST}:${ports.trinoInternal}`;
}

export function controlPlaneUrl(): string {
  return `http://${HOST}:${ports.controlPlane}`;
}

/** Where analysts point the Trino CLI and JDBC: the gateway, never Trino itself. */
export function gatewayUrl(): string {
  return `https://${HOST}:${ports.gateway}`;
}
