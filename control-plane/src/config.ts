// The control plane's settings in one typed place. The mesh runtime passes every one through the
// environment (e2e/runtime/control-plane.ts); the defaults below mirror the local mesh, so the control
// plane started by hand beside `npm run mesh` works with no settings.
import * as path from 'node:path';
import { defaultGatewayPolicy, GatewayConfig, NDOP_POLICY_URI } from './gateway/gateway-config';

/** The checkout the control plane runs from: connector-spec/ and the default mesh folder are beneath it. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Fallbacks for a control plane started by hand: the addresses and names `npm run mesh` uses. */
export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8170,
  postgresPort: 55432,
  trinoPort: 8180,
  registryDatabase: 'mesh_registry',
  roles: { registryOwner: 'mesh_registry_owner', registryApp: 'mesh_registry_app', auditRetention: 'mesh_audit_retention' },
  trinoUser: 'mesh-control-plane',
  trinoOperators: ['mesh-ops'],
  trinoAccessRulesRefreshMs: 5_000,
  gatewayPort: 8443,
  gatewayTrinoUser: 'mesh-gateway',
} as const;

/** Connector settings of generated catalogs, chosen for a 2-core machine with three trusts in one JVM. */
export const DEFAULT_CATALOG_SETTINGS = {
  'fhir.page-size': '500',
  // Small enough that the larger demo tables are read in several _lastUpdated slices.
  'fhir.split.resources-per-split': '2000',
  'fhir.max-concurrent-requests-per-endpoint': '4',
  // The connector drops opted-out patients' rows itself, matching Consents on the gateway's policy.
  'fhir.opt-out.policy-uri': NDOP_POLICY_URI,
  'fhir.patient-exclusion.cache-ttl': '10s',
} as const;

export interface ControlPlaneConfig {
  host: string;
  port: number;
  /**
   * The registry database as three PostgreSQL roles: migrations run as the schema owner, the service as an
   * application role that may only append to the audit log, the retention job as the one role allowed to
   * prune it. Passwords come from files (never from the URL in a process listing or a log).
   */
  registry: { app: DbConnection; owner: DbConnection; auditRetention: DbConnection };
  trinoUrl: string;
  /** The Trino user the control plane's own statements run as (catalog management, dry runs). */
  trinoUser: string;
  /** File holding that user's Trino password (Trino authenticates every caller, over HTTPS only). */
  trinoPasswordFile: string;
  /** PEM file of the certificate authority Trino's HTTPS certificate is issued by (the mesh's own CA). */
  trinoCaFile: string;
  /** Trino users who, like `trinoUser`, read everything and manage catalogs (the operator's break-glass account). */
  trinoOperators: string[];
  /**
   * Trino's file-based access rules, rewritten at every catalog sync: defence in depth for whoever reaches
   * Trino around the gateway. Trino rereads the file every `trinoAccessRulesRefreshMs` (its security.refresh-period).
   */
  trinoAccessRulesFile: string;
  trinoAccessRulesRefreshMs: number;
  /** Name of the catalog generated from the registry. */
  catalogName: string;
  /** Where generated catalog files and mapping files are written (`catalogs/`, `sql-mappings/` beneath). */
  generatedDir: string;
  /** Connector settings written into every generated catalog besides domains and mapping location. */
  catalogSettings: Record<string, string>;
  /** File the bootstrap ops token is written to when MESH_OPS_TOKEN is not set (mode 0600). */
  opsTokenFile: string;
  /** Rows read per view when a publication is dry-run against live endpoints. */
  dryRunRows: number;
  /** node-cron expressions (with seconds); an empty string disables a job. */
  schedules: { health: string; reconcile: string; budgets: string; retention: string };
  /** Registry audit entries older than this are pruned by the retention job (NHS records: 8 years). */
  auditRetentionDays: number;
  /** JSON Schemas of the API and mapping files. */
  specDir: string;
  /** Refused requests audited one by one per source and minute; the rest of the minute is one summary entry. */
  auditRefusalsPerMinute: number;
  /** Append-only file, outside PostgreSQL, of HMAC-signed audit heads {seq, hash, at}: truncation shows. */
  auditAnchorFile: string;
  /** HMAC key of the anchors (created 0600 if missing); never stored in the database. */
  auditAnchorKeyFile: string;
  /** The analysts' SQL gateway (Trino protocol over HTTPS); port 0 leaves it off. */
  gateway: GatewayConfig;
  /** The built web console (`npm run console:build`), served at /console/; answered with 503 while missing. */
  consoleDir: string;
}

