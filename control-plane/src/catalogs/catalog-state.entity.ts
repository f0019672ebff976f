import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What the control plane last applied to Trino for a catalog: reconcile compares against it. */
@Entity({ name: 'catalog_state' })
export class CatalogState {
  @PrimaryColumn({ name: 'catalog', type: 'text' }) catalog!: string;
  @Column({ name: 'properties_hash', type: 'text' }) propertiesHash!: string;
  @Column({ name: 'applied_at', type: 'timestamptz' }) appliedAt!: Date;
}
