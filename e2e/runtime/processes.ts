// Starting, watching and stopping the mesh's long-running processes: each component gets a log file
// under .mesh/logs and a pid file under .mesh/run, so `mesh:down` and `mesh:status` work from any shell.
import { SpawnOptions, SpawnSyncOptions, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { MESH_HOME, paths } from './topology';

/** An error that names the component that failed: the message a user sees. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    message: string,
  ) {
    super(`${component}: ${message}`);
  }
}

export function say(component: string, message: string): void {
  process.stdout.write(`[mesh] ${component}: ${message}\n`);
}

export function logFile(component: string): string {
  return path.join(paths.logs, `${component}.log`);
}

function pidFile(component: string): string {
  return path.join(paths.run, `${component}.pid`);
}

export function readPid(component: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(component), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pid of the component's process if it is running, else undefined (a stale pid file is removed). */
export function runningPid(component: string): number | undefined {
  const pid = readPid(component);
  if (pid === undefined) return undefined;
  if (isAlive(pid)) return pid;
  fs.rmSync(pidFile(component), { force: true });
  return undefined;
}

export async function isPortInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function assertPortFree(component: string, port: number): Promise<void> {
  if (await isPortInUse(port)) {
    throw new ComponentError(
      component,
      `port ${port} on 127.0.0.1 is already in use by another process; ` +
        `stop it, or choose another port (see e2e/runtime/topology.ts for the MESH_*_PORT variables)`,
    );
  }
}

/** Starts a detached daemon whose output goes to its log file; the pid is recorded for mesh:down. */
export function startDaemon(component: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): number {
  fs.mkdirSync(paths.logs, { recursive: true });
  fs.mkdirSync(paths.run, { recursive: true });
  const out = fs.openSync(logFile(component), 'w', 0o600);
  fs.fchmodSync(out, 0o600); // an older log may have been created wider
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env, cwd });
  fs.closeSync(out);
  if (child.pid === undefined) throw new ComponentError(component, `could not start ${command}`);
  child.unref();
  fs.writeFileSync(pidFile(component), `${child.pid}\n`);
  return child.pid;
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export async function stopDaemon(component: string, graceMs = 20_000): Promise<boolean> {
  const pid = runningPid(component);
  if (pid === undefined) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
  fs.rmSync(pidFile(component), { force: true });
  return true;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // Daemons are started detached, so each leads its own process group: signal the whole group.
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tailOf(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `probe` until it returns true. Fails with the component's name and the end of its log if the
 * process dies or the time runs out, so a failed start never looks like a hang.
 */
export async function waitUntil(
  component: string,
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; pid?: number; log?: string },
): Promise<number> {
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - started;
    if (opts.pid !== undefined && !isAlive(opts.pid)) {
      throw new ComponentError(
        component,
        `process exited before it was ${what}; last log lines ` + `(${opts.log ?? logFile(component)}):\n${tailOf(opts.log ?? logFile(component))}`,
      );
    }
    if (Date.now() - started > opts.timeoutMs) {
      throw new ComponentError(
        component,
        `not ${what} after ${Math.round(opts.timeoutMs / 1000)} s; last log lines ` +
          `(${opts.log ?? logFile(component)}):\n${tailOf(opts.log ?? logFile(component))}`,
      );
    }
    if (Date.now() - lastReport > 15_000) {
      say(component, `waiting until ${what} (${Math.round((Date.now() - started) / 1000)} s)`);
      lastReport = Date.now();
    }
    await sleep(500);
  }
}

/** Runs a set-up command to completion; on failure the error names the component and shows the output. */
export function run(component: string, command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new ComponentError(component, `${command} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new ComponentError(component, `${command} ${args.join(' ')} failed (exit ${result.status}):\n${output}`);
  }
  return String(result.stdout ?? '');
}

/**
 * Runs a command to completion without blocking the event loop, for tests that call CLIs between HTTP
 * requests. spawnSync would stall the loop while a server closes an idle keep-alive socket; the next
 * fetch then reuses the dead socket and fails with "other side closed".
 */
export function runCaptured(command: string, args: string[], options: SpawnOptions = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Resident memory of a process in MiB (Linux /proc), or undefined when it is not running. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export async function httpOk(url: string, timeoutMs = 5000): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  return response.ok;
}

/** A GET over HTTPS trusting the given CA (fetch cannot be given a CA without an extra dispatcher). */
export function httpsGet(
  url: string,
  options: { ca: Buffer | string; headers?: Record<string, string>; timeoutMs?: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca: options.ca, headers: options.headers, timeout: options.timeoutMs ?? 5000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/**
 * Everything under MESH_HOME is the mesh user's alone (synthetic patients, caches, configurations, logs):
 * top-level folders 0700, log files 0600. MESH_HOME itself stays traversable (0711) so that PostgreSQL,
 * running as its own user when we are root, reaches its folders; those it owns are left as they are.
 */
export function restrictMeshHome(): void {
  const me = process.getuid?.();
  fs.mkdirSync(MESH_HOME, { recursive: true });
  fs.chmodSync(MESH_HOME, me === 0 ? 0o711 : 0o700);
  for (const entry of fs.readdirSync(MESH_HOME, { withFileTypes: true })) {
    const full = path.join(MESH_HOME, entry.name);
    if (entry.isSymbolicLink() || fs.statSync(full).uid !== me) continue;
    fs.chmodSync(full, entry.isDirectory() ? 0o700 : 0o600);
  }
  if (fs.existsSync(paths.logs)) {
    for (const entry of fs.readdirSync(paths.logs, { withFileTypes: true })) {
      const full = path.join(paths.logs, entry.name);
      if (entry.isFile() && fs.statSync(full).uid === me) fs.chmodSync(full, 0o600);
    }
  }
}
