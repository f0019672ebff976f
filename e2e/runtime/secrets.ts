// Credentials and keys of the local mesh, generated on first start under .mesh/secrets (mode 0700), one
// value per file (mode 0600), one subfolder per process that reads them: a process is given its own folder
// and nothing else. Values never go on a command line (visible to every user in `ps`) or into a log.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FHIR_TOKEN_DIR, paths } from './topology';

const dir = (name: string): string => path.join(paths.secrets, name);

/** Where each secret lives; the folder says who reads it. */
export const SECRETS = {
  /** PostgreSQL superuser `mesh`: the runtime (roles, databases) and the test harness only. */
  postgresSuperuser: path.join(dir('postgres'), 'mesh.password'),
  /** The FHIR server's own database role. */
  fhirDatabase: path.join(dir('fhir-server'), 'db.password'),
  /** Who may call the FHIR server: SHA-256 of each caller's token, its scope and tenants (no tokens). */
  fhirCallers: path.join(dir('fhir-server'), 'callers.tsv'),
  /** HMAC key the FHIR server's access log hashes search values with (the test harness reads it too). */
  fhirAccessLogKey: path.join(dir('fhir-server'), 'access-log.key'),
  /** Bearer token the data loader writes with (scope write, every tenant). */
  fhirLoaderToken: path.join(dir('fhir-loader'), 'token'),
  /** The control plane's database roles: the migration owner, the application, the audit retention job. */
  registryOwner: path.join(dir('control-plane'), 'registry-owner.password'),
  registryApp: path.join(dir('control-plane'), 'registry-app.password'),
  auditRetention: path.join(dir('control-plane'), 'audit-retention.password'),
  /** The control plane's Trino password (principal `mesh-control-plane`). */
  controlPlaneTrino: path.join(dir('control-plane'), 'trino.password'),
  /** The SQL gateway: its Trino password (principal `mesh-gateway`), its HTTPS key and certificate, and the
   *  master key per-project pseudonym keys are derived from (never given to Trino's files). */
  gatewayTrino: path.join(dir('control-plane'), 'gateway-trino.password'),
  gatewayTls: path.join(dir('control-plane'), 'gateway-tls.pem'),
  pseudonymKey: path.join(dir('control-plane'), 'pseudonym.key'),
  /** HMAC key of the control plane's audit anchors (it creates the key on first start). */
  auditAnchorKey: path.join(dir('control-plane'), 'audit-anchor.key'),
  /** Trino's TLS key and certificate (PEM, key first), and the secret its nodes sign internal calls with. */
  trinoHttps: path.join(dir('trino'), 'https.pem'),
  trinoSharedSecret: path.join(dir('trino'), 'internal-shared-secret'),
  /** The mesh's local certificate authority (its certificate is public: paths.run/mesh-ca.pem). */
  caKey: path.join(dir('ca'), 'ca.key'),
  /** Trino passwords of people: the operator (break-glass, the test harness) and the demo analyst. */
  userPassword: (user: string): string => path.join(dir('users'), `${user}.password`),
  /** A registry consumer's API token: their password at the SQL gateway. */
  gatewayToken: (consumer: string): string => path.join(dir('users'), `${consumer}.token`),
  /** One reader token per FHIR tenant (domain), in the only folder the connector takes token files from. */
  fhirReaderToken: (tenant: string): string => path.join(FHIR_TOKEN_DIR, `${tenant}.token`),
};

/** The CA certificate clients trust to reach Trino (and later the gateway) over HTTPS. */
export const MESH_CA_CERT = path.join(paths.run, 'mesh-ca.pem');

export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Creates the secret's folder (0700) and file (0600) if missing; returns the value. */
export function ensureSecret(file: string, make: () => string = newSecret): string {
  fs.mkdirSync(paths.secrets, { recursive: true, mode: 0o700 });
  fs.chmodSync(paths.secrets, 0o700);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) writeSecret(file, make());
  return readSecret(file);
}

export function writeSecret(file: string, value: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Write-then-rename so a reader never sees half a value, created 0600 from the start.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, value, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

export function readSecret(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`secret ${path.relative(process.cwd(), file)} is missing: start the mesh once (npm run mesh) to create it`);
  }
}
