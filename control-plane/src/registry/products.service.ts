import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../auth/principal';
import { DataProduct, DataProductVersion } from './data-product.entity';
import { assertProductInScope, ownerDomainScope } from './product-scope';

/** Read side of data products (publishing writes them). */
@Injectable()
export class ProductsService {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async list(actor: Principal): Promise<unknown[]> {
    const scope = ownerDomainScope(actor);
    const products = (await this.db.getRepository(DataProduct).find({ relations: { domain: true }, order: { name: 'ASC' } })).filter(
      (p) => !scope || p.domain!.odsCode === scope.domain,
    );
    const versions = await this.db.getRepository(DataProductVersion).find({ order: { major: 'ASC', minor: 'ASC', patch: 'ASC' } });
    return products.map((p) => ({
      name: p.name,
      domain: p.domain!.odsCode,
      description: p.description,
      versions: versions.filter((v) => v.productId === p.id).map((v) => ({ version: v.version, lifecycle: v.lifecycle, views: v.views.map((x) => x.name) })),
    }));
  }

  async get(name: string, actor: Principal): Promise<unknown> {
    const product = await this.db.getRepository(DataProduct).findOne({ where: { name }, relations: { domain: true } });
    if (!product) throw new NotFoundException(`no data product named '${name}'`);
    assertProductInScope(actor, name, product.domain!.odsCode);
    const versions = await this.db
      .getRepository(DataProductVersion)
      .find({ where: { productId: product.id }, order: { major: 'ASC', minor: 'ASC', patch: 'ASC' } });
    return {
      name: product.name,
      domain: product.domain!.odsCode,
      description: product.description,
      createdAt: product.createdAt,
      versions: versions.map(versionView),
    };
  }

  async version(name: string, version: string, actor: Principal): Promise<unknown> {
    const product = await this.db.getRepository(DataProduct).findOne({ where: { name }, relations: { domain: true } });
    if (product) assertProductInScope(actor, name, product.domain!.odsCode);
    const found = product && (await this.db.getRepository(DataProductVersion).findOneBy({ productId: product.id, version }));
    if (!found) throw new NotFoundException(`no data product '${name}' version ${version}`);
    return { ...versionView(found), views: found.views, bindings: found.bindings };
  }
}

function versionView(v: DataProductVersion): Record<string, unknown> {
  return {
    version: v.version,
    lifecycle: v.lifecycle,
    sources: v.sources,
    sla: v.sla,
    columnTags: v.columnTags,
    views: v.views.map((x) => x.name),
    publishedBy: v.publishedBy,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}
