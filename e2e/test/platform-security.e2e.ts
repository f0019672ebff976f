// The data path's other doors (issue 16, items 2 and 3): the FHIR servers authenticate their callers, and
// PostgreSQL admits each service only by password, only to its own database, with only what it needs —
// the control plane's own role cannot rewrite or delete audit entries or switch the audit trigger off.
// Each refusal has a positive control, so a test cannot pass because the action was impossible anyway.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import { loaderAuthorization } from '../runtime/load';
import { connectionString, hbaConf, rolePasswordFile, SERVER_LOG } from '../runtime/postgres';
import { readSecret, SECRETS } from '../runtime/secrets';
import { DOMAINS, fhirBaseUrl, HOST, MESH_HOME, paths, ports, postgres } from '../runtime/topology';
import { readerHeaders } from './fhir-client';

const RX1 = DOMAINS[0]!;
const RTH = DOMAINS[1]!;

async function fhir(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; authenticate: string | null }> {
  const response = await fetch(url, { ...init, headers: { accept: 'application/fhir+json', ...(init.headers as Record<string, string> | undefined) } });
  return { status: response.status, text: await response.text(), authenticate: response.headers.get('www-authenticate') };
}

const patient = (id: string): string => JSON.stringify({ resourceType: 'Patient', id, gender: 'unknown' });

describe('FHIR servers authenticate their callers', function () {
  this.timeout(60_000);

  it('serves the CapabilityStatement to anyone, and nothing else without a known bearer token', async () => {
    expect((await fhir(`${fhirBaseUrl(RX1)}/metadata`)).status).to.equal(200);
    const anonymous = await fhir(`${fhirBaseUrl(RX1)}/Patient?_count=1`);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.authenticate).to.match(/^Bearer/);
    expect(anonymous.text).to.include('Authorization: Bearer');
    const unknown = await fhir(`${fhirBaseUrl(RX1)}/Patient?_count=1`, { headers: { authorization: 'Bearer not-a-token-anyone-holds' } });
    expect(unknown.status).to.equal(401);
    const reader = await fhir(`${fhirBaseUrl(RX1)}/Patient?_count=1`, { headers: readerHeaders(RX1.id) });
    expect(reader.status, reader.text.slice(0, 300)).to.equal(200);
  });

  it("keeps a trust's reader token to that trust", async () => {
    const elsewhere = await fhir(`${fhirBaseUrl(RTH)}/Patient?_count=1`, { headers: readerHeaders(RX1.id) });
    expect(elsewhere.status).to.equal(403);
    expect(elsewhere.text).to.include("may not access tenant 'rth'");
  });

  it('refuses writes and deletes to readers and to anonymous callers; the loader may write', async () => {
    const id = `e2e-auth-${Date.now()}`;
    const put = (headers: Record<string, string>) =>
      fhir(`${fhirBaseUrl(RX1)}/Patient/${id}`, {
        method: 'PUT',
        body: patient(id),
        headers: { 'content-type': 'application/fhir+json', ...headers },
      });
    expect((await put({})).status).to.equal(401);
    const byReader = await put(readerHeaders(RX1.id));
    expect(byReader.status).to.equal(403);
    expect(byReader.text).to.include('may only read');
    expect((await fhir(`${fhirBaseUrl(RX1)}/Patient?_id=${id}`, { method: 'DELETE' })).status).to.equal(401);
    expect((await fhir(`${fhirBaseUrl(RX1)}/Patient?_id=${id}`, { method: 'DELETE', headers: readerHeaders(RX1.id) })).status).to.equal(403);
    expect(
      (
        await fhir(fhirBaseUrl(RX1), {
          method: 'POST',
          body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [] }),
          headers: { 'content-type': 'application/fhir+json', ...readerHeaders(RX1.id) },
        })
      ).status,
    ).to.equal(403);

    // Positive control: the loader's write token creates and deletes the same resource.
    const created = await put(loaderAuthorization());
    expect(created.status, created.text.slice(0, 300)).to.be.oneOf([200, 201]);
    const deleted = await fhir(`${fhirBaseUrl(RX1)}/Patient/${id}`, { method: 'DELETE', headers: loaderAuthorization() });
    expect(deleted.status).to.be.oneOf([200, 204]);
  });

  it("does not page another trust's search with this trust's token (_getpages)", async () => {
    const first = await fhir(`${fhirBaseUrl(RX1)}/Patient?_count=2`, { headers: readerHeaders(RX1.id) });
    expect(first.status).to.equal(200);
    const next = (JSON.parse(first.text) as { link: { relation: string; url: string }[] }).link.find((l) => l.relation === 'next')!.url;
    const searchId = new URL(next).searchParams.get('_getpages')!;
    // Positive control: the owner pages its own search.
    const own = await fhir(`${fhirBaseUrl(RX1)}?_getpages=${searchId}&_getpagesoffset=2&_count=2`, { headers: readerHeaders(RX1.id) });
    expect(own.status, own.text.slice(0, 200)).to.equal(200);
    expect(own.text).to.include('"resourceType":"Patient"');
    for (const tenant of [RTH.id, 'onboarding']) {
      const other = await fhir(`${fhirBaseUrl(RX1).replace(/rx1$/, tenant)}?_getpages=${searchId}&_getpagesoffset=2&_count=2`, {
        headers: readerHeaders(tenant),
      });
      expect(other.status, `${tenant}: ${other.text.slice(0, 200)}`).to.equal(403);
      expect(other.text).not.to.include('"resourceType":"Patient"');
      expect(other.text).to.include("another tenant's search");
    }
  });

  it('refuses a NUL in a search value with 400 naming the parameter, and logs failures without their values', async () => {
    const marker = `9990${Date.now() % 1_000_000}x`;
    const nul = await fhir(`${fhirBaseUrl(RX1)}/Patient?_id=a%00b`, { headers: readerHeaders(RX1.id) });
    expect(nul.status).to.equal(400);
    expect(nul.text).to.include("search parameter '_id' contains a NUL character");
    expect(nul.text).not.to.match(/invalid byte sequence|portal/);
    const bad = await fhir(`${fhirBaseUrl(RX1)}/Patient?birthdate=${marker}`, { headers: readerHeaders(RX1.id) });
    expect(bad.status).to.equal(400);
    const log = fs.readFileSync(path.join(paths.logs, 'fhir.log'), 'utf8');
    expect(log).to.include('request failed: InvalidRequestException HAPI-1883, HTTP 400, tenant rx1');
    expect(log, 'the value of a failed search').not.to.include(marker);
  });

  it('keeps only token hashes in its callers file, in a private folder', () => {
    const callers = fs.readFileSync(SECRETS.fhirCallers, 'utf8');
    for (const domain of DOMAINS) expect(callers).not.to.include(readSecret(SECRETS.fhirReaderToken(domain.id)));
    expect(callers).not.to.include(readSecret(SECRETS.fhirLoaderToken));
    expect(fs.statSync(paths.secrets).mode & 0o777).to.equal(0o700);
    expect(fs.statSync(SECRETS.fhirCallers).mode & 0o777).to.equal(0o600);
  });
});

