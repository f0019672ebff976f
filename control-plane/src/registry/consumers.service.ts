import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { newToken, tokenHash } from '../auth/tokens';
import { disclosurePolicyOf, InvalidDisclosurePolicy } from '../privacy/disclosure-policy';
import { BudgetPeriodKind, Consumer, Role } from './consumer.entity';
import { domainByCode } from './endpoints.service';

export interface ConsumerInput {
  name: string;
  kind: 'user' | 'team';
  team?: string | null;
  roles: Role[];
  domain?: string | null;
  allowedPurposes: string[];
  policies: Record<string, unknown>;
  budget?: { epsilon: number; period: BudgetPeriodKind };
}

export interface ConsumerView {
  id: string;
  name: string;
  kind: 'user' | 'team';
  team: string | null;
  roles: Role[];
  domain: string | null;
  allowedPurposes: string[];
  policies: Record<string, unknown>;
  budget: { epsilon: number; period: BudgetPeriodKind } | null;
  createdAt: Date;
  updatedAt: Date;
}

@Injectable()
export class ConsumersService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async list(): Promise<ConsumerView[]> {
    const rows = await this.db.getRepository(Consumer).find({ relations: { domain: true }, order: { name: 'ASC' } });
    const names = new Map(rows.map((c) => [c.id, c.name]));
    return rows.map((c) => toView(c, c.teamId ? (names.get(c.teamId) ?? null) : null));
  }

  async get(name: string, tx: EntityManager = this.db.manager): Promise<ConsumerView> {
    const consumer = await tx.getRepository(Consumer).findOne({ where: { name }, relations: { domain: true } });
    if (!consumer) throw new NotFoundException(`no consumer named '${name}'`);
    const team = consumer.teamId ? await tx.getRepository(Consumer).findOneBy({ id: consumer.teamId }) : null;
    return toView(consumer, team?.name ?? null);
  }

  /** Creates the consumer and its first API token, returned once. */
  async create(input: ConsumerInput, actor: Principal): Promise<ConsumerView & { token: string }> {
    return this.db.transaction(async (tx) => {
      if (await tx.getRepository(Consumer).existsBy({ name: input.name })) throw new ConflictException(`consumer '${input.name}' already exists`);
      const token = newToken();
      const saved = await tx.getRepository(Consumer).save(
        tx.getRepository(Consumer).create({
          ...(await this.resolve(tx, input)),
          name: input.name,
          kind: input.kind,
          tokenHash: tokenHash(token),
        }),
      );
      const shown = await this.get(saved.name, tx);
      await this.audit.record(tx, { actor: actor.name, action: 'create', entity: 'consumer', entityId: saved.name, after: shown });
      return { ...shown, token };
    });
  }

  async update(name: string, patch: Partial<ConsumerInput>, actor: Principal): Promise<ConsumerView> {
    if (patch.name !== undefined && patch.name !== name) throw new ConflictException('a consumer cannot be renamed');
    return this.db.transaction(async (tx) => {
      const before = await this.get(name, tx);
      const merged: ConsumerInput = { ...before, ...patch, budget: patch.budget ?? before.budget ?? undefined };
      await tx.getRepository(Consumer).save({ id: before.id, ...(await this.resolve(tx, merged)) });
      const after = await this.get(name, tx);
      await this.audit.record(tx, { actor: actor.name, action: 'update', entity: 'consumer', entityId: name, before, after });
      return after;
    });
  }

  /** Replaces the consumer's token: the old one stops working at once. */
  async rotateToken(name: string, actor: Principal): Promise<{ token: string }> {
    return this.db.transaction(async (tx) => {
      const consumer = await this.get(name, tx);
      const token = newToken();
      await tx.getRepository(Consumer).update({ id: consumer.id }, { tokenHash: tokenHash(token) });
      await this.audit.record(tx, { actor: actor.name, action: 'rotate-token', entity: 'consumer', entityId: name });
      return { token };
    });
  }

  async remove(name: string, actor: Principal): Promise<void> {
    await this.db.transaction(async (tx) => {
      const before = await this.get(name, tx);
      if (before.roles.includes('ops') && (await tx.query(`select count(*)::int as n from consumers where 'ops' = any (roles)`))[0].n <= 1) {
        throw new ConflictException('cannot remove the last ops consumer');
      }
      await tx.getRepository(Consumer).delete({ id: before.id });
      await this.audit.record(tx, { actor: actor.name, action: 'delete', entity: 'consumer', entityId: name, before });
    });
  }

  private async resolve(tx: EntityManager, input: ConsumerInput): Promise<Partial<Consumer>> {
    if (input.roles.includes('data-product-owner') && !input.domain) {
      throw new BadRequestException(`consumer '${input.name}': the data-product-owner role needs the domain they publish for`);
    }
    try {
      disclosurePolicyOf(input.policies);
    } catch (e) {
      if (e instanceof InvalidDisclosurePolicy) throw new BadRequestException(`consumer '${input.name}': ${e.message}`);
      throw e;
    }
    let teamId: string | null = null;
    if (input.team) {
      const team = await tx.getRepository(Consumer).findOneBy({ name: input.team });
      if (team?.kind !== 'team') throw new BadRequestException(`consumer '${input.name}': no team named '${input.team}'`);
      if (input.kind === 'team') throw new BadRequestException(`consumer '${input.name}': a team cannot belong to a team`);
      teamId = team.id;
    }
    return {
      teamId,
      roles: input.roles,
      domainId: input.domain ? (await domainByCode(tx, input.domain)).id : null,
      allowedPurposes: input.allowedPurposes ?? [],
      policies: input.policies ?? {},
      budgetEpsilon: input.budget?.epsilon ?? null,
      budgetPeriod: input.budget?.period ?? 'month',
    };
  }
}

function toView(c: Consumer, team: string | null): ConsumerView {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    team,
    roles: c.roles,
    domain: c.domain?.odsCode ?? null,
    allowedPurposes: c.allowedPurposes,
    policies: c.policies,
    budget: c.budgetEpsilon === null ? null : { epsilon: c.budgetEpsilon, period: c.budgetPeriod },
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
