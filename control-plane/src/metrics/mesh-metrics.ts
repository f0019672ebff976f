// The control plane's Prometheus metrics, in a registry of its own. Events the control plane sees itself
// (gateway statements, publishes, catalog syncs) are counted as they happen; what lives elsewhere (the
// connector's request counters in Trino, the budget ledger, endpoint health) is read at scrape time by
// collect callbacks, so a scrape shows the figures as they are, never a copy that may have gone stale.
import { Logger } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { QueryOutcome, QueryOutcomeCounter } from '../gateway/query-audit';
import type { ConnectorDomainSample } from './connector-scrape';
import { SampledHistogram } from './sampled-histogram';

export interface EpsilonSpent {
  consumer: string;
  project: string;
  /** ISO timestamp of the account's period start. */
  periodStart: string;
  spent: number;
}

export interface EndpointHealth {
  domain: string;
  endpoint: string;
  up: boolean;
}

/** Where scrape-time figures come from (metric-sources.ts reads the registry database and Trino). */
export interface MetricSources {
  connector(): Promise<ConnectorDomainSample[]>;
  epsilonSpent(): Promise<EpsilonSpent[]>;
  epsilonBudgets(): Promise<{ consumer: string; epsilon: number }[]>;
  endpointHealth(): Promise<EndpointHealth[]>;
}

export type PublishOutcome = 'created' | 'unchanged' | 'refused' | 'failed';
export type CatalogSyncOutcome = 'ok' | 'problems' | 'failed';

const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
const CONNECTOR_LABELS = ['catalog', 'domain', 'node'] as const;
type ConnectorLabel = (typeof CONNECTOR_LABELS)[number];

/**
 * The bounded trigger of a catalog sync, from the reason its caller gave (which names products and URLs, too
 * many values for a label): start-up, reconcile (scheduled), ops-request, publish, lifecycle, registry (domain or
 * endpoint changes).
 */
export function catalogSyncTrigger(reason: string): string {
  if (reason === 'start-up' || reason === 'reconcile') return reason;
  // POST /api/v1/catalogs/reconcile
  if (reason === 'requested by ops') return 'ops-request';
  if (reason.startsWith('publish ')) return 'publish';
  if (/^(domain|endpoint) /.test(reason)) return 'registry';
  if (/ (draft|published|deprecated|retired)$/.test(reason)) return 'lifecycle';
  return 'other';
}

