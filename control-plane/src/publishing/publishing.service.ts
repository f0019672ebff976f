// Publishing a data product version: authorisation, static checks, breaking-change rule, binding
// derivation and a dry run against the live endpoints, then one transaction for the registry rows and
// their audit entry, then the catalog sync that makes the tables queryable. A dry run of a publication
// makes every one of those checks (the same code) and writes nothing.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ConflictException, ForbiddenException, HttpException, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { canonicalJson } from '../audit/canonical-json';
import { Principal } from '../auth/principal';
import { CatalogService, GenerationReport } from '../catalogs/catalog.service';
import { compareVersions } from '../catalogs/generation';
import { Binding } from '../catalogs/search-bindings';
import { TrinoAdmin } from '../catalogs/trino-admin';
import { CONFIG, ControlPlaneConfig } from '../config';
import { MeshMetrics } from '../metrics/mesh-metrics';
import { DataProduct, DataProductVersion, Lifecycle, ProductTable } from '../registry/data-product.entity';
import { Domain } from '../registry/domain.entity';
import { Endpoint } from '../registry/endpoint.entity';
import { assertProductInScope } from '../registry/product-scope';
import { deriveProductBindings } from './bindings';
import { breakingChanges, compareViews } from './breaking-changes';
import { DryRunResult, dryRun } from './dry-run';
import { Publication, parseVersion, SemVer, staticProblems } from './publication';
import { claimConflicts, heldTables, TableClaim, VersionForClaims, versionTables, WantedTable } from './table-names';
import { previousVersion, publicationContent, publicationDiff, storedPublication } from './version-diff';

export interface PublishResult {
  product: string;
  version: string;
  lifecycle: Lifecycle;
  /** false when identical content was already published under this version (idempotent republish). */
  created: boolean;
  tables: string[];
  dryRun: DryRunResult[];
  bindingNotes: string[];
  serving?: GenerationReport;
}

/** What publishing a publication would do (POST /api/v1/data-products/dry-run); nothing is written. */
export interface PublishDryRun {
  product: string;
  version: string;
  /** The version the diff and breaking changes are against; null for a new product. */
  previousVersion: string | null;
  tables: string[];
  dryRun: DryRunResult[];
  bindingNotes: string[];
  /** What breaks consumers of the previous version (allowed only in a new major version). */
  breakingChanges: string[];
  /** Unified diff of the previous version's publication against this one; '' for a first version. */
  diff: string;
  /** false when identical content is already published under this version (publishing would change nothing). */
  wouldCreate: boolean;
}

/** Everything publishing decides before it writes; publish and its dry run share it, so both refuse alike. */
interface PublishPlan {
  domain: Domain;
  product: DataProduct | null;
  versions: DataProductVersion[];
  semver: SemVer;
  sourceCodes: string[];
  contentHash: string;
  tables: string[];
  /** The version already holding this content (an idempotent republish): nothing further was checked. */
  same?: DataProductVersion;
  bindings: Record<string, Record<string, Binding>>;
  bindingNotes: string[];
  dryRun: DryRunResult[];
}

/** Products owned by these kinds may read other domains' endpoints (federated products). */
const FEDERATING_KINDS = new Set(['ics', 'national']);
/** Serialises table-name claims: the reservation rule reads other products' claims, not just one row. */
const TABLE_CLAIM_LOCK = 72_002;

