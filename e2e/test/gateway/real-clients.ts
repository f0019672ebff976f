// The analysts' real clients against the SQL gateway: the Trino CLI (the mesh's cached executable jar) and
// the Trino JDBC driver from Maven Central, run by JdbcProbe.java with the JDK 25 source launcher. Both trust
// the mesh's CA as a PEM file and get the password from TRINO_PASSWORD, never from the command line.
import * as path from 'node:path';
import { cachedArtefact } from '../../runtime/maven-central';
import { trinoCliJar } from '../../runtime/mesh';
import { runCaptured } from '../../runtime/processes';
import { MESH_CA_CERT } from '../../runtime/secrets';
import { javaBin } from '../../runtime/toolchain';
import { gatewayUrl, HOST, ports, versions } from '../../runtime/topology';

export interface ClientLogin {
  user: string;
  /** The consumer's API token: their password at the gateway. */
  token: string;
  /** Extra credentials, e.g. { purpose: 'research', project: 'demo-cohort' }. */
  credentials: Record<string, string>;
}

export interface CliRun {
  exitCode: number | null;
  /** The rows of `--output-format JSON` (one object per line, keyed by column name). */
  rows: Record<string, unknown>[];
  stdout: string;
  stderr: string;
  /** The query id the CLI reported with --progress. */
  queryId?: string;
}

/** One statement through the Trino CLI, `--execute`, JSON output. */
export async function trinoCli(sql: string, login: ClientLogin): Promise<CliRun> {
  const args = [
    '--enable-native-access=ALL-UNNAMED', // the CLI's terminal library loads a native library; JDK 25 warns otherwise
    '-jar',
    await trinoCliJar(),
    '--server',
    gatewayUrl(),
    '--truststore-path',
    MESH_CA_CERT,
    '--user',
    login.user,
    '--password',
    ...Object.entries(login.credentials).flatMap(([name, value]) => ['--extra-credential', `${name}=${value}`]),
    '--output-format',
    'JSON',
    '--progress', // prints "Query <id>, FINISHED" on stderr: the id the audit is looked up by
    '--execute',
    sql,
  ];
  const { status, stdout, stderr } = await runCaptured(javaBin(), args, { env: { ...process.env, TRINO_PASSWORD: login.token } });
  const rows =
    status === 0
      ? stdout
          .split('\n')
          .filter((line) => line.trim())
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      : [];
  return { exitCode: status, rows, stdout, stderr, queryId: /Query (\S+), FINISHED/.exec(stderr)?.[1] };
}

export type JdbcStep =
  | { query: string }
  /** Parameters as `type:value`, type one of varchar, bigint, date, timestamp (JdbcProbe.java binds them). */
  | { prepared: string; parameters: string[] }
  | { tables: { catalog: string; schema: string; table: string } }
  | { columns: { catalog: string; schema: string; table: string; column: string } };

export type JdbcResult =
  | { columns: { name: string; type: string }[]; rows: unknown[][]; error?: undefined }
  | { error: { message: string; sqlState: string | null; errorCode: number } };

export function trinoJdbcJar(): Promise<string> {
  return cachedArtefact('trino-jdbc', { group: 'io.trino', artifact: 'trino-jdbc', version: versions.trino, extension: 'jar' });
}

export function jdbcUrl(login: ClientLogin, catalog = 'fhir', schema = 'default'): string {
  const credentials = Object.entries(login.credentials)
    .map(([name, value]) => `${name}:${value}`)
    .join(';');
  return `jdbc:trino://${HOST}:${ports.gateway}/${catalog}/${schema}?SSL=true&SSLTrustStorePath=${MESH_CA_CERT}&user=${login.user}&extraCredentials=${credentials}`;
}

/** Runs the steps over one JDBC connection, in order; one result per step. */
export async function trinoJdbc(steps: JdbcStep[], login: ClientLogin): Promise<JdbcResult[]> {
  const args = steps.flatMap((step): string[] => {
    if ('query' in step) return ['query', step.query];
    if ('prepared' in step) return ['prepared', step.prepared, String(step.parameters.length), ...step.parameters];
    if ('tables' in step) return ['tables', step.tables.catalog, step.tables.schema, step.tables.table];
    return ['columns', step.columns.catalog, step.columns.schema, step.columns.table, step.columns.column];
  });
  const probe = path.join(__dirname, 'JdbcProbe.java');
  // UTC, so a java.sql.Timestamp parameter means the same instant as the ground truth's.
  const { status, stdout, stderr } = await runCaptured(javaBin(), ['-Duser.timezone=UTC', '-cp', await trinoJdbcJar(), probe, jdbcUrl(login), ...args], {
    env: { ...process.env, TRINO_PASSWORD: login.token },
  });
  if (status !== 0) throw new Error(`JdbcProbe.java exited ${status}:\n${stderr.trim().split('\n').slice(-20).join('\n')}`);
  const results = stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as JdbcResult);
  if (results.length !== steps.length) throw new Error(`JdbcProbe.java answered ${results.length} of ${steps.length} steps:\n${stdout}\n${stderr}`);
  return results;
}
