// The scrape-time sources of /metrics in the running control plane: the registry database (budget ledger,
// consumers' budgets, endpoints' last health check) and Trino (the connector's request metrics).
import { DataSource, IsNull, Not } from 'typeorm';
import { TrinoAdmin } from '../catalogs/trino-admin';
import type { ControlPlaneConfig } from '../config';
import { BudgetLedger } from '../privacy/budget-ledger';
import { Consumer } from '../registry/consumer.entity';
import { Endpoint } from '../registry/endpoint.entity';
import { scrapeConnector } from './connector-scrape';
import type { MetricSources } from './mesh-metrics';

export function registryMetricSources(db: DataSource, config: ControlPlaneConfig): MetricSources {
  const trino = new TrinoAdmin(config);
  const ledger = new BudgetLedger(db);
  return {
    connector: () => scrapeConnector(trino),
    epsilonSpent: async () => (await ledger.currentEpsilonSpent()).map((a) => ({ ...a, periodStart: a.periodStart.toISOString() })),
    epsilonBudgets: async () =>
      (await db.getRepository(Consumer).find({ where: { budgetEpsilon: Not(IsNull()) }, order: { name: 'ASC' } })).map((c) => ({
        consumer: c.name,
        epsilon: Number(c.budgetEpsilon),
      })),
    endpointHealth: async () =>
      (await db.getRepository(Endpoint).find({ relations: { domain: true }, order: { baseUrl: 'ASC' } }))
        .filter((e) => e.health === 'up' || e.health === 'down')
        .map((e) => ({ domain: e.domain!.odsCode, endpoint: e.baseUrl, up: e.health === 'up' })),
  };
}
