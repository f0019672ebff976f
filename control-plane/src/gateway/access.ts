// Who is asking and why. Analysts authenticate as registry consumers: HTTP Basic with their consumer
// name and API token as the password (what `trino --user NAME --password` and JDBC user/password send),
// or `Authorization: Bearer <token>` (`--access-token`). Every query names a purpose of use and a project
// as extra credentials (`--extra-credential purpose=research --extra-credential project=stroke-audit`),
// checked against the consumer's allowedPurposes and policies.projects.
import { DataSource } from 'typeorm';
import { tokenHash } from '../auth/tokens';
import { type BudgetPeriodKind, Consumer, Role } from '../registry/consumer.entity';
import type { GatewayConfig, PurposeRules } from './gateway-config';

/** Roles that query data through the gateway. Ops and data product owners use the admin API. */
export const QUERY_ROLES: readonly Role[] = ['analyst', 'researcher'];

export interface Analyst {
  id: string;
  name: string;
  allowedPurposes: string[];
  projects: string[];
  /** The consumer's policies as registered (disclosure control reads `disclosure`). */
  policies: Record<string, unknown>;
  /** Differential-privacy budget: total ε per project per period; null means no DP queries. */
  budget: { epsilon: number; period: BudgetPeriodKind } | null;
}

export interface QueryPurpose {
  purpose: string;
  project: string;
  rules: PurposeRules;
}

export class AccessDenied extends Error {
  constructor(
    message: string,
    readonly status: 401 | 403,
  ) {
    super(message);
  }
}

/** Page requests reuse a consumer looked up this recently: a revoked token stops paging within this time. */
const CACHE_MS = 10_000;

export class GatewayAccess {
  private readonly cache = new Map<string, { consumer: Consumer | null; at: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly config: GatewayConfig,
  ) {}

  /**
   * `fresh` reads the registry now (every new statement: a purpose or project withdrawn applies at once);
   * page requests of a running query may use an answer up to CACHE_MS old.
   */
  async authenticate(authorization: string | undefined, trinoUser: string | undefined, fresh: boolean): Promise<Analyst> {
    const { token, user } = credentials(authorization);
    const consumer = await this.byToken(token, fresh);
    if (!consumer || (user !== undefined && user !== consumer.name)) throw new AccessDenied('unknown user or token', 401);
    if (trinoUser !== undefined && trinoUser !== consumer.name) {
      throw new AccessDenied(
        `authenticated as ${consumer.name} but X-Trino-User names ${trinoUser}: the gateway runs queries only as the user who logged in`,
        403,
      );
    }
    if (!consumer.roles.some((r) => QUERY_ROLES.includes(r))) {
      throw new AccessDenied(`${consumer.name} has roles ${consumer.roles.join(', ')}; the SQL gateway serves ${QUERY_ROLES.join(' and ')} consumers`, 403);
    }
    const projects = Array.isArray(consumer.policies?.projects)
      ? (consumer.policies.projects as unknown[]).filter((p): p is string => typeof p === 'string')
      : [];
    return {
      id: consumer.id,
      name: consumer.name,
      allowedPurposes: consumer.allowedPurposes,
      projects,
      policies: consumer.policies ?? {},
      budget: consumer.budgetEpsilon === null ? null : { epsilon: consumer.budgetEpsilon, period: consumer.budgetPeriod },
    };
  }

  /** The purpose and project of one query; a refusal names what is missing and what is allowed. */
  purposeOf(analyst: Analyst, extraCredentials: ReadonlyMap<string, string>): QueryPurpose {
    const purpose = extraCredentials.get('purpose');
    const allowed = analyst.allowedPurposes.join(', ') || 'none (ask the mesh operators to grant one)';
    if (!purpose)
      throw new AccessDenied(
        `every query needs a purpose of use: connect with --extra-credential purpose=<purpose> (allowed for ${analyst.name}: ${allowed})`,
        403,
      );
    if (!analyst.allowedPurposes.includes(purpose))
      throw new AccessDenied(`purpose '${purpose}' is not allowed for ${analyst.name} (allowed: ${allowed})`, 403);
    let project = extraCredentials.get('project');
    const projects = analyst.projects.join(', ') || 'none (ask the mesh operators to add one to policies.projects)';
    if (!project && analyst.projects.length === 1) project = analyst.projects[0]!;
    if (!project)
      throw new AccessDenied(`every query needs a project: connect with --extra-credential project=<project> (projects of ${analyst.name}: ${projects})`, 403);
    if (!analyst.projects.includes(project)) throw new AccessDenied(`project '${project}' is not one of ${analyst.name}'s projects (${projects})`, 403);
    const rules = this.config.purposes[purpose] ?? { sensitivities: [], optOut: true };
    return { purpose, project, rules };
  }

  private async byToken(token: string, fresh: boolean): Promise<Consumer | null> {
    const hash = tokenHash(token);
    const cached = this.cache.get(hash);
    if (!fresh && cached && Date.now() - cached.at < CACHE_MS) return cached.consumer;
    const consumer = await this.db.getRepository(Consumer).createQueryBuilder('c').where('c.token_hash = :hash', { hash }).getOne();
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { consumer, at: Date.now() });
    return consumer;
  }
}

function credentials(authorization: string | undefined): { token: string; user?: string } {
  const header = authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return { token: bearer[1]! };
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { user: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
  }
  throw new AccessDenied('the FHIR mesh gateway needs a user name and password (your API token), or an access token', 401);
}

/** `X-Trino-Extra-Credential: name=value, name2=value2` (values URL-encoded), possibly repeated. */
export function parseExtraCredentials(values: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const header of values) {
    for (const item of header.split(',')) {
      const trimmed = item.trim();
      if (!trimmed) continue;
      const eq = trimmed.indexOf('=');
      if (eq <= 0) continue;
      out.set(trimmed.slice(0, eq).trim(), safeDecode(trimmed.slice(eq + 1).trim()));
    }
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
