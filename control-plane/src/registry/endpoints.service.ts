import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { Domain } from './domain.entity';
import { Endpoint, EndpointHealthCheck, EndpointStatus } from './endpoint.entity';
import { RegistryEvents } from './registry-events';

export interface EndpointInput {
  domain: string;
  baseUrl: string;
  fhirVersion: string;
  authSecretRef?: string | null;
  status: EndpointStatus;
}

/** What the API returns: the endpoint with its domain's ODS code instead of the internal id. */
export type EndpointView = Omit<Endpoint, 'domainId' | 'domain'> & { domain: string };

function view(endpoint: Endpoint, odsCode: string): EndpointView {
  const { domainId: _domainId, domain: _domain, ...rest } = endpoint;
  return { ...rest, domain: odsCode };
}

@Injectable()
export class EndpointsService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(RegistryEvents) private readonly events: RegistryEvents,
  ) {}

  async list(): Promise<EndpointView[]> {
    const rows = await this.db.getRepository(Endpoint).find({ relations: { domain: true }, order: { baseUrl: 'ASC' } });
    return rows.map((e) => view(e, e.domain!.odsCode));
  }

  async get(id: string): Promise<EndpointView> {
    const endpoint = await this.db.getRepository(Endpoint).findOne({ where: { id }, relations: { domain: true } });
    if (!endpoint) throw new NotFoundException(`no endpoint with id '${id}'`);
    return view(endpoint, endpoint.domain!.odsCode);
  }

  async history(id: string, limit: number): Promise<EndpointHealthCheck[]> {
    await this.get(id);
    return this.db.getRepository(EndpointHealthCheck).find({ where: { endpointId: id }, order: { checkedAt: 'DESC' }, take: limit });
  }

  async create(input: EndpointInput, actor: Principal): Promise<EndpointView> {
    const created = await this.db.transaction(async (tx) => {
      const domain = await domainByCode(tx, input.domain);
      if (await tx.getRepository(Endpoint).existsBy({ baseUrl: input.baseUrl })) throw new ConflictException(`endpoint ${input.baseUrl} is already registered`);
      if (input.status === 'active' && (await tx.getRepository(Endpoint).existsBy({ domainId: domain.id, status: 'active' }))) {
        throw new ConflictException(`domain '${domain.odsCode}' already has an active endpoint; suspend it first`);
      }
      const endpoint = await tx.getRepository(Endpoint).save(
        tx.getRepository(Endpoint).create({
          domainId: domain.id,
          baseUrl: input.baseUrl,
          fhirVersion: input.fhirVersion,
          authSecretRef: input.authSecretRef ?? null,
          status: input.status,
          health: 'unknown',
        }),
      );
      const result = view(endpoint, domain.odsCode);
      await this.audit.record(tx, { actor: actor.name, action: 'create', entity: 'endpoint', entityId: endpoint.id, after: result });
      return result;
    });
    this.events.changed(`endpoint ${created.baseUrl}`);
    return created;
  }

  async update(id: string, patch: Partial<EndpointInput>, actor: Principal): Promise<EndpointView> {
    const updated = await this.db.transaction(async (tx) => {
      const before = await tx
        .getRepository(Endpoint)
        .findOne({ where: { id }, relations: { domain: true }, lock: { mode: 'pessimistic_write', tables: ['endpoints'] } });
      if (!before) throw new NotFoundException(`no endpoint with id '${id}'`);
      if (patch.domain !== undefined && patch.domain !== before.domain!.odsCode)
        throw new ConflictException('an endpoint cannot move to another domain; register a new one');
      const { domain: _domain, ...changes } = patch;
      const saved = await tx.getRepository(Endpoint).save({ ...before, ...changes, domain: undefined });
      const after = view({ ...before, ...saved }, before.domain!.odsCode);
      await this.audit.record(tx, {
        actor: actor.name,
        action: 'update',
        entity: 'endpoint',
        entityId: id,
        before: view(before, before.domain!.odsCode),
        after,
      });
      return after;
    });
    this.events.changed(`endpoint ${updated.baseUrl}`);
    return updated;
  }

  async remove(id: string, actor: Principal): Promise<void> {
    const removed = await this.db.transaction(async (tx) => {
      const before = await tx.getRepository(Endpoint).findOne({ where: { id }, relations: { domain: true } });
      if (!before) throw new NotFoundException(`no endpoint with id '${id}'`);
      await tx.getRepository(Endpoint).delete({ id });
      const shown = view(before, before.domain!.odsCode);
      await this.audit.record(tx, { actor: actor.name, action: 'delete', entity: 'endpoint', entityId: id, before: shown });
      return shown;
    });
    this.events.changed(`endpoint ${removed.baseUrl}`);
  }
}

export async function domainByCode(tx: EntityManager, odsCode: string): Promise<Domain> {
  const domain = await tx.getRepository(Domain).findOneBy({ odsCode });
  if (!domain) throw new NotFoundException(`no domain with ODS code '${odsCode}'`);
  return domain;
}