async function connect(role: string, database: string, password?: string): Promise<Client> {
  const client = new Client({ host: HOST, port: ports.postgres, user: role, database, password, connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
}

async function loginError(role: string, database: string, password?: string): Promise<string> {
  try {
    const client = await connect(role, database, password);
    await client.end();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${role} logged in to ${database}`);
}

async function sqlError(client: Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.query('rollback').catch(() => undefined);
  }
  throw new Error(`allowed: ${sql}`);
}

const password = (role: string): string => readSecret(rolePasswordFile(role));

describe('PostgreSQL admits each service by password, to its own database, with least privilege', function () {
  this.timeout(60_000);

  it('refuses logins without the password or with a wrong one, for the superuser too', async () => {
    expect(await loginError(postgres.user, postgres.registryDatabase)).to.match(/password/i);
    expect(await loginError(postgres.user, postgres.registryDatabase, 'wrong')).to.match(/password authentication failed/);
    expect(await loginError(postgres.roles.registryApp, postgres.registryDatabase, 'wrong')).to.match(/password authentication failed/);
    const hba = hbaConf();
    expect(hba).not.to.match(/\btrust\b/);
    const superuser = new Client({ connectionString: connectionString('postgres') });
    await superuser.connect();
    try {
      const { rows } = await superuser.query(`select count(*)::int as trusting from pg_hba_file_rules where auth_method in ('trust', 'password', 'md5')`);
      expect(rows[0].trusting, 'pg_hba.conf lines that are not scram-sha-256').to.equal(0);
    } finally {
      await superuser.end();
    }
  });

  it("keeps the FHIR server's role out of the registry and the control plane out of FHIR storage", async () => {
    expect(await loginError(postgres.roles.fhir, postgres.registryDatabase, password(postgres.roles.fhir))).to.match(/no pg_hba\.conf entry|permission denied/);
    expect(await loginError(postgres.roles.registryApp, postgres.fhirDatabase, password(postgres.roles.registryApp))).to.match(
      /no pg_hba\.conf entry|permission denied/,
    );
    const fhirRole = await connect(postgres.roles.fhir, postgres.fhirDatabase, password(postgres.roles.fhir));
    await fhirRole.end();
  });

  it('lets the control plane append to the audit log, never edit, delete, truncate or unhook it', async () => {
    const app = await connect(postgres.roles.registryApp, postgres.registryDatabase, password(postgres.roles.registryApp));
    try {
      const { rows } = await app.query('select count(*)::int as n from audit_log');
      expect(rows[0].n, 'the app reads the audit log').to.be.greaterThan(0);
      expect(await sqlError(app, `update audit_log set actor = 'someone else'`)).to.match(/permission denied for table audit_log/);
      // The trick that used to work: a custom setting any session may set.
      await app.query('begin');
      await app.query(`set local mesh.audit_retention = 'on'`);
      expect(await sqlError(app, 'delete from audit_log where id = (select max(id) from audit_log)')).to.match(/permission denied for table audit_log/);
      expect(await sqlError(app, 'truncate audit_log')).to.match(/permission denied for table audit_log/);
      expect(await sqlError(app, 'alter table audit_log disable trigger audit_log_append_only')).to.match(/must be owner of table audit_log/);
      expect(await sqlError(app, 'drop function audit_log_append_only() cascade')).to.match(/must be owner of function/);
      expect(await sqlError(app, 'create table squatter (x int)')).to.match(/permission denied for schema public/);
    } finally {
      await app.end();
    }
  });

  it('lets the retention role delete only audit entries past the 30-day floor', async () => {
    const retention = await connect(postgres.roles.auditRetention, postgres.registryDatabase, password(postgres.roles.auditRetention));
    try {
      expect(await sqlError(retention, 'delete from audit_log where id = (select max(id) from audit_log)')).to.match(
        /append-only \(DELETE refused for mesh_audit_retention\)/,
      );
      expect(await sqlError(retention, `update audit_log set actor = 'x'`)).to.match(/permission denied/);
      // Positive control: a delete of nothing old enough is allowed (the job's normal run).
      const old = await retention.query(`delete from audit_log where at < now() - interval '3650 days'`);
      expect(old.rowCount).to.equal(0);
    } finally {
      await retention.end();
    }
  });

  it('keeps every folder and log of the mesh private to its user (synthetic patients, caches, configurations)', () => {
    const me = process.getuid?.();
    for (const entry of fs.readdirSync(MESH_HOME)) {
      const full = path.join(MESH_HOME, entry);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) continue;
      // PostgreSQL's own folders belong to its user (0700); everything else is ours alone.
      expect(stat.mode & 0o077, `${entry} is open to others (mode ${(stat.mode & 0o777).toString(8)})`).to.equal(0);
      if (stat.uid !== me) expect(stat.mode & 0o777, entry).to.equal(0o700);
    }
    for (const entry of fs.readdirSync(paths.logs)) {
      const stat = fs.statSync(path.join(paths.logs, entry));
      if (stat.isFile()) expect(stat.mode & 0o077, `logs/${entry}`).to.equal(0);
    }
    if (me === 0) {
      // As an unprivileged local user: no synthetic patient is readable.
      const attempt = spawnSync('runuser', ['-u', 'nobody', '--', 'head', '-c', '1', path.join(paths.synthetic, DOMAINS[0]!.id, 'Patient.ndjson')], {
        encoding: 'utf8',
      });
      expect(attempt.status, attempt.stdout).not.to.equal(0);
      expect(attempt.stderr).to.match(/Permission denied/);
    }
  });

  it("writes PostgreSQL's log in a folder of its own, not readable by others, and no password into it", () => {
    expect(fs.statSync(SERVER_LOG).mode & 0o077).to.equal(0);
    const log = fs.readFileSync(SERVER_LOG, 'utf8');
    for (const role of [postgres.user, ...Object.values(postgres.roles)]) expect(log, `${role}'s password`).not.to.include(password(role));
    expect(fs.statSync(paths.logs).mode & 0o777).to.equal(0o700);
  });
});
