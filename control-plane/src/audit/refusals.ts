// Refused requests (401, 403, 409, and any other 4xx refusal of a write) go into the same hash-chained audit
// log as registry changes. So that a flood cannot grow the log without bound, each source (a consumer, or
// an unauthenticated client address) gets its first `perMinute` refusals of a clock minute recorded one by
// one; the rest of that minute becomes one summary entry with counts. Unauthenticated addresses beyond
// MAX_ANONYMOUS_SOURCES in a minute share one source, so the log grows by at most
// (consumers + MAX_ANONYMOUS_SOURCES + 1) x (perMinute + 1) entries a minute whatever arrives.
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, ControlPlaneConfig } from '../config';
import { AuditService } from './audit.service';

export const MAX_ANONYMOUS_SOURCES = 50;
const MAX_SUMMARY_ROUTES = 20;
const WINDOW_MS = 60_000;

/** One refused request, as the audit entry records it (no token, no body). */
export interface Refusal {
  /** Consumer name, or 'anonymous'. */
  actor: string;
  /** Who a refusal is counted against: `consumer:<name>` or `address:<ip>`. */
  source: string;
  method: string;
  /** The route pattern (`/api/v1/domains/:ods`), or the path when no route matched. */
  route: string;
  status: number;
  reason: string;
  /** First 12 hex digits of the SHA-256 of the bearer token presented by an unauthenticated caller. */
  tokenSha256Prefix?: string;
}

export interface RefusalSummary {
  source: string;
  actor: string;
  from: Date;
  to: Date;
  suppressed: number;
  statuses: Record<string, number>;
  routes: Record<string, number>;
}

interface SourceWindow {
  start: number;
  recorded: number;
  summary?: RefusalSummary;
}

/** Which refusals to record one by one, and the counts of the rest per source and minute. Pure (clock passed in). */
export class RefusalWindows {
  private readonly windows = new Map<string, SourceWindow>();

  constructor(
    private readonly perMinute: number,
    private readonly maxAnonymousSources = MAX_ANONYMOUS_SOURCES,
  ) {}

  /** 'record' to audit this refusal on its own; 'counted' when it only adds to its source's summary. */
  admit(refusal: Refusal, now: number): { decision: 'record' | 'counted'; source: string } {
    const start = now - (now % WINDOW_MS);
    let source = refusal.source;
    if (source.startsWith('address:') && !this.windows.has(source)) {
      const anonymous = [...this.windows.entries()].filter(([k, w]) => k.startsWith('address:') && w.start === start).length;
      if (anonymous >= this.maxAnonymousSources) source = 'address:*';
    }
    let window = this.windows.get(source);
    if (!window || window.start !== start) {
      window = { start, recorded: 0 };
      this.windows.set(source, window);
    }
    if (window.recorded < this.perMinute) {
      window.recorded += 1;
      return { decision: 'record', source };
    }
    window.summary ??= {
      source,
      actor: refusal.actor,
      from: new Date(start),
      to: new Date(start + WINDOW_MS),
      suppressed: 0,
      statuses: {},
      routes: {},
    };
    const summary = window.summary;
    summary.suppressed += 1;
    bump(summary.statuses, String(refusal.status));
    // Random paths must not make one summary entry grow without bound either.
    const route = `${refusal.method} ${refusal.route}`;
    bump(summary.routes, Object.hasOwn(summary.routes, route) || Object.keys(summary.routes).length < MAX_SUMMARY_ROUTES ? route : '(other routes)');
    return { decision: 'counted', source };
  }

  /** Summaries of windows that have ended by `now` (all of them when `all`), each handed out once. */
  drain(now: number, all = false): RefusalSummary[] {
    const out: RefusalSummary[] = [];
    for (const [source, window] of this.windows) {
      if (!all && window.start + WINDOW_MS > now) continue;
      if (window.summary) out.push(window.summary);
      this.windows.delete(source);
    }
    return out;
  }
}

function bump(counts: Record<string, number>, key: string): void {
  // Keys come from requests: own-property reads, and defineProperty so `__proto__` stays an ordinary key.
  Object.defineProperty(counts, key, { value: (Object.hasOwn(counts, key) ? counts[key]! : 0) + 1, enumerable: true, writable: true, configurable: true });
}

/** Writes refusals and their per-minute summaries into the audit log. */
@Injectable()
export class RefusalAudit implements OnApplicationShutdown {
  private readonly log = new Logger('audit');
  private readonly windows: RefusalWindows;
  private readonly timer: NodeJS.Timeout;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CONFIG) config: ControlPlaneConfig,
  ) {
    this.windows = new RefusalWindows(config.auditRefusalsPerMinute);
    this.timer = setInterval(() => void this.flush(false), 15_000);
    this.timer.unref();
  }

  /** Records the refusal or counts it; never throws (a refusal is answered whether or not it was audited). */
  async refused(refusal: Refusal): Promise<void> {
    try {
      const { decision } = this.windows.admit(refusal, Date.now());
      if (decision === 'counted') return;
      await this.db.transaction((tx) =>
        this.audit.record(tx, {
          actor: refusal.actor,
          action: `refused ${refusal.status}`,
          entity: 'request',
          entityId: `${refusal.method} ${refusal.route}`,
          after: {
            method: refusal.method,
            route: refusal.route,
            status: refusal.status,
            reason: refusal.reason,
            source: refusal.source,
            ...(refusal.tokenSha256Prefix ? { tokenSha256Prefix: refusal.tokenSha256Prefix } : {}),
          },
        }),
      );
    } catch (e) {
      this.log.error(`could not audit a refused request (${refusal.method} ${refusal.route} ${refusal.status}): ${(e as Error).message}`);
    }
  }

  async flush(all: boolean): Promise<void> {
    for (const s of this.windows.drain(Date.now(), all)) {
      try {
        await this.db.transaction((tx) =>
          this.audit.record(tx, {
            actor: s.actor,
            action: 'refused (summary)',
            entity: 'request',
            entityId: s.source,
            after: { source: s.source, from: s.from.toISOString(), to: s.to.toISOString(), moreRefusals: s.suppressed, statuses: s.statuses, routes: s.routes },
          }),
        );
      } catch (e) {
        this.log.error(`could not audit ${s.suppressed} refused requests of ${s.source}: ${(e as Error).message}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }
}
