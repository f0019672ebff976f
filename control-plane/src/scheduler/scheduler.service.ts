import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import cron, { ScheduledTask } from 'node-cron';
import { DataSource, DataSourceOptions } from 'typeorm';
import { CatalogService } from '../catalogs/catalog.service';
import { CONFIG, ControlPlaneConfig } from '../config';
import { dataSourceOptions } from '../database/data-source';
import { applyRetention, checkEndpoints, settleStaleReservations } from './jobs';

/** A short-lived connection as another role (the retention job's), closed whatever happens. */
async function withDataSource<T>(options: DataSourceOptions, work: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await new DataSource(options).initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Times the background jobs (node-cron); overlapping runs of one job are skipped, failures logged. */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('scheduler');
  private readonly tasks: ScheduledTask[] = [];

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(CatalogService) private readonly catalogs: CatalogService,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  onApplicationBootstrap(): void {
    const s = this.config.schedules;
    this.every('health', s.health, async () => {
      const down = (await checkEndpoints(this.db)).filter((c) => !c.ok);
      if (down.length) this.log.warn(`endpoints down: ${down.map((c) => `${c.endpointId} (${c.error})`).join(', ')}`);
    });
    this.every('reconcile', s.reconcile, async () => {
      const report = await this.catalogs.sync('reconcile');
      const expected = report.tables.join(',');
      if (report.trinoTables && report.trinoTables.join(',') !== expected) {
        this.log.warn(`Trino serves [${report.trinoTables.join(', ')}] but the registry says [${expected}]`);
      }
    });
    this.every('budgets', s.budgets, async () => {
      const settled = await settleStaleReservations(this.db);
      if (settled) this.log.warn(`budgets: ${settled} stale reservations booked as spent (a gateway stopped mid-query?)`);
    });
    this.every('retention', s.retention, async () => {
      const pruned = await withDataSource(dataSourceOptions(this.config.registry.auditRetention), (retention) =>
        applyRetention(retention, this.config.auditRetentionDays),
      );
      if (pruned.audit || pruned.health) this.log.log(`retention: ${pruned.audit} audit entries, ${pruned.health} health checks pruned`);
    });
  }

  private every(name: string, expression: string, job: () => Promise<void>): void {
    if (!expression) return;
    this.tasks.push(
      cron.schedule(
        expression,
        async () => {
          try {
            await job();
          } catch (e) {
            this.log.error(`${name}: ${(e as Error).message}`);
          }
        },
        { name, noOverlap: true },
      ),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    for (const task of this.tasks) await task.stop();
  }
}
