// The SQL gateway as a Nest module: its HTTPS listener starts with the control plane and stops with it.
import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { CONFIG, ControlPlaneConfig } from '../config';
import { MeshMetrics } from '../metrics/mesh-metrics';
import { GatewayServer } from './gateway-server';
import { QueriesController } from './queries.controller';
import { QueryHistory } from './query-history';

@Injectable()
export class GatewayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: GatewayServer;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(MeshMetrics) private readonly metrics: MeshMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.gateway.port === 0) return;
    this.server = new GatewayServer(this.db, this.audit, this.config, this.metrics);
    await this.server.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}

@Module({ providers: [GatewayService, QueryHistory], controllers: [QueriesController] })
export class GatewayModule {}
