import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Consumer } from './consumer.entity';

/**
 * Break-glass for direct care: lifts identifier removal at the gateway for one consumer, for one purpose,
 * until it expires or is revoked. The database refuses grants without a reason or longer than a day.
 */
@Entity({ name: 'break_glass_grants' })
export class BreakGlassGrant {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ name: 'consumer_id', type: 'uuid' }) consumerId!: string;
  @ManyToOne(() => Consumer, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'consumer_id' }) consumer?: Consumer;
  @Column({ type: 'text' }) purpose!: string;
  @Column({ type: 'text' }) reason!: string;
  @Column({ name: 'granted_by', type: 'text' }) grantedBy!: string;
  @Column({ name: 'granted_at', type: 'timestamptz' }) grantedAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @Column({ name: 'revoked_by', type: 'text', nullable: true }) revokedBy!: string | null;
}
