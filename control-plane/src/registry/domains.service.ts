import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { Domain, DomainKind } from './domain.entity';
import { RegistryEvents } from './registry-events';

export interface DomainInput {
  odsCode: string;
  name: string;
  kind: DomainKind;
  region: string;
  ownerContact: string;
}

@Injectable()
export class DomainsService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(RegistryEvents) private readonly events: RegistryEvents,
  ) {}

  list(): Promise<Domain[]> {
    return this.db.getRepository(Domain).find({ order: { odsCode: 'ASC' } });
  }

  async get(odsCode: string): Promise<Domain> {
    const domain = await this.db.getRepository(Domain).findOneBy({ odsCode });
    if (!domain) throw new NotFoundException(`no domain with ODS code '${odsCode}'`);
    return domain;
  }

  async create(input: DomainInput, actor: Principal): Promise<Domain> {
    const created = await this.db.transaction(async (tx) => {
      if (await tx.getRepository(Domain).existsBy({ odsCode: input.odsCode })) {
        throw new ConflictException(`domain '${input.odsCode}' already exists`);
      }
      const domain = await tx.getRepository(Domain).save(tx.getRepository(Domain).create(input));
      await this.audit.record(tx, { actor: actor.name, action: 'create', entity: 'domain', entityId: domain.odsCode, after: domain });
      return domain;
    });
    this.events.changed(`domain ${created.odsCode}`);
    return created;
  }

  async update(odsCode: string, patch: Partial<DomainInput>, actor: Principal): Promise<Domain> {
    if (patch.odsCode !== undefined && patch.odsCode !== odsCode) throw new ConflictException("a domain's ODS code cannot change; register a new domain");
    const updated = await this.db.transaction(async (tx) => {
      const before = await tx.getRepository(Domain).findOne({ where: { odsCode }, lock: { mode: 'pessimistic_write' } });
      if (!before) throw new NotFoundException(`no domain with ODS code '${odsCode}'`);
      const after = await tx.getRepository(Domain).save({ ...before, ...patch });
      await this.audit.record(tx, { actor: actor.name, action: 'update', entity: 'domain', entityId: odsCode, before, after });
      return after;
    });
    this.events.changed(`domain ${odsCode}`);
    return updated;
  }

  /** Only a domain with nothing attached can go; endpoints and products must be removed or retired first. */
  async remove(odsCode: string, actor: Principal): Promise<void> {
    await this.db.transaction(async (tx) => {
      const before = await tx.getRepository(Domain).findOneBy({ odsCode });
      if (!before) throw new NotFoundException(`no domain with ODS code '${odsCode}'`);
      await tx.getRepository(Domain).delete({ id: before.id });
      await this.audit.record(tx, { actor: actor.name, action: 'delete', entity: 'domain', entityId: odsCode, before });
    });
    this.events.changed(`domain ${odsCode}`);
  }
}
