// Trino from Maven Central (trino-server-core, the minimal server tarball), single node on loopback,
// sized for 2 cores, with the project's plugin directory (connector/target/plugin/fhir) installed.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Component, ComponentStatus } from './component';
import { FHIR_CATALOG } from './fhir-catalog';
import { cachedArtefact } from './maven-central';
import { assertPortFree, ComponentError, httpsGet, readPid, rssMiB, run, runningPid, say, startDaemon, stopDaemon, waitUntil } from './processes';
import { ensureSecret, MESH_CA_CERT, SECRETS } from './secrets';
import { ensureServerPem } from './tls';
import { javaBin, mavenPackage } from './toolchain';
import { FHIR_TOKEN_DIR, HOST, meshShape, paths, ports, ROOT, trinoInternalUrl, trinoUrl, versions } from './topology';
import { trinoClient } from './trino-clients';
import { ACCESS_RULES_REFRESH_MS, trinoAccessRules, trinoPasswordFile } from './trino-security';

const NAME = 'trino';
const CONNECTOR_DIR = path.join(ROOT, 'connector');
const CONNECTOR_PLUGIN = path.join(CONNECTOR_DIR, 'target', 'plugin', 'fhir');
/** Catalog files the control plane generates; Trino reads them from here (see catalogs/README.md). */
export const CATALOG_DIR = path.join(paths.trinoHome, 'catalog');
/** Trino's access rules: written here at prepare, then by the control plane at every catalog sync. */
export const ACCESS_RULES_FILE = path.join(paths.trinoHome, 'etc', 'rules.json');

const HEAP = process.env.MESH_TRINO_HEAP ?? '3G';
const WORKER_HEAP = process.env.MESH_TRINO_WORKER_HEAP ?? '2G';
/** Trino's own server log (boot output goes to .mesh/logs/trino.log). */
export const SERVER_LOG = path.join(paths.logs, 'trino-server.log');
/** SHA-256 of the config.properties the running coordinator was started with (the file holds a secret). */
const RUNNING_CONFIG = path.join(paths.run, 'trino-config.sha256');

function installDir(): string {
  return path.join(paths.cache, `trino-server-core-${versions.trino}`);
}

/** One Trino JVM: the coordinator (home paths.trinoHome) or worker i (its own home, etc, data and log). */
interface TrinoNode {
  home: string;
  heap: string;
  nodeId: string;
  serverLog: string;
}

const COORDINATOR: TrinoNode = { home: paths.trinoHome, heap: HEAP, nodeId: 'fhir-mesh-local-1', serverLog: SERVER_LOG };

export function workerName(i: number): string {
  return `trino-worker-${i}`;
}

function workerNode(i: number): TrinoNode {
  const home = path.join(paths.trinoHome, 'workers', `worker-${i}`);
  return { home, heap: WORKER_HEAP, nodeId: `fhir-mesh-worker-${i}`, serverLog: path.join(paths.logs, `${workerName(i)}-server.log`) };
}

export function workerPort(i: number): number {
  return ports.trinoWorkerBase + i - 1;
}

/** The JVM flags Trino's launcher would add, plus sizing for a 2-core machine. */
function jvmArgs(node: TrinoNode = COORDINATOR): string[] {
  const etc = path.join(node.home, 'etc');
  return [
    '-server',
    `-Xmx${node.heap}`,
    '-XX:+UseG1GC',
    '-XX:G1HeapRegionSize=32M',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:ReservedCodeCacheSize=256M',
    '-XX:PerMethodRecompilationCutoff=10000',
    '-XX:PerBytecodeRecompilationCutoff=10000',
    '-XX:ActiveProcessorCount=2',
    '-Djdk.attach.allowAttachSelf=true',
    '-Djdk.nio.maxCachedBufferSize=2000000',
    `-Djava.io.tmpdir=${path.join(node.home, 'tmp')}`,
    // Trino 476's launcher predates JDK 25; these are the flags it needs on 24+.
    '--add-modules=jdk.incubator.vector',
    '--sun-misc-unsafe-memory-access=allow',
    '--enable-native-access=ALL-UNNAMED',
    `-Dconfig=${path.join(etc, 'config.properties')}`,
    `-Dlog.levels-file=${path.join(etc, 'log.properties')}`,
    // Keep the server log on stdout, i.e. in .mesh/logs/trino.log with everything else.
    '-Dlog.enable-console=true',
    `-Dlog.path=${node.serverLog}`,
    `-Dnode.data-dir=${path.join(node.home, 'data')}`,
    '-Dnode.environment=mesh',
    `-Dnode.id=${node.nodeId}`,
    `-Dnode.bind-ip=${HOST}`,
    `-Dnode.internal-address=${HOST}`,
    // The only folder the fhir connector reads bearer-token files from; set here, not in catalogs, which
    // any user allowed CREATE CATALOG writes.
    `-Dfhir.secrets-dir=${FHIR_TOKEN_DIR}`,
    '-cp',
    `${path.join(installDir(), 'lib')}/*`,
    'io.trino.server.TrinoServer',
  ];
}

