// /metrics as a Nest module: one MeshMetrics for the process, global so the gateway, publishing and the
// catalog service count into the same registry.
import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, ControlPlaneConfig } from '../config';
import { MeshMetrics } from './mesh-metrics';
import { registryMetricSources } from './metric-sources';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  providers: [
    {
      provide: MeshMetrics,
      useFactory: (db: DataSource, config: ControlPlaneConfig) => new MeshMetrics(registryMetricSources(db, config)),
      inject: [DataSource, CONFIG],
    },
  ],
  controllers: [MetricsController],
  exports: [MeshMetrics],
})
export class MetricsModule {}
