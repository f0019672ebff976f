// The control plane (control-plane/, NestJS) as a mesh component: started with tsx from the sources,
// after Trino, because at start-up it makes Trino's `fhir` catalog match the registry.
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { Component, ComponentStatus } from './component';
import { assertPortFree, ComponentError, httpOk, rssMiB, run, runningPid, say, startDaemon, stopDaemon, waitUntil } from './processes';
import { MESH_CA_CERT, SECRETS } from './secrets';
import { ensureServerPem } from './tls';
import { controlPlaneUrl, gatewayUrl, HOST, MESH_HOME, paths, ports, postgres, ROOT, trinoUrl } from './topology';
import { ACCESS_RULES_FILE } from './trino';
import { ACCESS_RULES_REFRESH_MS, TRINO_OPERATORS, TRINO_USERS } from './trino-security';

const NAME = 'control-plane';
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(ROOT, 'control-plane', 'src', 'main.ts');
const VITE = path.join(ROOT, 'node_modules', '.bin', 'vite');
/** The web console's sources (React + Vite); the control plane serves its build, dist/, at /console/. */
export const CONSOLE_DIR = path.join(ROOT, 'control-plane', 'console');
/** Where the control plane writes the bootstrap ops token (see control-plane/src/auth/ops-bootstrap.ts). */
export const OPS_TOKEN_FILE = path.join(MESH_HOME, 'run', 'ops-token');
/** Where the control plane writes the catalog and mapping files it generates from its registry. */
export const GENERATED_DIR = path.join(MESH_HOME, 'generated');

/**
 * Every setting control-plane/src/config.ts reads, from this mesh's topology: the runtime is the one
 * source of ports, roles and files, and the control plane's own defaults serve only runs by hand.
 */
export function controlPlaneEnvironment(): Record<string, string> {
  const registry = (role: string): string => `postgresql://${role}@${HOST}:${ports.postgres}/${postgres.registryDatabase}`;
  return {
    MESH_HOME,
    MESH_CP_HOST: HOST,
    MESH_CP_PORT: String(ports.controlPlane),
    MESH_REGISTRY_URL: registry(postgres.roles.registryApp),
    MESH_REGISTRY_PASSWORD_FILE: SECRETS.registryApp,
    MESH_REGISTRY_OWNER_URL: registry(postgres.roles.registryOwner),
    MESH_REGISTRY_OWNER_PASSWORD_FILE: SECRETS.registryOwner,
    MESH_AUDIT_RETENTION_URL: registry(postgres.roles.auditRetention),
    MESH_AUDIT_RETENTION_PASSWORD_FILE: SECRETS.auditRetention,
    MESH_TRINO_URL: trinoUrl(),
    MESH_CP_TRINO_USER: TRINO_USERS.controlPlane,
    MESH_CP_TRINO_PASSWORD_FILE: SECRETS.controlPlaneTrino,
    MESH_TRINO_OPERATORS: TRINO_OPERATORS.join(','),
    MESH_TRINO_ACCESS_RULES_FILE: ACCESS_RULES_FILE,
    MESH_TRINO_ACCESS_RULES_REFRESH_MS: String(ACCESS_RULES_REFRESH_MS),
    MESH_TRINO_CA_FILE: MESH_CA_CERT,
    MESH_GENERATED_DIR: GENERATED_DIR,
    MESH_SPEC_DIR: path.join(ROOT, 'connector-spec'),
    MESH_OPS_TOKEN_FILE: OPS_TOKEN_FILE,
    MESH_AUDIT_ANCHOR_FILE: path.join(paths.run, 'audit-anchor.jsonl'),
    MESH_AUDIT_ANCHOR_KEY_FILE: SECRETS.auditAnchorKey,
    MESH_GATEWAY_HOST: HOST,
    MESH_GATEWAY_PORT: String(ports.gateway),
    MESH_GATEWAY_TLS_PEM: SECRETS.gatewayTls,
    MESH_GATEWAY_TRINO_USER: TRINO_USERS.gateway,
    MESH_GATEWAY_TRINO_PASSWORD_FILE: SECRETS.gatewayTrino,
    MESH_PSEUDONYM_KEY_FILE: SECRETS.pseudonymKey,
  };
}

export function opsToken(): string {
  if (process.env.MESH_OPS_TOKEN) return process.env.MESH_OPS_TOKEN;
  try {
    return fs.readFileSync(OPS_TOKEN_FILE, 'utf8').trim();
  } catch {
    throw new Error(`no ops token: ${OPS_TOKEN_FILE} is missing (has the control plane started once?)`);
  }
}

function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca: fs.readFileSync(MESH_CA_CERT), timeout: 3000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 3 s')));
    request.on('error', reject);
  });
}

async function isReady(): Promise<boolean> {
  return httpOk(`${controlPlaneUrl()}/api/v1/health`, 3000);
}