export interface DbConnection {
  url: string;
  passwordFile?: string;
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A comma-separated list. */
function listEnv(name: string): string[] | undefined {
  return env(name)
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function portEnv(name: string, fallback: number): number {
  const value = env(name);
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a TCP port (1-65535), not '${value}'`);
  return port;
}

/** The mesh's working folder (MESH_HOME): run/, secrets/control-plane/ and generated/ are beneath it. */
function meshHome(): string {
  return env('MESH_HOME') ?? path.join(REPO_ROOT, '.mesh');
}

/** `<PREFIX>_URL` and `<PREFIX>_PASSWORD_FILE` override the mesh defaults for one role. */
function registryConnection(prefix: string, role: string, passwordFile: string): DbConnection {
  const url = env(`${prefix}_URL`);
  if (url !== undefined) return { url, passwordFile: env(`${prefix}_PASSWORD_FILE`) };
  return {
    url: `postgresql://${role}@${DEFAULTS.host}:${portEnv('MESH_PG_PORT', DEFAULTS.postgresPort)}/${DEFAULTS.registryDatabase}`,
    passwordFile: env(`${prefix}_PASSWORD_FILE`) ?? path.join(meshHome(), 'secrets', 'control-plane', passwordFile),
  };
}

export function loadConfig(): ControlPlaneConfig {
  const home = meshHome();
  const generatedDir = env('MESH_GENERATED_DIR') ?? path.join(home, 'generated');
  return {
    host: env('MESH_CP_HOST') ?? DEFAULTS.host,
    port: portEnv('MESH_CP_PORT', DEFAULTS.port),
    registry: {
      app: registryConnection('MESH_REGISTRY', DEFAULTS.roles.registryApp, 'registry-app.password'),
      owner: registryConnection('MESH_REGISTRY_OWNER', DEFAULTS.roles.registryOwner, 'registry-owner.password'),
      auditRetention: registryConnection('MESH_AUDIT_RETENTION', DEFAULTS.roles.auditRetention, 'audit-retention.password'),
    },
    trinoUrl: env('MESH_TRINO_URL') ?? `https://${DEFAULTS.host}:${portEnv('MESH_TRINO_PORT', DEFAULTS.trinoPort)}`,
    trinoUser: env('MESH_CP_TRINO_USER') ?? DEFAULTS.trinoUser,
    trinoPasswordFile: env('MESH_CP_TRINO_PASSWORD_FILE') ?? path.join(home, 'secrets', 'control-plane', 'trino.password'),
    trinoCaFile: env('MESH_TRINO_CA_FILE') ?? path.join(home, 'run', 'mesh-ca.pem'),
    trinoOperators: listEnv('MESH_TRINO_OPERATORS') ?? [...DEFAULTS.trinoOperators],
    trinoAccessRulesFile: env('MESH_TRINO_ACCESS_RULES_FILE') ?? path.join(home, 'trino', 'etc', 'rules.json'),
    trinoAccessRulesRefreshMs: Number(env('MESH_TRINO_ACCESS_RULES_REFRESH_MS') ?? DEFAULTS.trinoAccessRulesRefreshMs),
    catalogName: 'fhir',
    generatedDir,
    catalogSettings: {
      'fhir.page-size': env('MESH_FHIR_PAGE_SIZE') ?? DEFAULT_CATALOG_SETTINGS['fhir.page-size'],
      'fhir.split.resources-per-split': env('MESH_FHIR_RESOURCES_PER_SPLIT') ?? DEFAULT_CATALOG_SETTINGS['fhir.split.resources-per-split'],
      'fhir.max-concurrent-requests-per-endpoint': env('MESH_FHIR_MAX_CONCURRENT') ?? DEFAULT_CATALOG_SETTINGS['fhir.max-concurrent-requests-per-endpoint'],
      'fhir.opt-out.policy-uri': DEFAULT_CATALOG_SETTINGS['fhir.opt-out.policy-uri'],
      'fhir.patient-exclusion.cache-ttl': env('MESH_FHIR_PATIENT_EXCLUSION_TTL') ?? DEFAULT_CATALOG_SETTINGS['fhir.patient-exclusion.cache-ttl'],
    },
    opsTokenFile: env('MESH_OPS_TOKEN_FILE') ?? path.join(home, 'run', 'ops-token'),
    dryRunRows: Number(env('MESH_DRY_RUN_ROWS') ?? 20),
    schedules: {
      health: env('MESH_SCHEDULE_HEALTH') ?? '*/30 * * * * *',
      reconcile: env('MESH_SCHEDULE_RECONCILE') ?? '*/20 * * * * *',
      budgets: env('MESH_SCHEDULE_BUDGETS') ?? '0 * * * * *',
      retention: env('MESH_SCHEDULE_RETENTION') ?? '0 30 3 * * *',
    },
    auditRetentionDays: Number(env('MESH_AUDIT_RETENTION_DAYS') ?? 8 * 366),
    specDir: env('MESH_SPEC_DIR') ?? path.join(REPO_ROOT, 'connector-spec'),
    auditRefusalsPerMinute: Number(env('MESH_AUDIT_REFUSALS_PER_MINUTE') ?? 10),
    auditAnchorFile: env('MESH_AUDIT_ANCHOR_FILE') ?? path.join(home, 'run', 'audit-anchor.jsonl'),
    auditAnchorKeyFile: env('MESH_AUDIT_ANCHOR_KEY_FILE') ?? path.join(home, 'secrets', 'control-plane', 'audit-anchor.key'),
    consoleDir: env('MESH_CONSOLE_DIR') ?? path.join(REPO_ROOT, 'control-plane', 'console', 'dist'),
    gateway: {
      host: env('MESH_GATEWAY_HOST') ?? DEFAULTS.host,
      port: env('MESH_GATEWAY_PORT') === '0' ? 0 : portEnv('MESH_GATEWAY_PORT', DEFAULTS.gatewayPort),
      tlsPemFile: env('MESH_GATEWAY_TLS_PEM') ?? path.join(home, 'secrets', 'control-plane', 'gateway-tls.pem'),
      trinoUser: env('MESH_GATEWAY_TRINO_USER') ?? DEFAULTS.gatewayTrinoUser,
      trinoPasswordFile: env('MESH_GATEWAY_TRINO_PASSWORD_FILE') ?? path.join(home, 'secrets', 'control-plane', 'gateway-trino.password'),
      pseudonymKeyFile: env('MESH_PSEUDONYM_KEY_FILE') ?? path.join(home, 'secrets', 'control-plane', 'pseudonym.key'),
      ...defaultGatewayPolicy('fhir'),
    },
  };
}

/** Nest injection token for the configuration object. */
export const CONFIG = Symbol('ControlPlaneConfig');
