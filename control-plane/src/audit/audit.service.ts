import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry } from './audit-entry.entity';
import { canonicalJson } from './canonical-json';

export interface AuditRecord {
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

const GENESIS = '0'.repeat(64);
/** Serialises appends so the chain has one order (registry writes are rare; this is not a hot path). */
const CHAIN_LOCK = 72_001;

export function entryHash(prevHash: string, entry: Omit<AuditEntry, 'id' | 'hash' | 'prevHash'>): string {
  return createHash('sha256').update(prevHash).update(canonicalJson({ ...entry, at: entry.at.toISOString() })).digest('hex');
}

@Injectable()
export class AuditService {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Appends an entry inside the caller's transaction: the change and its audit record commit together. */
  async record(manager: EntityManager, record: AuditRecord): Promise<AuditEntry> {
    await manager.query('select pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const last = await manager.getRepository(AuditEntry).find({ order: { id: 'DESC' }, take: 1 });
    const prevHash = last[0]?.hash ?? GENESIS;
    const fields = {
      at: new Date(),
      actor: record.actor,
      action: record.action,
      entity: record.entity,
      entityId: record.entityId,
      before: toJson(record.before),
      after: toJson(record.after),
    };
    return manager.getRepository(AuditEntry).save({ ...fields, prevHash, hash: entryHash(prevHash, fields) });
  }

  async list(filter: { entity?: string; entityId?: string; limit: number }): Promise<AuditEntry[]> {
    return this.db.getRepository(AuditEntry).find({
      where: { ...(filter.entity ? { entity: filter.entity } : {}), ...(filter.entityId ? { entityId: filter.entityId } : {}) },
      order: { id: 'DESC' },
      take: filter.limit,
    });
  }

  /** Recomputes the chain; returns the id of the first entry that does not match, or undefined when intact. */
  async verify(): Promise<{ entries: number; brokenAt?: string }> {
    const entries = await this.db.getRepository(AuditEntry).find({ order: { id: 'ASC' } });
    let prev = entries[0]?.prevHash ?? GENESIS; // after retention the chain starts at the oldest kept entry
    for (const e of entries) {
      const { id, hash, prevHash, ...fields } = e;
      if (prevHash !== prev || entryHash(prevHash, { ...fields, at: new Date(fields.at) }) !== hash) return { entries: entries.length, brokenAt: id };
      prev = hash;
    }
    return { entries: entries.length };
  }
}

/** Entities become plain JSON (dates as ISO strings), so what is hashed is what is stored. */
function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
