// PostgreSQL from Debian's packages: one private cluster in .mesh/pgdata, TCP on loopback only, trust
// authentication for the single `mesh` role (no password exists to leak). Holds the control plane's
// registry and the FHIR trusts' storage.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { Component, ComponentStatus } from './component';
import { assertPortFree, ComponentError, logFile, run, say, waitUntil } from './processes';
import { HOST, paths, ports, postgres } from './topology';

const NAME = 'postgres';
const PG_ROOT = '/usr/lib/postgresql';

function pgBinDir(): string {
  const versions = fs.existsSync(PG_ROOT)
    ? fs.readdirSync(PG_ROOT).filter((v) => fs.existsSync(path.join(PG_ROOT, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
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

export function connectionString(database: string): string {
  return `postgresql://${postgres.user}@${HOST}:${ports.postgres}/${database}`;
}

/** The same database for JVM clients (the FHIR server); no password: trust auth on loopback. */
export function jdbcUrl(database: string): string {
  return `jdbc:postgresql://${HOST}:${ports.postgres}/${database}`;
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

async function acceptsConnections(): Promise<boolean> {
  return query('postgres', async (c) => (await c.query('select 1 as ok')).rows[0]?.ok === 1);
}

export class Postgres implements Component {
  readonly name = NAME;

  async prepare(): Promise<void> {
    if (!pgBinDir()) {
      if (!isRoot()) {
        throw new ComponentError(NAME, `PostgreSQL server binaries not found under ${PG_ROOT}; install Debian's ` +
          `'postgresql' package (sudo apt-get install -y postgresql) and run again`);
      }
      say(NAME, `installing Debian package 'postgresql' (apt-get)`);
      run(NAME, 'apt-get', ['update', '-qq']);
      run(NAME, 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
    if (!fs.existsSync(path.join(paths.pgData, 'PG_VERSION'))) {
      say(NAME, `initialising a private cluster in ${paths.pgData}`);
      // Parents first with normal modes (a recursive mkdir would make them 0700 too, and the server
      // user could not reach its data directory).
      fs.mkdirSync(path.dirname(paths.pgData), { recursive: true });
      fs.mkdirSync(paths.pgData, { mode: 0o700 });
      if (isRoot()) run(NAME, 'chown', ['postgres:postgres', paths.pgData]);
      runPg('initdb', ['-D', paths.pgData, '-U', postgres.user, '--auth=trust', '--encoding=UTF8', '--no-locale']);
    }
    // The server (possibly another user) writes its log here.
    fs.mkdirSync(paths.logs, { recursive: true });
    if (isRoot()) run(NAME, 'chmod', ['0777', paths.logs]);
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
      // Synthetic, regenerable data: durability can give way to load speed; the registry keeps fsync.
      '-c synchronous_commit=off',
    ].join(' ');
    runPg('pg_ctl', ['-D', paths.pgData, '-l', logFile(NAME), '-o', options, '-w', '-t', '60', 'start']);
    await waitUntil(NAME, 'accepting connections', acceptsConnections, { timeoutMs: 30_000 });
    await this.ensureDatabases();
    return true;
  }

  private async ensureDatabases(): Promise<void> {
    await query('postgres', async (client) => {
      for (const database of [postgres.registryDatabase, postgres.fhirDatabase]) {
        const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (exists.rowCount === 0) await client.query(`create database ${database}`);
      }
    });
  }

  async stop(): Promise<void> {
    if (!fs.existsSync(path.join(paths.pgData, 'postmaster.pid'))) return;
    say(NAME, 'stopping');
    runPg('pg_ctl', ['-D', paths.pgData, '-m', 'fast', '-w', 'stop']);
  }

  async status(): Promise<ComponentStatus[]> {
    const url = connectionString(postgres.registryDatabase);
    try {
      const version = await query('postgres', async (c) => String((await c.query('show server_version')).rows[0]?.server_version));
      return [{ name: NAME, kind: 'postgres', url, healthy: true, detail: `PostgreSQL ${version}` }];
    } catch (e) {
      return [{ name: NAME, kind: 'postgres', url, healthy: false, detail: (e as Error).message }];
    }
  }
}