export class ControlPlane implements Component {
  readonly name = NAME;

  async prepare(): Promise<void> {
    fs.mkdirSync(paths.run, { recursive: true });
    // The gateway's HTTPS certificate, from the mesh's CA (clients trust .mesh/run/mesh-ca.pem).
    ensureServerPem(SECRETS.gatewayTls, 'fhir-mesh-gateway');
    buildConsoleIfStale();
  }

  async start(): Promise<boolean> {
    if (runningPid(NAME) !== undefined && (await isReady().catch(() => false))) return false;
    await stopDaemon(NAME);
    await assertPortFree(NAME, ports.controlPlane);
    await assertPortFree(NAME, ports.gateway);
    say(NAME, `starting the admin API on ${controlPlaneUrl()}`);
    // The topology's values win over any left in the caller's environment: the roles and files this runtime made.
    const pid = startDaemon(NAME, TSX, [MAIN], { ...process.env, ...controlPlaneEnvironment(), NO_COLOR: '1' }, ROOT);
    const ms = await waitUntil(NAME, 'ready', isReady, { timeoutMs: 120_000, pid });
    say(NAME, `ready in ${(ms / 1000).toFixed(1)} s`);
    return true;
  }

  async stop(): Promise<void> {
    if (await stopDaemon(NAME)) say(NAME, 'stopped');
  }

  async status(): Promise<ComponentStatus[]> {
    const pid = runningPid(NAME);
    const base: ComponentStatus = { name: NAME, kind: 'control-plane', url: controlPlaneUrl(), healthy: false, pid, rssMiB: pid ? rssMiB(pid) : undefined };
    let admin: ComponentStatus;
    try {
      admin = { ...base, healthy: await isReady(), detail: 'admin API /api/v1' };
    } catch (e) {
      admin = { ...base, detail: (e as Error).message };
    }
    const gateway: ComponentStatus = { name: 'gateway', kind: 'gateway', url: gatewayUrl(), healthy: false, pid };
    const circuits = admin.healthy ? await circuitStatus() : [];
    try {
      // /v1/info is relayed to Trino: up means the analysts' whole path answers.
      const status = await httpsStatus(`${gatewayUrl()}/v1/info`);
      return [
        admin,
        { ...gateway, healthy: status === 200, detail: status === 200 ? 'SQL gateway (Trino protocol, HTTPS)' : `HTTP ${status} from /v1/info` },
        ...circuits,
      ];
    } catch (e) {
      return [admin, { ...gateway, detail: (e as Error).message }, ...circuits];
    }
  }
}

/**
 * `npm run console:build` when the console's bundle is missing or older than any of its sources, so a mesh
 * always serves the console its sources describe; the control plane reads dist/ from disk, no restart needed.
 */
export function buildConsoleIfStale(): void {
  const index = path.join(CONSOLE_DIR, 'dist', 'index.html');
  const builtAt = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  if (builtAt > newestModification(CONSOLE_DIR)) return;
  say(NAME, builtAt ? 'rebuilding the web console (its sources changed)' : 'building the web console');
  try {
    run(NAME, VITE, ['build', CONSOLE_DIR], { cwd: ROOT });
  } catch (e) {
    throw new ComponentError(NAME, `the web console does not build (npm run console:build): ${(e as Error).message}`);
  }
}

/** The newest modification time of the console's sources (dist/ and node_modules/ left out). */
function newestModification(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

interface Circuit {
  node: string;
  domain: string;
  state: string;
  openedAt: string | null;
  lastFailure: string | null;
}

/**
 * The connector's circuit breakers through the admin API: one line when every one is closed, else a line per
 * domain and node that is not (open: its requests fail at once).
 */
async function circuitStatus(): Promise<ComponentStatus[]> {
  const url = `${controlPlaneUrl()}/api/v1/catalogs/circuits`;
  const base = { kind: 'circuit' as const, url };
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${opsToken()}` }, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return [{ ...base, name: 'circuits', healthy: false, detail: `HTTP ${response.status} from the admin API` }];
    const circuits = (await response.json()) as Circuit[];
    const notClosed = circuits.filter((c) => c.state !== 'closed');
    const domains = new Set(circuits.map((c) => c.domain)).size;
    const nodes = new Set(circuits.map((c) => c.node)).size;
    if (!notClosed.length) return [{ ...base, name: 'circuits', healthy: true, detail: `closed for all ${domains} domains on ${nodes} Trino node(s)` }];
    return notClosed.map((c) => ({
      ...base,
      name: `circuit:${c.domain}`,
      healthy: false,
      detail: `${c.state} on node ${c.node} since ${c.openedAt ?? '?'}${c.lastFailure ? `; last failure: ${c.lastFailure}` : ''}`,
    }));
  } catch (e) {
    return [{ ...base, name: 'circuits', healthy: false, detail: (e as Error).message }];
  }
}
