// The control plane (control-plane/, NestJS) as a mesh component: started with tsx from the sources,
// after Trino, because at start-up it makes Trino's `fhir` catalog match the registry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Component, ComponentStatus } from './component';
import { assertPortFree, httpOk, runningPid, rssMiB, say, startDaemon, stopDaemon, waitUntil } from './processes';
import { controlPlaneUrl, MESH_HOME, paths, ports, ROOT } from './topology';

const NAME = 'control-plane';
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(ROOT, 'control-plane', 'src', 'main.ts');
/** Where the control plane writes the bootstrap ops token (see control-plane/src/auth/ops-bootstrap.ts). */
export const OPS_TOKEN_FILE = path.join(MESH_HOME, 'run', 'ops-token');

export function opsToken(): string {
  if (process.env.MESH_OPS_TOKEN) return process.env.MESH_OPS_TOKEN;
  try {
    return fs.readFileSync(OPS_TOKEN_FILE, 'utf8').trim();
  } catch {
    throw new Error(`no ops token: ${OPS_TOKEN_FILE} is missing (has the control plane started once?)`);
  }
}

async function isReady(): Promise<boolean> {
  return httpOk(`${controlPlaneUrl()}/api/v1/health`, 3000);
}

export class ControlPlane implements Component {
  readonly name = NAME;

  async prepare(): Promise<void> {
    fs.mkdirSync(paths.run, { recursive: true });
  }

  async start(): Promise<boolean> {
    if (runningPid(NAME) !== undefined && (await isReady().catch(() => false))) return false;
    await stopDaemon(NAME);
    await assertPortFree(NAME, ports.controlPlane);
    say(NAME, `starting the admin API on ${controlPlaneUrl()}`);
    const pid = startDaemon(NAME, TSX, [MAIN], { ...process.env, MESH_OPS_TOKEN_FILE: OPS_TOKEN_FILE, NO_COLOR: '1' }, ROOT);
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
    try {
      return [{ ...base, healthy: await isReady(), detail: 'admin API /api/v1' }];
    } catch (e) {
      return [{ ...base, detail: (e as Error).message }];
    }
  }
}
