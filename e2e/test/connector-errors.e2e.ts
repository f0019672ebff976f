// Failure is loud, names the domain, and never shows a secret: fhir catalogs created at run time
// (dynamic catalogs) against a closed port, an unknown partition, a missing secret and a broken mapping.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { OPS_TOKEN_FILE } from '../runtime/control-plane';
import { MAPPINGS_DIR } from '../runtime/fhir-catalog';
import { SECRETS } from '../runtime/secrets';
import { DOMAINS, FHIR_TOKEN_DIR, fhirBaseUrl } from '../runtime/topology';
import { TRINO_USERS } from '../runtime/trino-security';
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

/**
 * A FHIR stand-in whose health the test switches: down, it answers 503 (a dropped connection would do too, but
 * Java's HTTP client resends a GET once on a dropped connection, blurring the count); up, it answers every search
 * with an empty Bundle. It counts the requests that reach it.
 */
async function switchableEndpoint(): Promise<{ port: number; requests: () => number; up: (healthy: boolean) => void; close: () => Promise<void> }> {
  let healthy = false;
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests++;
    if (!healthy) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/fhir+json' });
    response.end('{"resourceType":"Bundle","type":"searchset","total":0,"link":[],"entry":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests: () => requests,
    up: (value) => {
      healthy = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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

  it('a failing endpoint opens its circuit: later queries fail at once without a connection, then one probe is let through', async () => {
    const endpoint = await switchableEndpoint();
    try {
      const openDurationMs = 5000;
      await catalog('fhir_breaker', {
        'fhir.domains': 'ZZ8',
        'fhir.domain.ZZ8.base-url': `http://127.0.0.1:${endpoint.port}/fhir/zz8`,
        'fhir.mappings.dir': MAPPINGS_DIR,
        'fhir.retry.max-attempts': '1',
        'fhir.circuit.failure-threshold': '3',
        'fhir.circuit.open-duration': `${openDurationMs}ms`,
      });
      const sql = 'SELECT count(*) FROM fhir_breaker.default.condition';
      const circuitOpen = /FHIR domain ZZ8: circuit open since (\S+) after (\d+) consecutive failures \(last: (.+)\); next probe after (\S+)/;
      const circuit = async () => {
        const { rows } = await trino.query(
          "SELECT node, state, consecutive_failures, to_iso8601(opened_at), last_failure, requests, failures FROM fhir_breaker.mesh.circuits WHERE domain = 'ZZ8'",
        );
        expect(rows).to.have.length(1); // one Trino node in the local mesh
        const [node, state, consecutiveFailures, openedAt, lastFailure, requests, failures] = rows[0]! as [
          string,
          string,
          number,
          string | null,
          string | null,
          number,
          number,
        ];
        return { node, state, consecutiveFailures, openedAt, lastFailure, requests, failures };
      };
      expect(await circuit()).to.deep.include({ state: 'closed', consecutiveFailures: 0, openedAt: null, requests: 0, failures: 0 });

      // Queries fail on the 503s until three requests in a row have failed.
      let message = '';
      for (let query = 0; query < 6 && !circuitOpen.test(message); query++) message = await failure(sql);
      const refusal = circuitOpen.exec(message);
      expect(refusal, message).to.not.equal(null);
      expect(message).to.include('FHIR_ENDPOINT_UNAVAILABLE');
      expect(refusal![3]).to.match(/^\w+ \w+ failed: HTTP 503 Service Unavailable$/);
      const opened = await circuit();
      expect(opened.node).to.be.a('string').and.not.equal('');
      expect(opened.state).to.equal('open');
      expect(opened.consecutiveFailures).to.be.at.least(3);
      expect(Date.parse(opened.openedAt!)).to.equal(Date.parse(refusal![1]!));
      expect(Date.parse(refusal![4]!) - Date.parse(refusal![1]!)).to.equal(openDurationMs);
      expect(opened.lastFailure).to.match(/^FHIR domain ZZ8: /);
      // Every request let through reached the endpoint and failed; none was sent since.
      expect(opened.requests).to.equal(endpoint.requests());
      expect(opened.failures).to.equal(endpoint.requests());

      // While open: at once, the contract's message, and no request reaches the endpoint.
      const sent = endpoint.requests();
      for (let query = 0; query < 3; query++) {
        const started = Date.now();
        expect(await failure(sql)).to.match(circuitOpen);
        expect(Date.now() - started).to.be.below(openDurationMs);
      }
      expect(endpoint.requests()).to.equal(sent);

      // After the open duration exactly one probe goes out; it fails too, so the circuit opens again from then.
      await new Promise((resolve) => setTimeout(resolve, Date.parse(refusal![4]!) - Date.now() + 200));
      expect((await circuit()).state).to.equal('half_open');
      // The query carrying the probe fails with the probe's own error (any other request of it, with the refusal).
      expect(await failure(sql)).to.match(/FHIR domain ZZ8: .*(HTTP 503|circuit open since)/);
      expect(endpoint.requests()).to.equal(sent + 1);
      const reopened = await circuit();
      expect(reopened.state).to.equal('open');
      expect(Date.parse(reopened.openedAt!)).to.be.above(Date.parse(opened.openedAt!));

      // The endpoint recovers: the next probe succeeds and closes the circuit. A query running beside the probe
      // may still be refused while it runs, so at most one retry.
      endpoint.up(true);
      await new Promise((resolve) => setTimeout(resolve, Date.parse(reopened.openedAt!) + openDurationMs - Date.now() + 200));
      let rows: unknown[][] | undefined;
      for (let query = 0; query < 2 && !rows; query++) {
        rows = await trino.query(sql).then(
          (result) => result.rows,
          (error: Error) => {
            expect(error.message).to.match(circuitOpen);
            return undefined;
          },
        );
      }
      expect(rows).to.deep.equal([[0]]);
      expect(await circuit()).to.deep.include({ state: 'closed', consecutiveFailures: 0, openedAt: null });
    } finally {
      await endpoint.close();
    }
  });

  it('mesh.circuits and mesh.request_metrics are for the admins: the control plane and the operator read them, an analyst reaching Trino is refused', async () => {
    for (const user of [TRINO_USERS.ops, TRINO_USERS.controlPlane]) {
      const engine = new TrinoEngine(user, { asStored: false });
      const columns = (await engine.query('SHOW COLUMNS FROM fhir.mesh.circuits')).rows;
      expect(columns.map((c) => `${c[0]} ${c[1]}`)).to.deep.equal([
        'node varchar',
        'domain varchar',
        'state varchar',
        'consecutive_failures bigint',
        'opened_at timestamp(3) with time zone',
        'last_failure varchar',
        'requests bigint',
        'failures bigint',
      ]);
      const { rows } = await engine.query('SELECT * FROM fhir.mesh.circuits');
      expect(rows.map((row) => row[1])).to.include.members(DOMAINS.map((domain) => domain.odsCode));
      for (const row of rows) expect(['closed', 'open', 'half_open']).to.include(row[2]);
    }
    // The connector's request figures per domain (read by /metrics) are the operators' too.
    for (const table of ['circuits', 'request_metrics']) {
      let refusal = '';
      try {
        await new TrinoEngine(TRINO_USERS.analyst).query(`SELECT * FROM fhir.mesh.${table}`);
      } catch (error) {
        refusal = (error as Error).message;
      }
      expect(refusal, table).to.match(/Access Denied/i);
    }
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