/**
 * The fhir connector's per-domain request MBeans in Trino's own /metrics as well (each node its own, named
 * JMX_uk_nhs_fhirmesh_NAME_<catalog>_<domain>_TYPE_DomainRequests_ATTRIBUTE_<attribute>), for a Prometheus pointed at
 * Trino. The control plane reads the same MBeans through <catalog>.mesh.request_metrics (control-plane/src/metrics/connector-scrape.ts).
 */
const OPENMETRICS_CONNECTOR_MBEANS = 'openmetrics.jmx-object-names=uk.nhs.fhirmesh:type=DomainRequests,*';

function configProperties(): string {
  return [
    'coordinator=true',
    // With workers, splits run on them only: the coordinator plans, schedules and serves clients.
    `node-scheduler.include-coordinator=${meshShape().workers === 0}`,
    // Clients: HTTPS only, every caller authenticated by password (see trino-security.ts). Plain HTTP is
    // kept for Trino's own nodes, whose calls carry a token signed with the internal shared secret;
    // anyone else gets 403 there.
    `http-server.http.port=${ports.trinoInternal}`,
    'http-server.https.enabled=true',
    `http-server.https.port=${ports.trino}`,
    `http-server.https.keystore.path=${SECRETS.trinoHttps}`,
    'http-server.authentication.type=PASSWORD',
    // The gateway relays the protocol: Trino writes nextUri for the address the client used (X-Forwarded-*).
    'http-server.process-forwarded=true',
    `internal-communication.shared-secret=${ensureSecret(SECRETS.trinoSharedSecret)}`,
    `discovery.uri=${trinoInternalUrl()}`,
    `plugin.dir=${path.join(paths.trinoHome, 'plugin')}`,
    // Catalogs are files the control plane writes; dynamic management lets it add them without a restart.
    'catalog.management=dynamic',
    'catalog.store=file',
    // 2 cores: few drivers per task, memory bounded well inside the heap.
    'task.concurrency=2',
    'task.max-worker-threads=4',
    'query.max-memory=1GB',
    'query.max-memory-per-node=1GB',
    // The spooling protocol would let results bypass the gateway's disclosure control.
    'protocol.spooling.enabled=false',
    // The web UI shows any logged-in user thread dumps and cluster activity; off until the console issue.
    'web-ui.enabled=false',
    OPENMETRICS_CONNECTOR_MBEANS,
    '',
  ].join('\n');
}

/**
 * A worker: internal plain HTTP only (its calls signed with the shared secret), no client port, no password
 * authenticator or access rules (clients never reach it). Catalogs come from the coordinator with each
 * task (catalog.management=dynamic), so it has no catalog store of its own.
 */
function workerConfigProperties(i: number): string {
  return [
    'coordinator=false',
    `http-server.http.port=${workerPort(i)}`,
    `internal-communication.shared-secret=${ensureSecret(SECRETS.trinoSharedSecret)}`,
    `discovery.uri=${trinoInternalUrl()}`,
    `plugin.dir=${path.join(paths.trinoHome, 'plugin')}`,
    'catalog.management=dynamic',
    'task.concurrency=2',
    'task.max-worker-threads=4',
    'query.max-memory-per-node=1GB',
    OPENMETRICS_CONNECTOR_MBEANS,
    '',
  ].join('\n');
}

/** Plugin folder: the tarball's own plugins (symlinked) plus a fresh copy of the project's connector. */
function installPluginDir(): void {
  const pluginDir = path.join(paths.trinoHome, 'plugin');
  fs.rmSync(pluginDir, { recursive: true, force: true });
  fs.mkdirSync(pluginDir, { recursive: true });
  const bundled = path.join(installDir(), 'plugin');
  for (const plugin of fs.readdirSync(bundled)) fs.symlinkSync(path.join(bundled, plugin), path.join(pluginDir, plugin));
  fs.cpSync(CONNECTOR_PLUGIN, path.join(pluginDir, 'fhir'), { recursive: true });
}

export class Trino implements Component {
  readonly name = NAME;