@Injectable()
export class PublishingService {
  private readonly trino: TrinoAdmin;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CatalogService) private readonly catalogs: CatalogService,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(MeshMetrics) private readonly metrics: MeshMetrics,
  ) {
    this.trino = new TrinoAdmin(config);
  }

  /** Every publication is counted in /metrics: created, unchanged (identical republish), refused (4xx) or failed. */
  async publish(p: Publication, actor: Principal, via: 'api' | 'webhook' | 'demo' = 'api'): Promise<PublishResult> {
    try {
      const result = await this.publishVersion(p, actor, via);
      this.metrics.publishRun(result.created ? 'created' : 'unchanged');
      return result;
    } catch (e) {
      this.metrics.publishRun(e instanceof HttpException && e.getStatus() < 500 ? 'refused' : 'failed');
      throw e;
    }
  }

  private async publishVersion(p: Publication, actor: Principal, via: 'api' | 'webhook' | 'demo'): Promise<PublishResult> {
    const plan = await this.plan(p, actor);
    const { domain, product, semver, sourceCodes, contentHash, tables, bindings } = plan;
    if (plan.same) return { product: p.name, version: p.version, lifecycle: plan.same.lifecycle, created: false, tables, dryRun: [], bindingNotes: [] };

    await this.db.transaction(async (tx) => {
      const owner =
        product ??
        (await tx.getRepository(DataProduct).save(
          tx.getRepository(DataProduct).create({
            name: p.name,
            domainId: domain.id,
            description: p.description ?? '',
          }),
        ));
      if (product && p.description !== undefined && p.description !== product.description) {
        await tx.getRepository(DataProduct).update({ id: product.id }, { description: p.description });
      }
      const version = await tx.getRepository(DataProductVersion).save(
        tx.getRepository(DataProductVersion).create({
          productId: owner.id,
          version: p.version,
          ...semver,
          lifecycle: p.lifecycle,
          views: p.views,
          columnTags: p.privacy,
          bindings,
          sources: sourceCodes,
          sla: { freshnessHours: p.sla?.freshnessHours ?? 24, availabilityPercent: p.sla?.availabilityPercent ?? 99 },
          contentHash,
          publishedBy: actor.name,
        }),
      );
      await claimTables(tx, owner.id, p.name, versionTables(p.views, semver.major));
      await this.audit.record(tx, {
        actor: actor.name,
        action: `publish (${via})`,
        entity: 'data-product',
        entityId: `${p.name}@${p.version}`,
        after: { ...version, views: version.views.map((v) => v.name) },
      });
    });
    const serving = p.lifecycle === 'published' ? await this.catalogs.sync(`publish ${p.name} ${p.version}`) : undefined;
    return {
      product: p.name,
      version: p.version,
      lifecycle: p.lifecycle,
      created: true,
      tables,
      dryRun: plan.dryRun,
      bindingNotes: plan.bindingNotes,
      serving,
    };
  }

  /** Every check publish makes, the real dry run against the endpoints included, and the diff; writes nothing. */
  async dryRunPublication(p: Publication, actor: Principal): Promise<PublishDryRun> {
    const plan = await this.plan(p, actor);
    const previous = previousVersion(plan.versions, p.version);
    const description = plan.product?.description ?? '';
    return {
      product: p.name,
      version: p.version,
      previousVersion: previous?.version ?? null,
      tables: plan.tables,
      dryRun: plan.dryRun,
      bindingNotes: plan.bindingNotes,
      breakingChanges: previous ? breakingChanges(compareViews(previous.views as never, p.views as never)) : [],
      diff: publicationDiff(
        previous && {
          version: previous.version,
          content: publicationContent(storedPublication(p.name, plan.domain.odsCode, description, previous), description),
        },
        { version: p.version, content: publicationContent(p, description) },
        p.name,
      ),
      wouldCreate: !plan.same,
    };
  }

  /**
   * The checks, in publish's order, and what they derive: authorisation, static problems, the domain and its
   * sources, compatibility with the published versions, table-name claims, bindings, the dry run. Reads only.
   */
  private async plan(p: Publication, actor: Principal): Promise<PublishPlan> {
    const product = await this.db.getRepository(DataProduct).findOne({ where: { name: p.name }, relations: { domain: true } });
    if (product) assertProductInScope(actor, p.name, product.domain!.odsCode);
    assertMayPublishFor(actor, p.domain);
    const problems = staticProblems(p);
    if (problems.length) {
      throw new UnprocessableEntityException({ message: `data product '${p.name}': ${problems.map((x) => x.message).join('; ')}`, problems });
    }
    const domain = await this.db.getRepository(Domain).findOneBy({ odsCode: p.domain });
    if (!domain) throw new UnprocessableEntityException(`data product '${p.name}': no domain with ODS code '${p.domain}'`);
    const sourceCodes = p.sources ?? [p.domain];
    if (sourceCodes.some((s) => s !== p.domain) && !FEDERATING_KINDS.has(domain.kind)) {
      throw new ForbiddenException(
        `data product '${p.name}': a ${domain.kind} publishes from its own endpoint only; ${sourceCodes.filter((s) => s !== p.domain).join(', ')} must publish their own data`,
      );
    }
    const semver = parseVersion(p.version);
    const contentHash = createHash('sha256')
      .update(canonicalJson({ ...p, lifecycle: undefined }))
      .digest('hex');

    if (product && product.domain!.odsCode !== p.domain) {
      throw new ForbiddenException(`data product '${p.name}' belongs to domain ${product.domain!.odsCode}, not ${p.domain}`);
    }
    const versions = product ? await this.db.getRepository(DataProductVersion).findBy({ productId: product.id }) : [];
    const tables = versionTables(p.views, semver.major).map((t) => t.table);
    const decided = { domain, product, versions, semver, sourceCodes, contentHash, tables };
    const same = versions.find((v) => v.version === p.version);
    if (same) {
      if (same.contentHash !== contentHash)
        throw new ConflictException(`data product '${p.name}' ${p.version} is already published with different content; publish a new version`);
      return { ...decided, same, bindings: {}, bindingNotes: [], dryRun: [] };
    }
    this.assertCompatible(p, versions);
    // Table names first (before bindings and the dry run): a name another product holds or reserves
    // is refused at once, even for a draft, which could otherwise never be published.
    const newVersion = { lifecycle: p.lifecycle, major: semver.major, views: p.views };
    const early = await planClaims(this.db.manager, product?.id ?? '', [...versions, newVersion], versionTables(p.views, semver.major));
    if (early.problems.length) throw tableConflict(p.name, early.problems);

    const sources = await this.sourceEndpoints(sourceCodes, p.name);
    const { bindings, notes } = await deriveProductBindings(p.views, sources);
    const dry = await dryRun(this.trino, path.join(this.config.generatedDir, 'dry-run'), p.views, bindings, sources, this.config.dryRunRows);
    return { ...decided, bindings, bindingNotes: notes, dryRun: dry };
  }

  async changeLifecycle(
    name: string,
    version: string,
    lifecycle: Lifecycle,
    actor: Principal,
  ): Promise<{ product: string; version: string; lifecycle: Lifecycle; serving: GenerationReport }> {
    await this.db.transaction(async (tx) => {
      const product = await tx.getRepository(DataProduct).findOne({ where: { name }, relations: { domain: true } });
      if (!product) throw new NotFoundException(`no data product named '${name}'`);
      assertProductInScope(actor, name, product.domain!.odsCode);
      assertMayPublishFor(actor, product.domain!.odsCode);
      const before = await tx.getRepository(DataProductVersion).findOne({ where: { productId: product.id, version }, lock: { mode: 'pessimistic_write' } });
      if (!before) throw new NotFoundException(`data product '${name}' has no version ${version}`);
      if (before.lifecycle === 'retired') throw new ConflictException(`data product '${name}' ${version} is retired; publish a new version instead`);
      await tx.getRepository(DataProductVersion).update({ id: before.id }, { lifecycle });
      // Retiring releases the version's table names; promoting a draft claims them (or is refused).
      await claimTables(tx, product.id, name, []);
      await this.audit.record(tx, {
        actor: actor.name,
        action: `lifecycle ${before.lifecycle} -> ${lifecycle}`,
        entity: 'data-product',
        entityId: `${name}@${version}`,
        before: { lifecycle: before.lifecycle },
        after: { lifecycle },
      });
    });
    return { product: name, version, lifecycle, serving: await this.catalogs.sync(`${name} ${version} ${lifecycle}`) };
  }

  /** Within a major version, columns may be added but not removed or retyped; a view may not disappear. */
  private assertCompatible(p: Publication, versions: DataProductVersion[]): void {
    const next = parseVersion(p.version);
    const sameMajor = versions.filter((v) => v.major === next.major && v.lifecycle !== 'draft').sort((a, b) => compareVersions(b, a));
    const latest = sameMajor[0];
    if (!latest) return;
    if (compareVersions(next, latest) < 0) {
      throw new ConflictException(`data product '${p.name}': ${p.version} is older than the published ${latest.version}; versions only move forward`);
    }
    const reasons = breakingChanges(compareViews(latest.views as never, p.views as never));
    if (reasons.length) {
      throw new ConflictException({
        message: `data product '${p.name}' ${p.version} breaks ${latest.version}: ${reasons.join('; ')}. A breaking change needs a new major version (${next.major + 1}.0.0)`,
        breakingChanges: reasons,
      });
    }
  }

  private async sourceEndpoints(codes: string[], product: string): Promise<{ odsCode: string; baseUrl: string; authSecretRef: string | null }[]> {
    const endpoints = await this.db.getRepository(Endpoint).find({ where: { status: 'active' }, relations: { domain: true } });
    return codes.map((code) => {
      const endpoint = endpoints.find((e) => e.domain!.odsCode === code);
      if (!endpoint) throw new UnprocessableEntityException(`data product '${product}': domain ${code} has no active FHIR endpoint to read from`);
      return { odsCode: code, baseUrl: endpoint.baseUrl, authSecretRef: endpoint.authSecretRef };
    });
  }
}

