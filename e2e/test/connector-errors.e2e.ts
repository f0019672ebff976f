// Failure is loud, names the domain, and never shows a secret: fhir catalogs created at run time
// (dynamic catalogs) against a closed port, an unknown partition, a missing secret and a broken mapping.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { OPS_TOKEN_FILE } from '../runtime/control-plane';
import { MAPPINGS_DIR } from '../runtime/fhir-catalog';
import { SECRETS } from '../runtime/secrets';
import { DOMAINS, FHIR_TOKEN_DIR, fhirBaseUrl } from '../runtime/topology';
import { closedPort } from './closed-port';
import { TrinoEngine } from './connector/engines';

const trino = new TrinoEngine();
const SECRET = 'sekret-bearer-3f9a1c';

async function createCatalog(name: string, properties: Record<string, string>): Promise<void> {
  const withClause = Object.entries(properties)
    .map(([key, value]) => `"${key}" = '${value}'`)
    .join(', ');
  await trino.query(`CREATE CATALOG ${name} USING fhir WITH (${withClause})`);
}

async function failure(sql: string): Promise<string> {
  try {
    await trino.query(sql);
  } catch (error) {
    // The engine appends the SQL to its error; only Trino's own message is under test.
    return (error as Error).message.split('\n  SQL:')[0]!;
  }
  throw new Error(`expected a failure from: ${sql}`);
}

