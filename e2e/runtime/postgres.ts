// PostgreSQL from Debian's packages: one private cluster in .mesh/pgdata, TCP on loopback only, every
// login by password (scram-sha-256), one least-privilege role per service (topology.ts `postgres.roles`)
// and each role admitted to its own database only (pg_hba.conf). Holds the control plane's registry and
// the FHIR trusts' storage.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { Component, ComponentStatus } from './component';
import { assertPortFree, ComponentError, run, say, waitUntil } from './processes';
import { ensureSecret, SECRETS } from './secrets';
import { HOST, MESH_HOME, paths, ports, postgres } from './topology';

const NAME = 'postgres';
/**
 * The server's own log folder, beside the mesh's logs rather than inside them: when we are root the
 * server runs as `postgres`, which must not be able to enter the mesh's log folder (0700).
 */
const SERVER_LOG_DIR = path.join(MESH_HOME, 'postgres-log');
export const SERVER_LOG = path.join(SERVER_LOG_DIR, 'postgres.log');
const PG_ROOT = '/usr/lib/postgresql';

function pgBinDir(): string {
  const versions = fs.existsSync(PG_ROOT)
    ? fs
        .readdirSync(PG_ROOT)
        .filter((v) => fs.existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) return '';
  return path.join(PG_ROOT, newest, 'bin');
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function runPg(tool: string, args: string[]): string {
  const [command, fullArgs] = asServerUser(path.join(pgBinDir(), tool), args);
  return run(NAME, command, fullArgs, { cwd: '/' });
}

/** The superuser's connection string, password included: for the runtime and the test harness only. */
export function connectionString(database: string, role: string = postgres.user): string {
  const password = encodeURIComponent(ensureSecret(rolePasswordFile(role)));
  return `postgresql://${role}:${password}@${HOST}:${ports.postgres}/${database}`;
}

/** The same database for JVM clients (the FHIR server); the password goes through the environment. */
export function jdbcUrl(database: string): string {
  return `jdbc:postgresql://${HOST}:${ports.postgres}/${database}`;
}

/** Where each role's password lives: in the secrets folder of the process that logs in as it. */
export function rolePasswordFile(role: string): string {
  const files: Record<string, string> = {
    [postgres.user]: SECRETS.postgresSuperuser,
    [postgres.roles.fhir]: SECRETS.fhirDatabase,
    [postgres.roles.registryOwner]: SECRETS.registryOwner,
    [postgres.roles.registryApp]: SECRETS.registryApp,
    [postgres.roles.auditRetention]: SECRETS.auditRetention,
  };
  const file = Object.hasOwn(files, role) ? files[role] : undefined;
  if (file === undefined) throw new Error(`no password file for PostgreSQL role ${role}`);
  return file;
}

/**
 * Who may log in where: each service role to its own database, the superuser anywhere, by password over
 * loopback TCP; nothing else (no `trust`, no sockets). First matching line wins; no match is refused.
 */
export function hbaConf(): string {
  const r = postgres.roles;
  return [
    '# Written by the FHIR mesh runtime (e2e/runtime/postgres.ts); edits are overwritten at start.',
    '# TYPE  DATABASE  USER  ADDRESS  METHOD',
    `host ${postgres.fhirDatabase} ${r.fhir} ${HOST}/32 scram-sha-256`,
    `host ${postgres.registryDatabase} ${r.registryOwner},${r.registryApp},${r.auditRetention} ${HOST}/32 scram-sha-256`,
    `host all ${postgres.user} ${HOST}/32 scram-sha-256`,
    '',
  ].join('\n');
}

async function query<T>(database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: connectionString(database), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Tables, sequences, views and the public schema owned by the superuser are handed to `owner`. */
async function reassignFromSuperuser(client: Client, owner: string): Promise<void> {
  await client.query(`alter schema public owner to ${owner}`);
  await client.query(`
    do $$ declare o record; begin
      for o in select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'public' and c.relowner = (select oid from pg_roles where rolname = '${postgres.user}')
                 and c.relkind in ('r', 'S', 'v', 'm', 'p')
                 -- a serial's sequence moves with its table
                 and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')) loop
        execute format('alter %s %I owner to ${owner}',
          case o.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end, o.relname);
      end loop;
      for o in select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname = 'public' and p.proowner = (select oid from pg_roles where rolname = '${postgres.user}') loop
        execute format('alter function %s owner to ${owner}', o.sig);
      end loop;
    end $$`);
}

function readAsServerUser(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function writeAsServerUser(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  if (isRoot()) run(NAME, 'chown', ['postgres:postgres', file]);
}

async function acceptsConnections(): Promise<boolean> {
  return query('postgres', async (c) => (await c.query('select 1 as ok')).rows[0]?.ok === 1);
}

export class Postgres implements Component {
  readonly name = NAME;

  async prepare(): Promise<void> {
    if (!pgBinDir()) {
      if (!isRoot()) {
        throw new ComponentError(
          NAME,
          `PostgreSQL server binaries not found under ${PG_ROOT}; install Debian's ` +
            `'postgresql' package (sudo apt-get install -y postgresql) and run again`,
        );
      }
      say(NAME, `installing Debian package 'postgresql' (apt-get)`);
      run(NAME, 'apt-get', ['update', '-qq']);
      run(NAME, 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
    // Reachable by the server user through MESH_HOME, listable by nobody else.
    fs.mkdirSync(MESH_HOME, { recursive: true });
    if (isRoot()) fs.chmodSync(MESH_HOME, 0o711);
    if (!fs.existsSync(path.join(paths.pgData, 'PG_VERSION'))) {
      say(NAME, `initialising a private cluster in ${paths.pgData}`);
      // Parents first with normal modes (a recursive mkdir would make them 0700 too, and the server
      // user could not reach its data directory).
      fs.mkdirSync(path.dirname(paths.pgData), { recursive: true });
      fs.mkdirSync(paths.pgData, { mode: 0o700 });
      if (isRoot()) run(NAME, 'chown', ['postgres:postgres', paths.pgData]);
      // The superuser's password reaches initdb through a file only the server user can read.
      const pwfile = path.join(paths.pgData, '..', `.initdb-pw-${process.pid}`);
      fs.writeFileSync(pwfile, `${ensureSecret(SECRETS.postgresSuperuser)}\n`, { mode: 0o600 });
      try {
        if (isRoot()) run(NAME, 'chown', ['postgres:postgres', pwfile]);
        runPg('initdb', ['-D', paths.pgData, '-U', postgres.user, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale']);
      } finally {
        fs.rmSync(pwfile, { force: true });
      }
    }
    // The server runs as another user (postgres) when we are root: its log gets a folder of its own
    // (0700, its owner), so the mesh's log folder stays private to the mesh's user.
    fs.mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
    fs.chmodSync(paths.logs, 0o700);
    fs.mkdirSync(SERVER_LOG_DIR, { recursive: true, mode: 0o700 });
    if (isRoot()) run(NAME, 'chown', ['postgres:postgres', SERVER_LOG_DIR]);
  }

  async start(): Promise<boolean> {
    if (await acceptsConnections().catch(() => false)) {
      await this.ensureDatabases();
      return false;
    }
    await assertPortFree(NAME, ports.postgres);
    say(NAME, `starting on ${HOST}:${ports.postgres}`);
    const options = [
      `-p ${ports.postgres}`,
      `-c listen_addresses=${HOST}`,
      // TCP only: no socket files in shared folders, no clash with a system cluster.
      `-c unix_socket_directories=''`,
      '-c max_connections=200',
      '-c shared_buffers=256MB',
      // Synthetic, regenerable FHIR data: durability can give way to load speed. The registry's database
      // overrides this (ensureDatabases): its commits are on disk before they are acknowledged (RPO 0).
      '-c synchronous_commit=off',
    ].join(' ');
    runPg('pg_ctl', ['-D', paths.pgData, '-l', SERVER_LOG, '-o', options, '-w', '-t', '60', 'start']);
    await waitUntil(NAME, 'accepting connections', acceptsConnections, { timeoutMs: 30_000 });
    await this.ensureDatabases();
    return true;
  }

  /** Databases, roles, passwords and grants (idempotent), then pg_hba.conf: clusters made before
   * password authentication (trust) are moved over once their roles have passwords. */
  private async ensureDatabases(): Promise<void> {
    const r = postgres.roles;
    await query('postgres', async (client) => {
      // The statements below carry passwords: never into the server log, not even when one fails.
      await client.query("set log_statement = 'none'");
      await client.query('set log_min_error_statement = panic');
      for (const role of [postgres.user, r.fhir, r.registryOwner, r.registryApp, r.auditRetention]) {
        const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
        if (exists.rowCount === 0) await client.query(`create role ${role} login nosuperuser nocreatedb nocreaterole noinherit`);
        // scram-sha-256 is the server default; the literal is escaped by the driver's quoting rules.
        await client.query(`alter role ${role} password ${client.escapeLiteral(ensureSecret(rolePasswordFile(role)))}`);
      }
      for (const [database, owner] of [
        [postgres.registryDatabase, r.registryOwner],
        [postgres.fhirDatabase, r.fhir],
      ] as const) {
        const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (exists.rowCount === 0) await client.query(`create database ${database} owner ${owner}`);
        await client.query(`alter database ${database} owner to ${owner}`);
        // Registry, audit and budget writes are acknowledged only once in the WAL on disk: a crash loses none.
        if (database === postgres.registryDatabase) await client.query(`alter database ${database} set synchronous_commit = on`);
        // Nobody connects to a database that is not theirs (the superuser aside).
        await client.query(`revoke all on database ${database} from public`);
        await client.query(
          `grant connect on database ${database} to ${database === postgres.fhirDatabase ? r.fhir : `${r.registryOwner}, ${r.registryApp}, ${r.auditRetention}`}`,
        );
      }
    });
    // Objects made by the superuser in earlier meshes pass to their database's owner role.
    await query(postgres.fhirDatabase, (c) => reassignFromSuperuser(c, r.fhir));
    await query(postgres.registryDatabase, (c) => reassignFromSuperuser(c, r.registryOwner));
    const hba = path.join(paths.pgData, 'pg_hba.conf');
    if (readAsServerUser(hba) !== hbaConf()) {
      writeAsServerUser(hba, hbaConf());
      runPg('pg_ctl', ['-D', paths.pgData, 'reload']);
    }
  }

  async stop(): Promise<void> {
    if (!fs.existsSync(path.join(paths.pgData, 'postmaster.pid'))) return;
    say(NAME, 'stopping');
    runPg('pg_ctl', ['-D', paths.pgData, '-m', 'fast', '-w', 'stop']);
  }

  /** A crash, for resilience tests: the server stops at once, without a checkpoint; the next start replays the WAL. */
  async crash(): Promise<void> {
    say(NAME, 'stopping immediately (a simulated crash)');
    runPg('pg_ctl', ['-D', paths.pgData, '-m', 'immediate', '-w', 'stop']);
  }

  async status(): Promise<ComponentStatus[]> {
    const url = `postgresql://${HOST}:${ports.postgres}/${postgres.registryDatabase}`; // no credentials in status output
    try {
      const version = await query('postgres', async (c) => String((await c.query('show server_version')).rows[0]?.server_version));
      return [{ name: NAME, kind: 'postgres', url, healthy: true, detail: `PostgreSQL ${version}` }];
    } catch (e) {
      return [{ name: NAME, kind: 'postgres', url, healthy: false, detail: (e as Error).message }];
    }
  }
}
