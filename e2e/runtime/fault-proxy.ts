// A FHIR server that misbehaves on demand: an HTTP proxy in front of one real endpoint (a HAPI tenant)
// that applies a fault plan to the requests it relays. Tests switch plans in process (setPlan); a bench or
// a person drives a standalone proxy through its control path (PUT /_fault-proxy/plan, GET /_fault-proxy).
// Bundle links are rewritten to the proxy, so paging stays on the endpoint the connector was given.
//   npx tsx e2e/runtime/fault-proxy.ts --target http://127.0.0.1:8190/fhir/onboarding [--port 8290]
import * as http from 'node:http';
import type * as net from 'node:net';

export type FaultScenario =
  /** Relay as is (links rewritten). */
  | { kind: 'pass' }
  /** Close the connection with no answer, or after half of the body (Content-Length promises all of it). */
  | { kind: 'drop'; at: 'before-headers' | 'mid-body' }
  /** Wait `ms` (plus up to `jitterMs` more) before the status line, or after half of the body. */
  | { kind: 'delay'; ms: number; jitterMs?: number; at: 'before-headers' | 'mid-body' }
  /** Answer with this status (an OperationOutcome that echoes the request line and its Authorization header). */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** A well-framed answer whose JSON stops halfway through. */
  | { kind: 'truncate' }
  /** Not JSON; a resource other than a Bundle; or a Bundle with an entry of another resource type. */
  | { kind: 'corrupt'; how: 'invalid-json' | 'wrong-resource-type' | 'foreign-entry' }
  /** The `next` link points back at the page just served. */
  | { kind: 'loop-next' }
  /** The page grown to at least `megabytes`: JSON whitespace (same content) or the entries repeated (wrong content). */
  | { kind: 'huge-page'; megabytes: number; fill: 'whitespace' | 'repeat-entries' };

export interface FaultPlan {
  scenario: FaultScenario;
  /** Apply the fault to the first N matching requests only, then heal (relay as is). */
  first?: number;
  /** Regular expression (source) a request's path below the base must match to be faulted, e.g. `^/Organization`. */
  paths?: string;
  /** Force this `_count` on searches, so that small tables still come in several pages. */
  pageSize?: number;
}

export interface FaultProxyStats {
  /** FHIR requests received (control requests excluded). */
  requests: number;
  /** Requests the fault was applied to. */
  faulted: number;
  /** Client connections open now, and the most open at once. */
  openSockets: number;
  peakSockets: number;
  /** Requests relayed to the real endpoint. */
  upstreamRequests: number;
}

const CONTROL = '/_fault-proxy';
const PASS: FaultPlan = { scenario: { kind: 'pass' } };

export class FaultProxy {
  private server?: http.Server;
  private plan: FaultPlan = PASS;
  private readonly sockets = new Set<net.Socket>();
  private readonly upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly target: URL;
  private counters = { requests: 0, faulted: 0, upstreamRequests: 0, peakSockets: 0 };

  /** @param targetBase the real endpoint's base URL, e.g. http://127.0.0.1:8190/fhir/onboarding */
  constructor(targetBase: string) {
    this.target = new URL(targetBase.replace(/\/$/, ''));
  }

