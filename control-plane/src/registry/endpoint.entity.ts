import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Domain } from './domain.entity';

export const ENDPOINT_STATUSES = ['active', 'suspended'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];
export type EndpointHealthState = 'unknown' | 'up' | 'down';

/** A domain's FHIR server. At most one active endpoint per domain: the catalog has one base URL per domain. */
@Entity({ name: 'endpoints' })
export class Endpoint {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'domain_id', type: 'uuid' }) domainId!: string;
  @ManyToOne(() => Domain, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'domain_id' }) domain?: Domain;
  @Column({ name: 'base_url', type: 'text', unique: true }) baseUrl!: string;
  @Column({ name: 'fhir_version', type: 'varchar', length: 10 }) fhirVersion!: string;
  /** Where the bearer token lives (`env:NAME` or `file:/path`): a reference, never the secret itself. */
  @Column({ name: 'auth_secret_ref', type: 'text', nullable: true }) authSecretRef!: string | null;
  /** Administrative status: suspended endpoints are left out of the generated catalog. */
  @Column({ type: 'varchar', length: 20 }) status!: EndpointStatus;
  /** Observed by the health check. */
  @Column({ type: 'varchar', length: 10, default: 'unknown' }) health!: EndpointHealthState;
  @Column({ name: 'last_checked_at', type: 'timestamptz', nullable: true }) lastCheckedAt!: Date | null;
  @Column({ name: 'last_latency_ms', type: 'integer', nullable: true }) lastLatencyMs!: number | null;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** One health check of an endpoint (`GET [base]/metadata`): the status history. */
@Entity({ name: 'endpoint_health' })
export class EndpointHealthCheck {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ name: 'endpoint_id', type: 'uuid' }) endpointId!: string;
  @Column({ name: 'checked_at', type: 'timestamptz' }) checkedAt!: Date;
  @Column({ type: 'boolean' }) ok!: boolean;
  @Column({ name: 'http_status', type: 'integer', nullable: true }) httpStatus!: number | null;
  @Column({ name: 'latency_ms', type: 'integer', nullable: true }) latencyMs!: number | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
}
