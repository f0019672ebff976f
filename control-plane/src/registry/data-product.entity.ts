import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Domain } from './domain.entity';

export const LIFECYCLES = ['draft', 'published', 'deprecated', 'retired'] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];
export const PRIVACY_TAGS = ['direct-identifier', 'quasi-identifier', 'sensitive', 'none'] as const;
export type PrivacyTag = (typeof PRIVACY_TAGS)[number];

/** A named, owned, versioned set of ViewDefinitions. */
@Entity({ name: 'data_products' })
export class DataProduct {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', unique: true }) name!: string;
  @Column({ name: 'domain_id', type: 'uuid' }) domainId!: string;
  @ManyToOne(() => Domain, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'domain_id' }) domain?: Domain;
  @Column({ type: 'text', default: '' }) description!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

export interface Sla {
  freshnessHours: number;
  availabilityPercent: number;
}

/** One semantic version of a data product: its ViewDefinitions, column privacy tags and derived bindings. */
@Entity({ name: 'data_product_versions' })
export class DataProductVersion {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId!: string;
  @ManyToOne(() => DataProduct, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'product_id' }) product?: DataProduct;
  @Column({ type: 'text' }) version!: string;
  @Column({ type: 'integer' }) major!: number;
  @Column({ type: 'integer' }) minor!: number;
  @Column({ type: 'integer' }) patch!: number;
  @Column({ type: 'varchar', length: 20 }) lifecycle!: Lifecycle;
  /** ViewDefinitions (SQL-on-FHIR v2), as published. */
  @Column({ type: 'jsonb' }) views!: Record<string, unknown>[];
  /** view name -> column name -> privacy tag. */
  @Column({ name: 'column_tags', type: 'jsonb' }) columnTags!: Record<string, Record<string, PrivacyTag>>;
  /** view name -> column name -> search-parameter binding, derived from the source endpoints. */
  @Column({ type: 'jsonb' }) bindings!: Record<string, Record<string, unknown>>;
  /** ODS codes of the domains whose endpoints the views read. */
  @Column({ type: 'text', array: true }) sources!: string[];
  @Column({ type: 'jsonb' }) sla!: Sla;
  /** SHA-256 of the published content: republishing identical content is a no-op, different content a conflict. */
  @Column({ name: 'content_hash', type: 'text' }) contentHash!: string;
  @Column({ name: 'published_by', type: 'text' }) publishedBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/**
 * Trino table names held by a product: `<view>` and `<view>_v<major>` of its published and deprecated
 * versions (publishing/table-names.ts). The primary key keeps names unique across the mesh.
 */
@Entity({ name: 'product_tables' })
export class ProductTable {
  @PrimaryColumn({ name: 'table_name', type: 'text' }) tableName!: string;
  @Column({ name: 'product_id', type: 'uuid' }) productId!: string;
  @Column({ name: 'view_name', type: 'text' }) viewName!: string;
}
