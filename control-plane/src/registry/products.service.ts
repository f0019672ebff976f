import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DataProduct, DataProductVersion } from './data-product.entity';

/** Read side of data products (publishing writes them). */
@Injectable()
export class ProductsService {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async list(): Promise<unknown[]> {
    const products = await this.db.getRepository(DataProduct).find({ relations: { domain: true }, order: { name: 'ASC' } });
    const versions = await this.db.getRepository(DataProductVersion).find({ order: { major: 'ASC', minor: 'ASC', patch: 'ASC' } });
    return products.map((p) => ({
      name: p.name,
      domain: p.domain!.odsCode,
      description: p.description,
      versions: versions.filter((v) => v.productId === p.id).map((v) => ({ version: v.version, lifecycle: v.lifecycle, views: v.views.map((x) => x.name) })),
    }));
  }

  async get(name: string): Promise<unknown> {
    const product = await this.db.getRepository(DataProduct).findOne({ where: { name }, relations: { domain: true } });
    if (!product) throw new NotFoundException(`no data product named '${name}'`);
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

  async version(name: string, version: string): Promise<unknown> {
    const product = await this.db.getRepository(DataProduct).findOneBy({ name });
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
