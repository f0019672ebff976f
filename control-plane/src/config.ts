// The control plane's settings in one typed place. Every value has a default that makes `npm run mesh`
// work with no configuration: the mesh runtime's PostgreSQL, Trino and folders (e2e/runtime/topology.ts).
import * as path from 'node:path';
import { HOST, MESH_HOME, ports, postgres, ROOT } from '../../e2e/runtime/topology';

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
}

export interface DbConnection { url: string; passwordFile?: string }

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** `<PREFIX>_URL` and `<PREFIX>_PASSWORD_FILE` override the mesh defaults for one role. */
function registryConnection(prefix: string, role: string, passwordFile: string): DbConnection {
  const url = env(`${prefix}_URL`);
  if (url !== undefined) return { url, passwordFile: env(`${prefix}_PASSWORD_FILE`) };
  return {
    url: `postgresql://${role}@${HOST}:${ports.postgres}/${postgres.registryDatabase}`,
    passwordFile: env(`${prefix}_PASSWORD_FILE`) ?? path.join(MESH_HOME, 'secrets', 'control-plane', passwordFile),
  };
}

export function loadConfig(): ControlPlaneConfig {
  const generatedDir = env('MESH_GENERATED_DIR') ?? path.join(MESH_HOME, 'generated');
  return {
    host: env('MESH_CP_HOST') ?? HOST,
    port: ports.controlPlane,
    registry: {
      app: registryConnection('MESH_REGISTRY', postgres.roles.registryApp, 'registry-app.password'),
      owner: registryConnection('MESH_REGISTRY_OWNER', postgres.roles.registryOwner, 'registry-owner.password'),
      auditRetention: registryConnection('MESH_AUDIT_RETENTION', postgres.roles.auditRetention, 'audit-retention.password'),
    },
    trinoUrl: env('MESH_TRINO_URL') ?? `https://${HOST}:${ports.trino}`,
    trinoUser: env('MESH_CP_TRINO_USER') ?? 'mesh-control-plane',
    trinoPasswordFile: env('MESH_CP_TRINO_PASSWORD_FILE') ?? path.join(MESH_HOME, 'secrets', 'control-plane', 'trino.password'),
    trinoCaFile: env('MESH_TRINO_CA_FILE') ?? path.join(MESH_HOME, 'run', 'mesh-ca.pem'),
    catalogName: 'fhir',
    generatedDir,
    catalogSettings: {
      'fhir.page-size': env('MESH_FHIR_PAGE_SIZE') ?? '500',
      // Small enough that the larger demo tables are read in several _lastUpdated slices.
      'fhir.split.resources-per-split': env('MESH_FHIR_RESOURCES_PER_SPLIT') ?? '2000',
      'fhir.max-concurrent-requests-per-endpoint': env('MESH_FHIR_MAX_CONCURRENT') ?? '4',
    },
    opsTokenFile: env('MESH_OPS_TOKEN_FILE') ?? path.join(MESH_HOME, 'run', 'ops-token'),
    dryRunRows: Number(env('MESH_DRY_RUN_ROWS') ?? 20),
    schedules: {
      health: env('MESH_SCHEDULE_HEALTH') ?? '*/30 * * * * *',
      reconcile: env('MESH_SCHEDULE_RECONCILE') ?? '*/20 * * * * *',
      budgets: env('MESH_SCHEDULE_BUDGETS') ?? '0 * * * * *',
      retention: env('MESH_SCHEDULE_RETENTION') ?? '0 30 3 * * *',
    },
    auditRetentionDays: Number(env('MESH_AUDIT_RETENTION_DAYS') ?? 8 * 366),
    specDir: path.join(ROOT, 'connector-spec'),
    auditRefusalsPerMinute: Number(env('MESH_AUDIT_REFUSALS_PER_MINUTE') ?? 10),
    auditAnchorFile: env('MESH_AUDIT_ANCHOR_FILE') ?? path.join(MESH_HOME, 'run', 'audit-anchor.jsonl'),
    auditAnchorKeyFile: env('MESH_AUDIT_ANCHOR_KEY_FILE') ?? path.join(MESH_HOME, 'secrets', 'control-plane', 'audit-anchor.key'),
  };
}

/** Nest injection token for the configuration object. */
export const CONFIG = Symbol('ControlPlaneConfig');
