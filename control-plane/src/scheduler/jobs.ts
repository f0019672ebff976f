// What the scheduled jobs do, as plain functions over the registry (the scheduler only times them).
import * as fs from 'node:fs';
import { DataSource } from 'typeorm';
import { BudgetLedger } from '../privacy/budget-ledger';
import { Endpoint, EndpointHealthCheck } from '../registry/endpoint.entity';

const HEALTH_TIMEOUT_MS = 10_000;

/** The bearer token for a health check, when this host can resolve the reference (never logged). */
function token(ref: string | null): string | undefined {
  if (!ref) return undefined;
  if (ref.startsWith('env:')) return process.env[ref.slice(4)] || undefined;
  if (ref.startsWith('file:')) {
    try {
      return fs.readFileSync(ref.slice(5), 'utf8').trim();
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `GET [base]/metadata` on every endpoint: latency, status and history. */
export async function checkEndpoints(db: DataSource): Promise<EndpointHealthCheck[]> {
  const endpoints = await db.getRepository(Endpoint).find();
  const checks: EndpointHealthCheck[] = [];
  for (const endpoint of endpoints) {
    const started = Date.now();
    let check: Omit<EndpointHealthCheck, 'id'>;
    try {
      const bearer = token(endpoint.authSecretRef);
      const response = await fetch(`${endpoint.baseUrl}/metadata?_summary=true`, {
        headers: { accept: 'application/fhir+json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      });
      const body = await response.text();
      const isCapability = response.ok && body.includes('"CapabilityStatement"');
      check = {
        endpointId: endpoint.id,
        checkedAt: new Date(started),
        ok: isCapability,
        httpStatus: response.status,
        latencyMs: Date.now() - started,
        error: isCapability ? null : response.ok ? 'answered, but not with a CapabilityStatement' : `HTTP ${response.status}`,
      };
    } catch (e) {
      const error = e as Error & { cause?: { code?: string } };
      check = {
        endpointId: endpoint.id,
        checkedAt: new Date(started),
        ok: false,
        httpStatus: null,
        latencyMs: null,
        error: error.name === 'TimeoutError' ? `no answer within ${HEALTH_TIMEOUT_MS / 1000} s` : `unreachable (${error.cause?.code ?? error.message})`,
      };
    }
    checks.push(await db.getRepository(EndpointHealthCheck).save(check));
    await db.getRepository(Endpoint).update(
      { id: endpoint.id },
      {
        health: check.ok ? 'up' : 'down',
        lastCheckedAt: check.checkedAt,
        lastLatencyMs: check.latencyMs,
        lastError: check.error,
      },
    );
  }
  return checks;
}

/**
 * A reservation this old belongs to a query no gateway will settle (it stopped mid-query): booked as spent.
 * A day: far beyond any query the gateway relays, so a running query's reservation is never settled under it.
 */
export const STALE_RESERVATION_MS = 24 * 3600_000;

/** Books stale privacy-budget reservations as spent (accounts open themselves on a consumer's first DP query). */
export async function settleStaleReservations(db: DataSource, olderThanMs = STALE_RESERVATION_MS): Promise<number> {
  return new BudgetLedger(db).settleStale(olderThanMs);
}

/**
 * Prunes audit entries and health history past retention. Runs as the retention role (`db`), the only
 * one the audit trigger lets delete, and only entries older than 30 days.
 */
export async function applyRetention(db: DataSource, auditDays: number, now = new Date()): Promise<{ audit: number; health: number }> {
  const auditCutoff = new Date(now.getTime() - auditDays * 86_400_000);
  const healthCutoff = new Date(now.getTime() - 30 * 86_400_000);
  return db.transaction(async (tx) => {
    const audit = await tx.query('delete from audit_log where at < $1', [auditCutoff]);
    const health = await tx.query('delete from endpoint_health where checked_at < $1', [healthCutoff]);
    return { audit: (audit as [unknown, number])[1] ?? 0, health: (health as [unknown, number])[1] ?? 0 };
  });
}
