// Break-glass grants (ops API) and the gateway's lookup of the active one. Granting and revoking are
// registry changes, audited like any other; each query that uses a grant is flagged in the query audit.
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { BreakGlassGrant } from './break-glass.entity';
import { Consumer } from './consumer.entity';

export interface BreakGlassInput {
  reason: string;
  minutes: number;
  purpose?: string;
}

export interface BreakGlassView {
  id: string;
  consumer: string;
  purpose: string;
  reason: string;
  grantedBy: string;
  grantedAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  active: boolean;
}

export const BREAK_GLASS_DEFAULT_PURPOSE = 'direct-care';

@Injectable()
export class BreakGlassService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async grant(name: string, input: BreakGlassInput, actor: Principal): Promise<BreakGlassView> {
    return this.db.transaction(async (tx) => {
      const consumer = await tx.getRepository(Consumer).findOneBy({ name });
      if (!consumer) throw new NotFoundException(`no consumer named '${name}'`);
      const purpose = input.purpose ?? BREAK_GLASS_DEFAULT_PURPOSE;
      if (!consumer.allowedPurposes.includes(purpose)) {
        throw new BadRequestException(
          `consumer '${name}' may not query for purpose '${purpose}' (allowed: ${consumer.allowedPurposes.join(', ') || 'none'}); add it to allowedPurposes first`,
        );
      }
      const now = new Date();
      const saved = await tx.getRepository(BreakGlassGrant).save({
        consumerId: consumer.id,
        purpose,
        reason: input.reason.trim(),
        grantedBy: actor.name,
        grantedAt: now,
        expiresAt: new Date(now.getTime() + input.minutes * 60_000),
        revokedAt: null,
        revokedBy: null,
      });
      const view = toView(saved, name);
      await this.audit.record(tx, { actor: actor.name, action: 'break-glass.grant', entity: 'consumer', entityId: name, after: view });
      return view;
    });
  }

  async list(name: string): Promise<BreakGlassView[]> {
    const consumer = await this.db.getRepository(Consumer).findOneBy({ name });
    if (!consumer) throw new NotFoundException(`no consumer named '${name}'`);
    const grants = await this.db.getRepository(BreakGlassGrant).find({ where: { consumerId: consumer.id }, order: { grantedAt: 'DESC' } });
    return grants.map((g) => toView(g, name));
  }

  async revoke(name: string, id: string, actor: Principal): Promise<BreakGlassView> {
    return this.db.transaction(async (tx) => {
      const consumer = await tx.getRepository(Consumer).findOneBy({ name });
      const grant = consumer ? await tx.getRepository(BreakGlassGrant).findOneBy({ id, consumerId: consumer.id }) : null;
      if (!grant) throw new NotFoundException(`consumer '${name}' has no break-glass grant ${id}`);
      const before = toView(grant, name);
      if (grant.revokedAt === null) {
        grant.revokedAt = new Date();
        grant.revokedBy = actor.name;
        await tx.getRepository(BreakGlassGrant).save(grant);
      }
      const after = toView(grant, name);
      await this.audit.record(tx, { actor: actor.name, action: 'break-glass.revoke', entity: 'consumer', entityId: name, before, after });
      return after;
    });
  }
}

/** The grant in force for this consumer and purpose at `now`, if any (expiry is checked on every query). */
export async function activeBreakGlass(db: DataSource, consumerId: string, purpose: string, now = new Date()): Promise<BreakGlassGrant | null> {
  return db.getRepository(BreakGlassGrant).findOne({
    where: { consumerId, purpose, revokedAt: IsNull(), expiresAt: MoreThan(now) },
    order: { expiresAt: 'DESC' },
  });
}

function toView(g: BreakGlassGrant, consumer: string): BreakGlassView {
  return {
    id: g.id,
    consumer,
    purpose: g.purpose,
    reason: g.reason,
    grantedBy: g.grantedBy,
    grantedAt: g.grantedAt.toISOString(),
    expiresAt: g.expiresAt.toISOString(),
    revokedAt: g.revokedAt?.toISOString() ?? null,
    revokedBy: g.revokedBy,
    active: g.revokedAt === null && g.expiresAt.getTime() > Date.now(),
  };
}