export function assertMayPublishFor(actor: Principal, domain: string): void {
  if (actor.roles.includes('ops')) return;
  if (!actor.roles.includes('data-product-owner')) throw new ForbiddenException(`${actor.name} is not a data product owner`);
  if (actor.domain !== domain) throw new ForbiddenException(`${actor.name} publishes for domain ${actor.domain ?? '(none)'}, not ${domain}`);
}

/**
 * Makes the product's claims match its versions (published and deprecated ones hold names; drafts and
 * retired ones release theirs), after checking `check` (a new version's names, whatever its lifecycle)
 * too. Refuses with 409 naming the holder; the caller's transaction then rolls everything back.
 */
async function claimTables(tx: EntityManager, productId: string, productName: string, check: WantedTable[]): Promise<void> {
  await tx.query('select pg_advisory_xact_lock($1)', [TABLE_CLAIM_LOCK]);
  const versions = await tx.getRepository(DataProductVersion).findBy({ productId });
  const plan = await planClaims(tx, productId, versions, check);
  if (plan.problems.length) throw tableConflict(productName, plan.problems);
  if (plan.release.length) await tx.getRepository(ProductTable).delete({ tableName: In(plan.release) });
  for (const t of plan.claim) await tx.getRepository(ProductTable).insert({ tableName: t.table, productId, viewName: t.view });
}

