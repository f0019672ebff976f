// Who may talk to Trino and what each may do. Trino authenticates every caller (passwords over HTTPS,
// Trino's file authenticator) and authorises with its file-based system access control:
// - only the control plane (and the operator) may create or drop catalogs: CREATE CATALOG can name any
//   token file or URL, so an analyst with it could send a trust's credentials anywhere;
// - analysts read the `fhir` catalog, see and kill only their own queries, and are refused
//   `system.runtime` (other users' query text) and every other catalog (dry-run catalogs included).
// The gateway issue builds the analysts' side on this: it will authenticate people itself and reach Trino
// as the control plane, impersonating them.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { ensureSecret, SECRETS } from './secrets';

/** Trino principals of the local mesh. */
export const TRINO_USERS = {
  controlPlane: 'mesh-control-plane',
  /** The operator's break-glass account; the test harness acts as it for set-up and inspection. */
  ops: 'mesh-ops',
  /** The SQL gateway: runs analysts' rewritten statements; reads the fhir catalog as stored. */
  gateway: 'mesh-gateway',
  /** The demo analyst of the README. */
  analyst: 'alice',
} as const;

const ADMINS = `${TRINO_USERS.controlPlane}|${TRINO_USERS.ops}`;

/** Trino's file authenticator accepts PBKDF2-HMAC-SHA1 as `iterations:salt:hash` (hex), 1000+ iterations. */
export function pbkdf2Entry(password: string, iterations = 10_000): string {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha1');
  return `${iterations}:${salt.toString('hex')}:${hash.toString('hex')}`;
}

export function trinoPasswordFile(): string {
  return `${Object.values(TRINO_USERS)
    .map((user) => `${user}:${pbkdf2Entry(trinoPassword(user))}`)
    .join('\n')}\n`;
}

export function trinoPassword(user: string): string {
  if (user === TRINO_USERS.controlPlane) return ensureSecret(SECRETS.controlPlaneTrino);
  if (user === TRINO_USERS.gateway) return ensureSecret(SECRETS.gatewayTrino);
  return ensureSecret(SECRETS.userPassword(user));
}

/** Rules for `access-control.name=file`: the first matching rule of each section decides; no match denies. */
export function trinoAccessRules(fhirCatalog: string): Record<string, unknown> {
  return {
    catalogs: [
      // 'owner' (not 'all') is what CREATE/DROP CATALOG require in 476.
      { user: ADMINS, catalog: '.*', allow: 'owner' },
      { catalog: fhirCatalog, allow: 'read-only' },
      // Clients need system.jdbc and system.metadata for their metadata calls; runtime is refused below.
      { catalog: 'system', allow: 'read-only' },
      { catalog: '.*', allow: 'none' },
    ],
    schemas: [{ user: ADMINS, owner: true }, { owner: false }],
    tables: [
      { user: ADMINS, privileges: ['SELECT', 'INSERT', 'DELETE', 'UPDATE', 'OWNERSHIP', 'GRANT_SELECT'] },
      // Queries, tasks, nodes and transactions of every user, with their SQL text.
      { catalog: 'system', schema: 'runtime', privileges: [] },
      { catalog: 'system', privileges: ['SELECT'] },
      { catalog: fhirCatalog, privileges: ['SELECT'] },
    ],
    procedures: [{ user: ADMINS, catalog: 'system', schema: 'runtime', procedure: 'kill_query', privileges: ['EXECUTE'] }],
    queries: [
      { user: ADMINS, allow: ['execute', 'view', 'kill'] },
      // Everyone else: their own queries only (Trino always lets an owner see and kill their own).
      { allow: ['execute'] },
    ],
    system_information: [{ user: ADMINS, allow: ['read', 'write'] }],
    system_session_properties: [{ user: ADMINS, allow: true }, { allow: false }],
    catalog_session_properties: [{ user: ADMINS, allow: true }, { catalog: fhirCatalog, property: 'pushdown_enabled', allow: true }, { allow: false }],
    impersonation: [{ original_user: ADMINS, new_user: '.*', allow: true }],
  };
}
