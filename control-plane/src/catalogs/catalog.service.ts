// Turns the registry into what Trino serves: writes the catalog file and mapping files, and applies the
// catalog to the running Trino with dynamic catalog management (no restart). Mapping changes need no
// Trino statement: the connector reloads a mapping directory whose files changed.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, ControlPlaneConfig } from '../config';
import { meshTablesOf } from '../gateway/policy/mesh-tables';
import { MeshMetrics } from '../metrics/mesh-metrics';
import { DataProduct, DataProductVersion } from '../registry/data-product.entity';
import { Endpoint } from '../registry/endpoint.entity';
import { CatalogState } from './catalog-state.entity';
import { CatalogDomain, catalogProperties, renderCatalogFile, renderMappingFile, ServingTable, servingTables } from './generation';
import { Binding } from './search-bindings';
import { trinoAccessRules } from './trino-access-rules';
import { TrinoAdmin } from './trino-admin';

export interface GenerationReport {
  catalog: string;
  domains: string[];
  tables: string[];
  /** Files whose content changed (written or removed) in this run. */
  changedFiles: string[];
  /** Whether the catalog was (re)created in Trino in this run. */
  catalogApplied: boolean;
  /** Tables Trino lists after the run, when it could be asked. */
  trinoTables?: string[];
  problems: string[];
}