/**
 * What claiming would do, without writing: names to release (the product's own that no serving version
 * needs, and other products' claims that nothing of theirs serves any more, e.g. a retired squatter from
 * before names were released), names to claim, and the problems that refuse it.
 */
async function planClaims(
  manager: EntityManager,
  productId: string,
  versions: VersionForClaims[],
  check: WantedTable[],
): Promise<{ problems: string[]; release: string[]; claim: WantedTable[] }> {
  const held = heldTables(versions);
  const wanted = [...held, ...check.filter((c) => !held.some((h) => h.table === c.table && h.view === c.view))];
  const claims: TableClaim[] = await manager.getRepository(ProductTable).find();
  const release = claims.filter((c) => c.productId === productId && !held.some((h) => h.table === c.tableName)).map((c) => c.tableName);
  const names = new Map((await manager.getRepository(DataProduct).find({ select: { id: true, name: true } })).map((p) => [p.id, p.name]));
  const nameOf = (id: string): string => names.get(id) ?? id;
  const relevant = claims.filter((c) => c.productId !== productId && claimConflicts(productId, wanted, [c], nameOf).length > 0);
  for (const holder of new Set(relevant.map((c) => c.productId))) {
    const stillHeld = new Set(heldTables(await manager.getRepository(DataProductVersion).findBy({ productId: holder })).map((t) => t.table));
    for (const c of relevant) if (c.productId === holder && !stillHeld.has(c.tableName)) release.push(c.tableName);
  }
  const kept = claims.filter((c) => !release.includes(c.tableName));
  const problems = claimConflicts(productId, wanted, kept, nameOf);
  const claim = held.filter((h) => !kept.some((c) => c.tableName === h.table && c.productId === productId));
  return { problems, release, claim };
}

function tableConflict(product: string, problems: string[]): ConflictException {
  return new ConflictException({ message: `data product '${product}': ${problems.join('; ')}`, problems });
}