  async start(port = 0, host = '127.0.0.1'): Promise<this> {
    const server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: Error) => {
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`fault proxy: ${error.message}`);
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      this.counters.peakSockets = Math.max(this.counters.peakSockets, this.sockets.size);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    this.server = server;
    return this;
  }

  /** The base URL to register instead of the target's: same path, the proxy's origin. */
  get baseUrl(): string {
    const address = this.server?.address() as net.AddressInfo | null;
    if (!address) throw new Error('fault proxy: not started');
    return `http://${address.address}:${address.port}${this.target.pathname}`;
  }

  setPlan(plan: FaultPlan): void {
    if (plan.paths !== undefined) new RegExp(plan.paths);
    this.plan = plan;
    this.counters.faulted = 0;
  }

  stats(): FaultProxyStats {
    return { ...this.counters, openSockets: this.sockets.size };
  }

  resetStats(): void {
    this.counters = { requests: 0, faulted: 0, upstreamRequests: 0, peakSockets: this.sockets.size };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.upstreamAgent.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://proxy');
    if (url.pathname === CONTROL || url.pathname.startsWith(`${CONTROL}/`)) return this.control(request, response, url.pathname);
    this.counters.requests++;
    const below = url.pathname.startsWith(this.target.pathname) ? url.pathname.slice(this.target.pathname.length) : url.pathname;
    const plan = this.plan;
    const matches = plan.paths === undefined || new RegExp(plan.paths).test(below);
    const faulted = matches && plan.scenario.kind !== 'pass' && (plan.first === undefined || this.counters.faulted < plan.first);
    if (faulted) this.counters.faulted++;
    const scenario: FaultScenario = faulted ? plan.scenario : { kind: 'pass' };
    if (matches && plan.pageSize !== undefined && url.searchParams.has('_count')) url.searchParams.set('_count', String(plan.pageSize));

    switch (scenario.kind) {
      case 'drop':
        if (scenario.at === 'before-headers') return void request.socket.destroy();
        break;
      case 'delay':
        if (scenario.at === 'before-headers') await sleep(delayOf(scenario));
        if (request.socket.destroyed) return;
        break;
      case 'status':
        return this.statusAnswer(request, response, scenario);
    }

    const upstream = await this.relay(request, `${url.pathname}${url.search}`);
    let body = upstream.body;
    const json = /json/i.test(String(upstream.headers['content-type'] ?? ''));
    if (json) body = Buffer.from(this.rewriteLinks(body.toString('utf8')), 'utf8');
    if (json && upstream.status === 200) body = this.faultBody(body, scenario, `${this.proxyOrigin(request)}${url.pathname}${url.search}`);

    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (!['content-length', 'transfer-encoding', 'content-encoding', 'connection', 'keep-alive'].includes(name)) headers[name] = value;
    }
    headers['content-length'] = body.length;
    if (scenario.kind === 'truncate') {
      body = body.subarray(0, Math.floor(body.length / 2));
      headers['content-length'] = body.length;
    }
    response.writeHead(upstream.status, headers);
    if (scenario.kind === 'drop' || scenario.kind === 'delay') {
      const half = Math.floor(body.length / 2);
      await write(response, body.subarray(0, half));
      if (scenario.kind === 'drop') return void response.socket?.destroy();
      await sleep(delayOf(scenario));
      if (response.socket?.destroyed) return;
      response.end(body.subarray(half));
      return;
    }
    response.end(body);
  }

  /** The answer of a failing server: the request's own line and Authorization echoed, as careless servers do. */
  private statusAnswer(request: http.IncomingMessage, response: http.ServerResponse, scenario: { status: number; retryAfter?: string }): void {
    const outcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'transient',
          diagnostics: `fault proxy: HTTP ${scenario.status} for GET ${request.url} (Authorization: ${request.headers.authorization ?? 'none'})`,
        },
      ],
    };
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/fhir+json;charset=utf-8' };
    if (scenario.retryAfter !== undefined) headers['retry-after'] = scenario.retryAfter;
    response.writeHead(scenario.status, headers);
    response.end(JSON.stringify(outcome));
  }

  private relay(request: http.IncomingMessage, pathAndQuery: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    this.counters.upstreamRequests++;
    const headers = { ...request.headers, host: this.target.host, 'accept-encoding': 'identity' };
    delete headers.connection;
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        { host: this.target.hostname, port: this.target.port, method: request.method, path: pathAndQuery, headers, agent: this.upstreamAgent },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      upstream.setTimeout(120_000, () => upstream.destroy(new Error(`no answer from ${this.target.origin} within 120 s`)));
      upstream.on('error', reject);
      request.pipe(upstream);
    });
  }

  private proxyOrigin(request: http.IncomingMessage): string {
    return `http://${request.headers.host ?? `${(request.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '')}:${request.socket.localPort}`}`;
  }

  /** Links (and full URLs) naming the real endpoint name the proxy instead. */
  private rewriteLinks(text: string): string {
    const real = `${this.target.origin}${this.target.pathname}`;
    return text.split(real).join(this.baseUrl);
  }

  private faultBody(body: Buffer, scenario: FaultScenario, pageUrl: string): Buffer {
    const bundle = (): { resourceType: string; link?: { relation: string; url: string }[]; entry?: Record<string, unknown>[] } =>
      JSON.parse(body.toString('utf8'));
    switch (scenario.kind) {
      case 'corrupt': {
        if (scenario.how === 'invalid-json') return Buffer.from(body.toString('utf8').replaceAll('":', '"='), 'utf8');
        const b = bundle();
        if (scenario.how === 'wrong-resource-type') b.resourceType = 'Binary';
        else
          b.entry = [
            { fullUrl: `${this.baseUrl}/Patient/fault-foreign`, resource: { resourceType: 'Patient', id: 'fault-foreign' }, search: { mode: 'match' } },
            ...(b.entry ?? []),
          ];
        return Buffer.from(JSON.stringify(b), 'utf8');
      }
      case 'loop-next': {
        const b = bundle();
        b.link = [...(b.link ?? []).filter((l) => l.relation !== 'next'), { relation: 'next', url: pageUrl }];
        return Buffer.from(JSON.stringify(b), 'utf8');
      }
      case 'huge-page': {
        const bytes = scenario.megabytes * 1024 * 1024;
        if (scenario.fill === 'whitespace') {
          // Whitespace between JSON tokens: the same Bundle, only larger.
          const text = body.toString('utf8');
          const open = text.indexOf('{') + 1;
          return Buffer.concat([
            Buffer.from(text.slice(0, open), 'utf8'),
            Buffer.alloc(Math.max(0, bytes - body.length), ' '),
            Buffer.from(text.slice(open), 'utf8'),
          ]);
        }
        const b = bundle();
        const entries = b.entry ?? [];
        if (entries.length === 0) return body;
        const perEntry = Buffer.byteLength(JSON.stringify(entries[0]));
        b.entry = Array.from({ length: Math.ceil(bytes / perEntry) }, (_, i) => entries[i % entries.length]!);
        return Buffer.from(JSON.stringify(b), 'utf8');
      }
      default:
        return body;
    }
  }

  private async control(request: http.IncomingMessage, response: http.ServerResponse, pathname: string): Promise<void> {
    const answer = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    if (request.method === 'GET' && pathname === CONTROL)
      return answer(200, { target: this.target.href, baseUrl: this.baseUrl, plan: this.plan, stats: this.stats() });
    if (request.method === 'PUT' && pathname === `${CONTROL}/plan`) {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      try {
        const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FaultPlan;
        if (!plan || typeof plan.scenario?.kind !== 'string') throw new Error('a plan is {"scenario": {"kind": ...}, "first"?, "paths"?, "pageSize"?}');
        this.setPlan(plan);
      } catch (error) {
        return answer(400, { error: (error as Error).message });
      }
      return answer(200, { plan: this.plan });
    }
    if (request.method === 'POST' && pathname === `${CONTROL}/reset-stats`) {
      this.resetStats();
      return answer(200, this.stats());
    }
    answer(404, { error: `unknown control request ${request.method} ${pathname} (GET ${CONTROL}, PUT ${CONTROL}/plan, POST ${CONTROL}/reset-stats)` });
  }
}

function delayOf(scenario: { ms: number; jitterMs?: number }): number {
  return scenario.ms + Math.floor(Math.random() * (scenario.jitterMs ?? 0));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function write(response: http.ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (response.socket?.destroyed) return resolve();
    response.write(chunk, () => resolve());
  });
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const target = option('target');
  if (!target) {
    console.error('usage: tsx e2e/runtime/fault-proxy.ts --target <FHIR base URL> [--port N]');
    process.exit(2);
  }
  new FaultProxy(target).start(Number(option('port') ?? 0)).then((proxy) => {
    console.log(
      `fault proxy: ${proxy.baseUrl} -> ${target}; plan: PUT ${new URL(proxy.baseUrl).origin}${CONTROL}/plan, state: GET ${new URL(proxy.baseUrl).origin}${CONTROL}`,
    );
  });
}
