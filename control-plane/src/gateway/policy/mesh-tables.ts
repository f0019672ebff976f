// The tables Trino serves from the registry, with each column's privacy tag: what the gateway rewrites
// against. Read through the same servingTables() the catalog generator uses, so the gateway's idea of a
// table is always the mapping the connector reads. Cached briefly: a publish shows within CACHE_MS.
import { DataSource } from 'typeorm';
import { servingTables } from '../../catalogs/generation';
import type { Binding } from '../../catalogs/search-bindings';
import { DataProduct, DataProductVersion, PrivacyTag } from '../../registry/data-product.entity';
import type { TableDefinition } from './policy-form';

export interface MeshTable extends TableDefinition {
  /** ODS codes of the domains the table reads. */
  domains: string[];
}

const CACHE_MS = 2_000;

export class MeshTables {
  private cached?: { at: number; tables: Promise<Map<string, MeshTable>> };

  constructor(private readonly db: DataSource) {}

  get(): Promise<Map<string, MeshTable>> {
    if (!this.cached || Date.now() - this.cached.at > CACHE_MS) {
      const tables = this.load();
      this.cached = { at: Date.now(), tables };
      tables.catch(() => (this.cached = undefined));
    }
    return this.cached.tables;
  }

  private async load(): Promise<Map<string, MeshTable>> {
    return meshTablesOf(await this.db.getRepository(DataProduct).find(), await this.db.getRepository(DataProductVersion).find());
  }
}

/** The serving tables of these products with their tags; pure (Trino's access rules are rendered from it too). */
export function meshTablesOf(products: DataProduct[], versions: DataProductVersion[]): Map<string, MeshTable> {
  // servingTables passes view objects through, so each can be traced back to its version's tags.
  const tagsOfView = new Map<unknown, Record<string, PrivacyTag>>();
  for (const v of versions) for (const view of v.views) tagsOfView.set(view, v.columnTags[String(view.name)] ?? {});
  const tables = new Map<string, MeshTable>();
  for (const p of products) {
    const mine = versions
      .filter((v) => v.productId === p.id)
      .map((v) => ({
        product: p.name,
        description: p.description,
        version: v,
        bindings: v.bindings as Record<string, Record<string, Binding>>,
        sources: v.sources,
      }));
    for (const t of servingTables(mine)) tables.set(t.table, { table: t.table, view: t.view, tags: tagsOfView.get(t.view) ?? {}, domains: t.domains });
  }
  return tables;
}