@Injectable()
export class CatalogService {
  private readonly log = new Logger('catalogs');
  private readonly trino: TrinoAdmin;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(MeshMetrics) private readonly metrics: MeshMetrics,
  ) {
    this.trino = new TrinoAdmin(config);
  }

  get mappingsDir(): string {
    return path.join(this.config.generatedDir, 'sql-mappings');
  }

  get catalogsDir(): string {
    return path.join(this.config.generatedDir, 'catalogs');
  }

  /** Generates and applies; runs one at a time, so concurrent registry changes cannot interleave writes. */
  sync(reason: string): Promise<GenerationReport> {
    const run = this.queue.then(() => this.metrics.catalogSync(reason, () => this.syncNow(reason)));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** What the registry says Trino should serve. */
  async desired(): Promise<{ domains: CatalogDomain[]; tables: ServingTable[]; accessRules: string }> {
    const endpoints = await this.db.getRepository(Endpoint).find({ where: { status: 'active' }, relations: { domain: true } });
    const domains = endpoints.map((e) => ({
      odsCode: e.domain!.odsCode,
      baseUrl: e.baseUrl,
      authSecretRef: e.authSecretRef,
      name: e.domain!.name,
      kind: e.domain!.kind,
      region: e.domain!.region,
    }));
    const products = await this.db.getRepository(DataProduct).find();
    const versions = await this.db.getRepository(DataProductVersion).find();
    const tables = products.flatMap((p) =>
      servingTables(
        versions
          .filter((v) => v.productId === p.id)
          .map((v) => ({
            product: p.name,
            description: p.description,
            version: v,
            bindings: v.bindings as Record<string, Record<string, Binding>>,
            sources: v.sources,
          })),
      ),
    );
    return { domains, tables, accessRules: this.renderAccessRules(products, versions) };
  }

  /** Trino's whole rules file for these products (see trino-access-rules.ts). */
  private renderAccessRules(products: DataProduct[], versions: DataProductVersion[]): string {
    const { gateway } = this.config;
    const rules = trinoAccessRules({
      principals: { admins: [this.config.trinoUser, ...this.config.trinoOperators], gateway: gateway.trinoUser },
      sources: { catalog: this.config.catalogName, schema: 'default', patientIndex: gateway.patientIndex, optOut: gateway.optOut },
      excludedLabels: [...gateway.alwaysExcludedLabels, ...gateway.sensitivityLabels],
      catalogSessionProperties: gateway.sessionProperties.filter((p) => p.startsWith(`${this.config.catalogName}.`)).map((p) => p.split('.')[1]!),
      systemSessionProperties: gateway.sessionProperties.filter((p) => !p.includes('.')),
      tables: [...meshTablesOf(products, versions).values()],
    });
    return `${JSON.stringify(rules, null, 2)}\n`;
  }

  private async syncNow(reason: string): Promise<GenerationReport> {
    const { domains, tables, accessRules } = await this.desired();
    const properties = catalogProperties(domains, this.mappingsDir, this.config.catalogSettings);
    const report: GenerationReport = {
      catalog: this.config.catalogName,
      domains: domains.map((d) => d.odsCode).sort(),
      tables: tables.map((t) => t.table),
      changedFiles: [],
      catalogApplied: false,
      problems: [],
    };
    const known = new Set(report.domains);
    for (const t of tables) {
      const missing = t.domains.filter((d) => !known.has(d));
      if (missing.length)
        report.problems.push(`table ${t.table}: source domain ${missing.join(', ')} has no active endpoint; queries on it fail until one is registered`);
    }

    fs.mkdirSync(this.mappingsDir, { recursive: true });
    fs.mkdirSync(this.catalogsDir, { recursive: true });
    const catalogFile = path.join(this.catalogsDir, `${this.config.catalogName}.properties`);
    if (writeIfChanged(catalogFile, renderCatalogFile(properties))) report.changedFiles.push(catalogFile);

    // The catalog first, so a table never names a domain the catalog does not know yet.
    if (domains.length > 0) {
      try {
        report.catalogApplied = await this.applyCatalog(properties);
      } catch (e) {
        report.problems.push(`catalog not applied to Trino: ${(e as Error).message}`);
      }
    }
    // The rules before the mappings: a mapping that adds a column to a served table must not be read
    // before Trino holds the rule that hides or masks it, so wait for Trino's next reload of the file.
    fs.mkdirSync(path.dirname(this.config.trinoAccessRulesFile), { recursive: true, mode: 0o700 });
    if (writeIfChanged(this.config.trinoAccessRulesFile, accessRules, 0o600)) {
      report.changedFiles.push(this.config.trinoAccessRulesFile);
      const servedChanges = tables.some((t) => {
        const file = path.join(this.mappingsDir, `${t.table}.json`);
        return fs.existsSync(file) && fs.readFileSync(file, 'utf8') !== renderMappingFile(t);
      });
      if (servedChanges) await new Promise((resolve) => setTimeout(resolve, this.config.trinoAccessRulesRefreshMs + 1_000));
    }
    const wanted = new Set<string>();
    for (const t of tables) {
      const file = path.join(this.mappingsDir, `${t.table}.json`);
      wanted.add(file);
      if (writeIfChanged(file, renderMappingFile(t))) report.changedFiles.push(file);
    }
    for (const name of fs.readdirSync(this.mappingsDir)) {
      const file = path.join(this.mappingsDir, name);
      if (name.endsWith('.json') && !wanted.has(file)) {
        fs.rmSync(file);
        report.changedFiles.push(file);
      }
    }
    if (domains.length > 0) {
      try {
        report.trinoTables = await this.trino.tables(this.config.catalogName);
      } catch (e) {
        report.problems.push(`could not list Trino's tables: ${(e as Error).message}`);
      }
    }
    if (report.changedFiles.length || report.catalogApplied || report.problems.length) {
      this.log.log(
        `sync (${reason}): ${report.changedFiles.length} files changed, catalog ${report.catalogApplied ? 'applied' : 'unchanged'}` +
          `${report.problems.length ? `; problems: ${report.problems.join('; ')}` : ''}`,
      );
    }
    return report;
  }

  /**
   * The connector's circuit breakers, one row per Trino node and domain (`<catalog>.mesh.circuits`): each node
   * keeps its own, so a domain may be open on one node and closed on another.
   */
  async circuits(): Promise<EndpointCircuit[]> {
    const rows = await this.trino.query(
      `SELECT node, domain, state, consecutive_failures, CAST(opened_at AS varchar), last_failure, requests, failures ` +
        `FROM ${this.config.catalogName}.mesh.circuits ORDER BY domain, node`,
    );
    return rows.map(([node, domain, state, consecutiveFailures, openedAt, lastFailure, requests, failures]) => ({
      node: String(node),
      domain: String(domain),
      state: String(state) as EndpointCircuit['state'],
      consecutiveFailures: Number(consecutiveFailures),
      openedAt: openedAt === null ? null : String(openedAt),
      lastFailure: lastFailure === null ? null : String(lastFailure),
      requests: Number(requests),
      failures: Number(failures),
    }));
  }

  /** (Re)creates the catalog when its properties changed since the last apply, or Trino lost it. */
  private async applyCatalog(properties: Record<string, string>): Promise<boolean> {
    const hash = createHash('sha256').update(JSON.stringify(properties)).digest('hex');
    const state = await this.db.getRepository(CatalogState).findOneBy({ catalog: this.config.catalogName });
    const present = (await this.trino.catalogs()).includes(this.config.catalogName);
    if (present && state?.propertiesHash === hash) return false;
    await this.trino.replaceCatalog(this.config.catalogName, properties);
    await this.db.getRepository(CatalogState).save({ catalog: this.config.catalogName, propertiesHash: hash, appliedAt: new Date() });
    return true;
  }
}

/** One circuit breaker of the fhir connector (connector-spec: contracts of `<catalog>.mesh.circuits`). */
export interface EndpointCircuit {
  node: string;
  domain: string;
  state: 'closed' | 'open' | 'half_open';
  consecutiveFailures: number;
  openedAt: string | null;
  lastFailure: string | null;
  requests: number;
  failures: number;
}

/** Atomic write (temp file + rename) only when the content differs: readers never see half a file. */
export function writeIfChanged(file: string, content: string, mode?: number): boolean {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return false;
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content, { mode });
  fs.renameSync(temp, file);
  return true;
}
