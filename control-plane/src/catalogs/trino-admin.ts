// The control plane's own statements to Trino (catalog management, dry runs), over trino-client: HTTPS
// trusting the configured CA, authenticated as the control plane's own Trino principal.
import { BasicAuth, Trino } from 'trino-client';
import { readSecretFile } from '../secret-file';

export class TrinoUnavailableError extends Error {}

/** A statement Trino refused: its error name and message, as Trino gave them. */
export class TrinoStatementError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TrinoConnection {
  trinoUrl: string;
  trinoUser: string;
  trinoPasswordFile: string;
  trinoCaFile: string;
}

export class TrinoAdmin {
  private readonly url: string;

  constructor(private readonly settings: TrinoConnection) {
    this.url = settings.trinoUrl;
  }

  /** A client per statement: credentials are read when used (the mesh creates them before Trino starts). */
  private client(): Trino {
    const password = readSecretFile(this.settings.trinoPasswordFile, "the control plane's Trino password");
    const ca = readSecretFile(this.settings.trinoCaFile, "the CA certificate of Trino's HTTPS");
    return Trino.create({ server: this.url, source: 'fhir-mesh-control-plane', auth: new BasicAuth(this.settings.trinoUser, password), ssl: { ca } });
  }

  /** @param session session properties of this statement (`catalog.property` -> value) */
  async query(sql: string, session: Record<string, string> = {}): Promise<unknown[][]> {
    let iterator: Awaited<ReturnType<Trino['query']>>;
    try {
      iterator = await this.client().query({ query: sql, session });
    } catch (e) {
      throw new TrinoUnavailableError(`Trino at ${this.url} is not reachable: ${(e as Error).message}`);
    }
    const rows: unknown[][] = [];
    for await (const result of iterator) {
      if (result.error) throw new TrinoStatementError(result.error.errorName, result.error.message);
      rows.push(...((result.data ?? []) as unknown[][]));
    }
    return rows;
  }

  async catalogs(): Promise<string[]> {
    return (await this.query('SELECT catalog_name FROM system.metadata.catalogs')).map((r) => String(r[0]));
  }

  async tables(catalog: string): Promise<string[]> {
    return (await this.query(`SELECT table_name FROM ${catalog}.information_schema.tables WHERE table_schema = 'default'`)).map((r) => String(r[0])).sort();
  }

  /**
   * Replaces a catalog (Trino's dynamic catalog management, no restart) without leaving Trino without it
   * when the connector refuses the new properties (a token file outside its folder, an unknown key): they
   * are tried first under a scratch name, and the serving catalog is dropped only once they are accepted.
   */
  async replaceCatalog(name: string, properties: Record<string, string>): Promise<void> {
    const { 'connector.name': connector, ...rest } = properties;
    const withClause = Object.entries(rest)
      .map(([k, v]) => `"${k}" = '${v.replace(/'/g, "''")}'`)
      .join(', ');
    const create = (catalog: string): string => `CREATE CATALOG ${catalog} USING ${connector} WITH (${withClause})`;
    const candidate = `${name}__candidate`;
    await this.query(`DROP CATALOG IF EXISTS ${candidate}`);
    await this.query(create(candidate));
    await this.query(`DROP CATALOG IF EXISTS ${candidate}`);
    await this.query(`DROP CATALOG IF EXISTS ${name}`);
    await this.query(create(name));
  }

  async dropCatalog(name: string): Promise<void> {
    await this.query(`DROP CATALOG IF EXISTS ${name}`);
  }
}