  async prepare(): Promise<void> {
    if (!fs.existsSync(path.join(installDir(), 'lib'))) {
      const tarball = await cachedArtefact(NAME, {
        group: 'io.trino',
        artifact: 'trino-server-core',
        version: versions.trino,
        extension: 'tar.gz',
      });
      say(NAME, `unpacking ${path.basename(tarball)}`);
      run(NAME, 'tar', ['xzf', tarball, '-C', paths.cache]);
    }
    mavenPackage(NAME, CONNECTOR_DIR, path.join(CONNECTOR_PLUGIN, 'trino-fhir.jar'));

    const etc = path.join(paths.trinoHome, 'etc');
    for (const dir of [etc, CATALOG_DIR, path.join(paths.trinoHome, 'data'), path.join(paths.trinoHome, 'tmp')]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    // etc holds the internal shared secret and password hashes: the Trino process's eyes only.
    fs.chmodSync(etc, 0o700);
    fs.mkdirSync(FHIR_TOKEN_DIR, { recursive: true, mode: 0o700 });
    fs.chmodSync(FHIR_TOKEN_DIR, 0o700);
    ensureServerPem(SECRETS.trinoHttps, 'trino');
    fs.writeFileSync(path.join(etc, 'config.properties'), configProperties(), { mode: 0o600 });
    fs.writeFileSync(
      path.join(etc, 'password-authenticator.properties'),
      `password-authenticator.name=file\nfile.password-file=${path.join(etc, 'password.db')}\n`,
      { mode: 0o600 },
    );
    fs.writeFileSync(path.join(etc, 'password.db'), trinoPasswordFile(), { mode: 0o600 });
    // No fhir table for analysts until the control plane writes the registry's rules over this file.
    fs.writeFileSync(ACCESS_RULES_FILE, `${JSON.stringify(trinoAccessRules(FHIR_CATALOG), null, 2)}\n`, { mode: 0o600 });
    fs.writeFileSync(
      path.join(etc, 'access-control.properties'),
      `access-control.name=file\nsecurity.config-file=${ACCESS_RULES_FILE}\nsecurity.refresh-period=${ACCESS_RULES_REFRESH_MS}ms\n`,
      { mode: 0o600 },
    );
    // `mode` only applies to new files: tighten what an earlier version wrote.
    for (const file of fs.readdirSync(etc)) fs.chmodSync(path.join(etc, file), 0o600);
    fs.writeFileSync(path.join(etc, 'log.properties'), 'io.trino=INFO\n');
    // Trino 476 reads the file catalog store's settings from etc/catalog-store.properties (relative to
    // its working directory), not from config.properties.
    fs.writeFileSync(path.join(etc, 'catalog-store.properties'), `catalog.config-dir=${CATALOG_DIR}\n`);
  }

  async start(): Promise<boolean> {
    // A running coordinator started with other settings (e.g. --workers changed) is restarted to apply them.
    const config = path.join(paths.trinoHome, 'etc', 'config.properties');
    // (No record: a coordinator started before records were kept; it is trusted, as before.)
    const configHash = createHash('sha256').update(fs.readFileSync(config)).digest('hex');
    const applied = !fs.existsSync(RUNNING_CONFIG) || fs.readFileSync(RUNNING_CONFIG, 'utf8').trim() === configHash;
    if (runningPid(NAME) !== undefined && applied && (await isReady().catch(() => false))) return false;
    await stopDaemon(NAME); // a process left over from a failed start
    await assertPortFree(NAME, ports.trino);
    await assertPortFree(NAME, ports.trinoInternal);
    installPluginDir();
    say(NAME, `starting Trino ${versions.trino} on ${trinoUrl()} (heap ${HEAP})`);
    const pid = startDaemon(NAME, javaBin(), jvmArgs(), process.env, paths.trinoHome);
    fs.writeFileSync(RUNNING_CONFIG, `${configHash}\n`);
    const ms = await waitUntil(NAME, 'ready', isReady, { timeoutMs: 180_000, pid });
    say(NAME, `ready in ${(ms / 1000).toFixed(1)} s`);
    const log = fs.readFileSync(SERVER_LOG, 'utf8');
    if (!log.includes('uk.nhs.fhirmesh.trino.FhirPlugin')) {
      throw new ComponentError(NAME, `started, but did not load the project's fhir plugin from ${CONNECTOR_PLUGIN}`);
    }
    return true;
  }

  async stop(): Promise<void> {
    if (await stopDaemon(NAME)) say(NAME, 'stopped');
  }

  async status(): Promise<ComponentStatus[]> {
    const pid = runningPid(NAME);
    const base: ComponentStatus = { name: NAME, kind: 'trino', url: trinoUrl(), healthy: false, pid, rssMiB: pid ? rssMiB(pid) : undefined };
    try {
      const info = await serverInfo();
      return [{ ...base, healthy: !info.starting, detail: `Trino ${info.nodeVersion.version}${info.starting ? ' (starting)' : ''}` }];
    } catch (e) {
      return [{ ...base, detail: (e as Error).message }];
    }
  }
}

interface ServerInfo {
  starting: boolean;
  nodeVersion: { version: string };
}

/** GET /v1/info over HTTPS, trusting the mesh CA: public in Trino, so no password is sent. */
async function serverInfo(): Promise<ServerInfo> {
  const { status, body } = await httpsGet(`${trinoUrl()}/v1/info`, { ca: fs.readFileSync(MESH_CA_CERT), timeoutMs: 3000 });
  if (status !== 200) throw new Error(`GET /v1/info answered HTTP ${status}`);
  return JSON.parse(body) as ServerInfo;
}

async function isReady(): Promise<boolean> {
  return (await serverInfo()).starting === false;
}

/**
 * Worker i beside the coordinator (`--workers K`): same tarball and plugin folder, its own node id, data
 * folder, port and log. Started after the coordinator, one JVM at a time; ready once the coordinator lists it
 * as an active node.
 */
export class TrinoWorker implements Component {
  readonly name: string;
  private readonly node: TrinoNode;

