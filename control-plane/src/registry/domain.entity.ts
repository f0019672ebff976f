import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const DOMAIN_KINDS = ['trust', 'gp-federation', 'ics', 'national'] as const;
export type DomainKind = (typeof DOMAIN_KINDS)[number];

/** An organisation that owns FHIR data: a trust, GP federation, ICS or national body. */
@Entity({ name: 'domains' })
export class Domain {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** ODS organisation code, upper case; also the domain's code in Trino catalogs. */
  @Column({ name: 'ods_code', type: 'varchar', length: 10, unique: true }) odsCode!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'varchar', length: 20 }) kind!: DomainKind;
  @Column({ type: 'text' }) region!: string;
  @Column({ name: 'owner_contact', type: 'text' }) ownerContact!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