describe('fhir connector: errors', function () {
  this.timeout(120_000);
  const created: string[] = [];
  const tempDirs: string[] = [];
  const tempFiles: string[] = [];

  async function catalog(name: string, properties: Record<string, string>): Promise<void> {
    await createCatalog(name, properties);
    created.push(name);
  }

  after(async () => {
    for (const name of created) await trino.query(`DROP CATALOG IF EXISTS ${name}`);
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
    for (const file of tempFiles) fs.rmSync(file, { force: true });
  });

  it('a token file outside the secrets directory, even through a symlink, fails CREATE CATALOG and sends nothing', async () => {
    // A listener on loopback stands in for an attacker's endpoint: it must never see a connection.
    const connections: string[] = [];
    const listener = net.createServer((socket) => {
      connections.push(`connection from ${socket.remoteAddress}`);
      socket.on('error', () => undefined);
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as net.AddressInfo;
    const opsToken = fs.readFileSync(OPS_TOKEN_FILE, 'utf8').trim();
    const link = path.join(FHIR_TOKEN_DIR, `e2e-escape-${process.pid}.token`);
    tempFiles.push(link);
    fs.symlinkSync(OPS_TOKEN_FILE, link);
    try {
      for (const [name, tokenFile] of [
        ['fhir_stolen', OPS_TOKEN_FILE],
        ['fhir_stolen_link', link],
      ] as const) {
        const message = await failure(
          `CREATE CATALOG ${name} USING fhir WITH ("fhir.domains" = 'RR8', ` +
            `"fhir.domain.RR8.base-url" = 'http://127.0.0.1:${port}/fhir', "fhir.domain.RR8.auth.bearer-token-file" = '${tokenFile}', ` +
            `"fhir.mappings.dir" = '${MAPPINGS_DIR}')`,
        );
        created.push(name);
        expect(message).to.include('fhir.domain.RR8.auth.bearer-token-file');
        expect(message).to.include(`is outside the secrets directory ${FHIR_TOKEN_DIR} (fhir.secrets-dir)`);
        if (tokenFile === link) expect(message).to.include(`resolves to ${fs.realpathSync(OPS_TOKEN_FILE)}`);
        expect(message).not.to.include(opsToken);
        // No catalog was made, so nothing can be read through it either.
        expect(await failure(`SELECT count(*) FROM ${name}.default.condition`)).to.match(/not found|does not exist/i);
      }
      // Give a request that should not exist time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(connections, 'requests that reached the listener').to.deep.equal([]);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('a token environment variable not named FHIR_MESH_TOKEN_* is refused when the catalog is created', async () => {
    const message = await failure(
      `CREATE CATALOG fhir_ops_env USING fhir WITH ("fhir.domains" = 'RX1', "fhir.domain.RX1.base-url" = '${fhirBaseUrl(DOMAINS[0]!)}', ` +
        `"fhir.domain.RX1.auth.bearer-token-env" = 'MESH_OPS_TOKEN', "fhir.mappings.dir" = '${MAPPINGS_DIR}')`,
    );
    created.push('fhir_ops_env');
    expect(message).to.include('fhir.domain.RX1.auth.bearer-token-env').and.include('FHIR_MESH_TOKEN_');
  });

  it('an unreachable endpoint fails quickly with the domain and resource type, and no token', async () => {
    // Token files are only read from the secrets directory Trino is started with (-Dfhir.secrets-dir).
    const tokenFile = path.join(FHIR_TOKEN_DIR, `e2e-zz9-${process.pid}.token`);
    tempFiles.push(tokenFile);
    fs.writeFileSync(tokenFile, SECRET, { mode: 0o600 });
    await catalog('fhir_down', {
      'fhir.domains': 'ZZ9',
      'fhir.domain.ZZ9.base-url': `http://127.0.0.1:${await closedPort()}/fhir/zz9`,
      'fhir.domain.ZZ9.auth.bearer-token-file': tokenFile,
      'fhir.mappings.dir': MAPPINGS_DIR,
      'fhir.retry.max-attempts': '2',
      'fhir.retry.max-time': '2s',
    });
    const started = Date.now();
    const message = await failure('SELECT count(*) FROM fhir_down.default.condition');
    expect(Date.now() - started).to.be.below(30_000);
    expect(message).to.include('FHIR_ENDPOINT_UNAVAILABLE');
    expect(message).to.include('ZZ9');
    expect(message).to.include('Condition');
    expect(message).not.to.include(SECRET);
  });

  it('an HTTP error names the domain, the resource type and the status', async () => {
    await catalog('fhir_missing', {
      'fhir.domains': 'NOPE',
      'fhir.domain.NOPE.base-url': `${fhirBaseUrl(DOMAINS[0]!).replace(/\/[^/]+$/, '')}/no-such-partition`,
      'fhir.mappings.dir': MAPPINGS_DIR,
    });
    const message = await failure("SELECT count(*) FROM fhir_missing.default.observation WHERE code = '8867-4'");
    expect(message).to.include('FHIR_HTTP_ERROR');
    expect(message).to.include('NOPE');
    expect(message).to.include('Observation');
    expect(message).to.include('404');
    // Query values (which may be identifiers) stay out of messages.
    expect(message).not.to.include('8867-4');
  });

  it('a token environment variable that is not set is named, not guessed', async () => {
    await catalog('fhir_noenv', {
      'fhir.domains': 'RX1',
      'fhir.domain.RX1.base-url': fhirBaseUrl(DOMAINS[0]!),
      'fhir.domain.RX1.auth.bearer-token-env': 'FHIR_MESH_TOKEN_THAT_IS_NOT_SET',
      'fhir.mappings.dir': MAPPINGS_DIR,
    });
    const message = await failure('SELECT count(*) FROM fhir_noenv.default.patient');
    expect(message).to.include('FHIR_MESH_TOKEN_THAT_IS_NOT_SET');
  });

  it('a misspelt catalog property is refused, naming it', async () => {
    const message = await failure(
      `CREATE CATALOG fhir_typo USING fhir WITH ("fhir.domains" = 'RX1', "fhir.domain.RX1.base-url" = '${fhirBaseUrl(DOMAINS[0]!)}', "fhir.mappings.dir" = '${MAPPINGS_DIR}', "fhir.page-sise" = '10')`,
    );
    expect(message).to.include('fhir.page-sise');
    created.push('fhir_typo');
  });

  it('a broken mapping file is reported by name while the other tables keep serving', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-mappings-'));
    tempDirs.push(dir);
    fs.copyFileSync(path.join(MAPPINGS_DIR, 'patient.json'), path.join(dir, 'patient.json'));
    const condition = JSON.parse(fs.readFileSync(path.join(MAPPINGS_DIR, 'condition.json'), 'utf8')) as { view: { select: { column: { path: string }[] }[] } };
    condition.view.select[0]!.column[1]!.path = 'subject.getReferenceKey(Patient';
    fs.writeFileSync(path.join(dir, 'condition.json'), JSON.stringify(condition));
    await catalog('fhir_broken', {
      'fhir.domains': 'RX1',
      'fhir.domain.RX1.base-url': fhirBaseUrl(DOMAINS[0]!),
      'fhir.domain.RX1.auth.bearer-token-file': SECRETS.fhirReaderToken(DOMAINS[0]!.id),
      'fhir.mappings.dir': dir,
    });
    const { rows } = await trino.query('SHOW TABLES FROM fhir_broken.default');
    expect(rows.flat()).to.deep.equal(['patient']);
    const message = await failure('SELECT count(*) FROM fhir_broken.default.condition');
    expect(message).to.include('FHIR_INVALID_MAPPING');
    expect(message).to.include('condition.json');
    const patients = await trino.query('SELECT count(*) FROM fhir_broken.default.patient');
    expect(patients.rows[0]![0]).to.be.above(0);
  });

  it('a mapping published into the directory is served without a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-mappings-'));
    tempDirs.push(dir);
    await catalog('fhir_live', {
      'fhir.domains': 'RX1',
      'fhir.domain.RX1.base-url': fhirBaseUrl(DOMAINS[0]!),
      'fhir.domain.RX1.auth.bearer-token-file': SECRETS.fhirReaderToken(DOMAINS[0]!.id),
      'fhir.mappings.dir': dir,
    });
    expect((await trino.query('SHOW TABLES FROM fhir_live.default')).rows).to.deep.equal([]);
    fs.copyFileSync(path.join(MAPPINGS_DIR, 'encounter.json'), path.join(dir, 'encounter.json'));
    expect((await trino.query('SHOW TABLES FROM fhir_live.default')).rows.flat()).to.deep.equal(['encounter']);
  });
});
