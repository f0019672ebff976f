// Who may talk to Trino and what each may do. Trino authenticates every caller (passwords over HTTPS,
// Trino's file authenticator) and authorises with its file-based system access control:
// - only the control plane (and the operator) may create or drop catalogs: CREATE CATALOG can name any
//   token file or URL, so an analyst with it could send a trust's credentials anywhere;
// - analysts who reach Trino directly read the `fhir` tables only in a policy form (identifiers hidden or
//   masked, restricted resources and opt-outs filtered: control-plane/src/catalogs/trino-access-rules.ts),
//   see and kill only their own queries, and are refused `system.runtime` (other users' query text) and
//   every other catalog (dry-run catalogs included).
// Analysts' own door is the SQL gateway in the control plane: it authenticates them itself and reaches
// Trino as its own principal `mesh-gateway`, which reads the fhir tables as stored and applies the policy
// in the SQL it sends; these rules are the defence in depth for anyone who reaches Trino another way.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { trinoAccessRules as renderTrinoAccessRules } from '../../control-plane/src/catalogs/trino-access-rules';
import { defaultGatewayPolicy } from '../../control-plane/src/gateway/gateway-config';
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

/** Admins besides the control plane: they read everything and manage catalogs. */
export const TRINO_OPERATORS = [TRINO_USERS.ops];

/** How often Trino rereads its rules file (security.refresh-period); the control plane waits for it. */
export const ACCESS_RULES_REFRESH_MS = 5_000;

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

/**
 * Trino's rules before the control plane has run: rendered by the control plane's own renderer with no
 * tables, so nobody but the admins and the gateway reads a fhir table until the control plane writes the
 * registry's rules over this file (at every catalog sync; Trino rereads it every ACCESS_RULES_REFRESH_MS).
 */
export function trinoAccessRules(fhirCatalog: string): Record<string, unknown> {
  const policy = defaultGatewayPolicy(fhirCatalog);
  return renderTrinoAccessRules({
    principals: { admins: [TRINO_USERS.controlPlane, ...TRINO_OPERATORS], gateway: TRINO_USERS.gateway },
    sources: { catalog: fhirCatalog, schema: 'default', patientIndex: policy.patientIndex, optOut: policy.optOut },
    excludedLabels: [...policy.alwaysExcludedLabels, ...policy.sensitivityLabels],
    catalogSessionProperties: policy.sessionProperties.filter((p) => p.startsWith(`${fhirCatalog}.`)).map((p) => p.split('.')[1]!),
    systemSessionProperties: policy.sessionProperties.filter((p) => !p.includes('.')),
    tables: [],
  });
}