export class MeshMetrics implements QueryOutcomeCounter {
  readonly registry = new Registry();
  private readonly log = new Logger('metrics');
  private readonly gatewayQueries: Counter<'outcome' | 'purpose'>;
  private readonly gatewayDuration: Histogram<'outcome'>;
  private readonly publishRuns: Counter<'outcome'>;
  private readonly syncRuns: Counter<'trigger' | 'outcome'>;
  private readonly syncDuration: Histogram<'trigger'>;
  /** One read of Trino per scrape, shared by every connector metric's collect callback. */
  private readonly connectorScrape: () => Promise<{ samples: ConnectorDomainSample[]; error?: undefined } | { samples: []; error: Error }>;
  /** The last scrape failure logged: logged again only when it changes, not at every scrape. */
  private lastScrapeError?: string;

  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.gatewayQueries = new Counter({
      name: 'fhirmesh_gateway_queries_total',
      help: 'Statements through the SQL gateway, by outcome (finished, failed, cancelled, refused) and purpose',
      labelNames: ['outcome', 'purpose'],
      registers,
    });
    this.gatewayDuration = new Histogram({
      name: 'fhirmesh_gateway_query_duration_seconds',
      help: 'Time from a statement reaching the gateway to its outcome, in seconds',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.publishRuns = new Counter({
      name: 'fhirmesh_publish_runs_total',
      help: 'Data product publications: created, unchanged (identical republish), refused (4xx), failed',
      labelNames: ['outcome'],
      registers,
    });
    this.syncRuns = new Counter({
      name: 'fhirmesh_catalog_sync_runs_total',
      help: 'Catalog syncs (registry to Trino) by trigger and outcome (ok, problems reported, failed)',
      labelNames: ['trigger', 'outcome'],
      registers,
    });
    this.syncDuration = new Histogram({
      name: 'fhirmesh_catalog_sync_duration_seconds',
      help: 'Duration of catalog syncs, in seconds',
      labelNames: ['trigger'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });

    new Gauge({
      name: 'fhirmesh_privacy_epsilon_spent',
      help: "Differential-privacy ε spent (committed) in each consumer's current budget accounts",
      labelNames: ['consumer', 'project', 'period_start'],
      registers,
      async collect() {
        const spent = await sources.epsilonSpent();
        this.reset();
        for (const s of spent) this.set({ consumer: s.consumer, project: s.project, period_start: s.periodStart }, s.spent);
      },
    });
    new Gauge({
      name: 'fhirmesh_privacy_epsilon_budget',
      help: "Each consumer's differential-privacy budget (total ε per period and project)",
      labelNames: ['consumer'],
      registers,
      async collect() {
        const budgets = await sources.epsilonBudgets();
        this.reset();
        for (const b of budgets) this.set({ consumer: b.consumer }, b.epsilon);
      },
    });
    new Gauge({
      name: 'fhirmesh_endpoint_up',
      help: "1 when the endpoint's last health check succeeded, 0 when it failed (never-checked endpoints are absent)",
      labelNames: ['domain', 'endpoint'],
      registers,
      async collect() {
        const health = await sources.endpointHealth();
        this.reset();
        for (const h of health) this.set({ domain: h.domain, endpoint: h.endpoint }, h.up ? 1 : 0);
      },
    });

    let inFlight: ReturnType<MeshMetrics['connectorScrape']> | undefined;
    this.connectorScrape = () =>
      (inFlight ??= sources
        .connector()
        .then(
          (samples) => ({ samples }),
          (error: Error) => ({ samples: [] as [], error }),
        )
        .finally(() => {
          inFlight = undefined;
        }));
    this.connectorMetrics(registers);
  }

  queryEnded(outcome: QueryOutcome['outcome'], purpose: string | undefined, durationMs: number): void {
    // Refusals may come before a purpose was accepted: never a caller's unchecked text as a label.
    this.gatewayQueries.inc({ outcome, purpose: purpose ?? 'none' });
    this.gatewayDuration.observe({ outcome }, durationMs / 1000);
  }

  publishRun(outcome: PublishOutcome): void {
    this.publishRuns.inc({ outcome });
  }

  /** Runs a catalog sync, counting it by trigger and by whether it reported problems or failed. */
  async catalogSync<T extends { problems: string[] }>(reason: string, sync: () => Promise<T>): Promise<T> {
    const trigger = catalogSyncTrigger(reason);
    const stop = this.syncDuration.startTimer({ trigger });
    try {
      const report = await sync();
      this.syncRuns.inc({ trigger, outcome: report.problems.length ? 'problems' : 'ok' });
      return report;
    } catch (e) {
      this.syncRuns.inc({ trigger, outcome: 'failed' });
      throw e;
    } finally {
      stop();
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric, sources read now. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** The connector's per-domain request figures (contract B), re-exported as they stand in Trino now. */
  private connectorMetrics(registers: Registry[]): void {
    const scrape = this.connectorScrape;
    const labelsOf = (s: ConnectorDomainSample): Record<ConnectorLabel, string> => ({ catalog: s.catalog, domain: s.domain, node: s.node });
    const samples = async (): Promise<ConnectorDomainSample[]> => {
      const result = await scrape();
      if (result.error && result.error.message !== this.lastScrapeError) this.log.warn(`connector metrics unavailable: ${result.error.message}`);
      this.lastScrapeError = result.error?.message;
      return result.samples;
    };
    new Gauge({
      name: 'fhirmesh_trino_scrape_up',
      help: "1 when the connector's request metrics could be read from Trino at this scrape, else 0",
      registers,
      async collect() {
        this.set((await scrape()).error ? 0 : 1);
      },
    });
    // Counters the connector keeps: each scrape sets them to Trino's figures (they restart from 0 when Trino does).
    const counter = (name: string, help: string, value: (s: ConnectorDomainSample) => number): void => {
      new Counter({
        name,
        help,
        labelNames: CONNECTOR_LABELS,
        registers,
        async collect() {
          const current = await samples();
          this.reset();
          for (const s of current) this.inc(labelsOf(s), value(s));
        },
      });
    };
    counter('fhirmesh_fhir_requests_total', 'HTTP requests the fhir connector sent to FHIR servers, retries included', (s) => s.requests);
    counter('fhirmesh_fhir_response_bytes_total', 'Response body bytes the fhir connector read from FHIR servers', (s) => s.bytes);
    counter('fhirmesh_fhir_retries_total', 'Requests the fhir connector retried', (s) => s.retries);
    new Counter({
      name: 'fhirmesh_fhir_request_failures_total',
      help: 'Failed FHIR requests of the fhir connector, by kind (http_4xx, http_5xx, timeout, connection, bad_response, circuit_open)',
      labelNames: [...CONNECTOR_LABELS, 'kind'],
      registers,
      async collect() {
        const current = await samples();
        this.reset();
        for (const s of current) for (const [kind, n] of Object.entries(s.failures)) this.inc({ ...labelsOf(s), kind }, n);
      },
    });
    new Gauge({
      name: 'fhirmesh_fhir_circuit_state',
      help: "The fhir connector's circuit breaker per node and domain: 1 for its current state, 0 for the others",
      labelNames: [...CONNECTOR_LABELS, 'state'],
      registers,
      async collect() {
        const current = await samples();
        this.reset();
        for (const s of current) for (const state of CIRCUIT_STATES) this.set({ ...labelsOf(s), state }, s.circuit === state ? 1 : 0);
      },
    });
    new SampledHistogram<ConnectorLabel>(
      'fhirmesh_fhir_request_duration_seconds',
      'Latency of FHIR requests sent by the fhir connector, in seconds',
      async () => (await samples()).map((s) => ({ labels: labelsOf(s), ...s.latency })),
      (labels, problem) => this.log.warn(`connector latency histogram of ${JSON.stringify(labels)} left out: ${problem}`),
    ).register(this.registry);
  }
}