  constructor(private readonly index: number) {
    this.name = workerName(index);
    this.node = workerNode(index);
  }

  async prepare(): Promise<void> {
    const etc = path.join(this.node.home, 'etc');
    for (const dir of [etc, path.join(this.node.home, 'data'), path.join(this.node.home, 'tmp')]) fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(etc, 0o700);
    fs.writeFileSync(path.join(etc, 'config.properties'), workerConfigProperties(this.index), { mode: 0o600 });
    fs.chmodSync(path.join(etc, 'config.properties'), 0o600);
    fs.writeFileSync(path.join(etc, 'log.properties'), 'io.trino=INFO\n');
  }

  async start(): Promise<boolean> {
    if (runningPid(this.name) !== undefined && (await workerActive(this.node.nodeId).catch(() => false))) return false;
    await stopDaemon(this.name);
    await assertPortFree(this.name, workerPort(this.index));
    say(this.name, `starting a Trino worker on ${HOST}:${workerPort(this.index)} (heap ${this.node.heap})`);
    const pid = startDaemon(this.name, javaBin(), jvmArgs(this.node), process.env, this.node.home);
    const ms = await waitUntil(this.name, 'an active node of the coordinator', () => workerActive(this.node.nodeId), { timeoutMs: 180_000, pid });
    say(this.name, `active in ${(ms / 1000).toFixed(1)} s`);
    return true;
  }

  async stop(): Promise<void> {
    if (await stopDaemon(this.name)) say(this.name, 'stopped');
  }

  async status(): Promise<ComponentStatus[]> {
    const pid = runningPid(this.name);
    const base: ComponentStatus = {
      name: this.name,
      kind: 'trino',
      url: `http://${HOST}:${workerPort(this.index)}`,
      healthy: false,
      pid,
      rssMiB: pid ? rssMiB(pid) : undefined,
    };
    if (pid === undefined) return [{ ...base, detail: 'not running' }];
    try {
      const active = await workerActive(this.node.nodeId);
      return [
        {
          ...base,
          healthy: active,
          detail: active ? `worker ${this.node.nodeId}, active` : `worker ${this.node.nodeId}: not an active node of the coordinator`,
        },
      ];
    } catch (e) {
      return [{ ...base, detail: (e as Error).message }];
    }
  }
}

/** The mesh's workers: as many as its shape asks, plus any left running from a larger start (to stop them). */
export function trinoWorkers(): TrinoWorker[] {
  let highest = meshShape().workers;
  for (const file of fs.existsSync(paths.run) ? fs.readdirSync(paths.run) : []) {
    const m = /^trino-worker-(\d+)\.pid$/.exec(file);
    if (m && readPid(workerName(Number(m[1]))) !== undefined) highest = Math.max(highest, Number(m[1]));
  }
  return Array.from({ length: highest }, (_, i) => new TrinoWorker(i + 1));
}

/** Trino's active nodes (node ids), as the coordinator sees them. */
export async function activeNodes(): Promise<{ nodeId: string; coordinator: boolean }[]> {
  const iterator = await trinoClient('fhir-mesh-runtime').query("SELECT node_id, coordinator FROM system.runtime.nodes WHERE state = 'active'");
  const nodes: { nodeId: string; coordinator: boolean }[] = [];
  for await (const result of iterator) {
    if (result.error) throw new Error(`system.runtime.nodes: ${result.error.message}`);
    for (const row of (result.data ?? []) as [string, boolean][]) nodes.push({ nodeId: row[0], coordinator: row[1] });
  }
  return nodes;
}

async function workerActive(nodeId: string): Promise<boolean> {
  return (await activeNodes()).some((n) => n.nodeId === nodeId);
}
