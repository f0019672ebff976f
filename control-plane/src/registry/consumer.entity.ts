import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Domain } from './domain.entity';

export const ROLES = ['analyst', 'researcher', 'data-product-owner', 'ops'] as const;
export type Role = (typeof ROLES)[number];
export const BUDGET_PERIODS = ['day', 'week', 'month'] as const;
export type BudgetPeriodKind = (typeof BUDGET_PERIODS)[number];

/** A user or team that uses the mesh. Users may belong to a team; data product owners belong to a domain. */
@Entity({ name: 'consumers' })
export class Consumer {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', unique: true }) name!: string;
  @Column({ type: 'varchar', length: 10 }) kind!: 'user' | 'team';
  @Column({ name: 'team_id', type: 'uuid', nullable: true }) teamId!: string | null;
  @Column({ type: 'text', array: true }) roles!: Role[];
  /** The domain a data product owner publishes for. */
  @Column({ name: 'domain_id', type: 'uuid', nullable: true }) domainId!: string | null;
  @ManyToOne(() => Domain, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'domain_id' }) domain?: Domain | null;
  @Column({ name: 'allowed_purposes', type: 'text', array: true }) allowedPurposes!: string[];
  /** Disclosure-control and access policies the gateway enforces (see the gateway issue). */
  @Column({ type: 'jsonb' }) policies!: Record<string, unknown>;
  /** Differential-privacy budget (total ε) per period; null means no DP queries. Spent in the budget ledger (privacy/budget-ledger.ts). */
  @Column({
    name: 'budget_epsilon',
    type: 'numeric',
    nullable: true,
    transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) },
  })
  budgetEpsilon!: number | null;
  @Column({ name: 'budget_period', type: 'varchar', length: 10 }) budgetPeriod!: BudgetPeriodKind;
  /** SHA-256 of the consumer's API token; the token itself is shown once and never stored. */
  @Column({ name: 'token_hash', type: 'text', nullable: true, unique: true, select: false }) tokenHash!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
