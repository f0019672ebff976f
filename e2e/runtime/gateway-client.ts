// A small Trino-protocol client for talking to the SQL gateway from tests and benchmarks: POST the
// statement, follow nextUri, collect rows, as the CLI and JDBC driver do. HTTPS trusting the mesh CA.
// (The real CLI and JDBC driver are exercised by the gateway e2e tests too; this one shows every header.)
import * as fs from 'node:fs';
import * as https from 'node:https';
import { DEMO_ANALYST, demoAnalystToken } from './demo-registry';
import { MESH_CA_CERT } from './secrets';
import { gatewayUrl } from './topology';

export interface GatewayIdentity {
  user: string;
  token: string;
  purpose?: string;
  project?: string;
}

export interface GatewayRequest {
  identity?: GatewayIdentity;
  catalog?: string;
  schema?: string;
  /** Extra X-Trino-* (or other) request headers, sent as given. */
  headers?: Record<string, string>;
  /** Use Authorization: Bearer instead of Basic. */
  bearer?: boolean;
  /** Base URL (default: the mesh's gateway). */
  server?: string;
  /** Awaited after each page that carried rows (numbered from 1), before the next page is asked for. */
  onRows?: (pagesWithRows: number) => Promise<void>;
}

export interface GatewayResult {
  queryId?: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** Trino-shaped error (refusals by the gateway and failures in Trino alike). */
  error?: { message: string; errorName: string; errorCode: number };
  /** HTTP status of a non-protocol answer (401, 403, 404...) and its text. */
  httpStatus?: number;
  httpText?: string;
  /** Response headers of every page, in order (X-Trino-Set-*, Added-Prepare...). */
  responseHeaders: Record<string, string | string[] | undefined>[];
  /** Warnings of the last page (the CLI prints them): disclosure control says what it did here. */
  warnings: string[];
}

export function demoIdentity(overrides: Partial<GatewayIdentity> = {}): GatewayIdentity {
  return { user: DEMO_ANALYST.name, token: demoAnalystToken(), purpose: 'research', project: DEMO_ANALYST.project, ...overrides };
}

let agent: https.Agent | undefined;
function meshAgent(): https.Agent {
  agent ??= new https.Agent({ keepAlive: true, ca: fs.readFileSync(MESH_CA_CERT, 'utf8') });
  return agent;
}

export function gatewayHeaders(request: GatewayRequest): Record<string, string> {
  const identity = request.identity ?? demoIdentity();
  const headers: Record<string, string> = { 'x-trino-user': identity.user, 'x-trino-source': 'fhir-mesh-tests', ...(request.headers ?? {}) };
  headers.authorization = request.bearer ? `Bearer ${identity.token}` : `Basic ${Buffer.from(`${identity.user}:${identity.token}`).toString('base64')}`;
  const credentials = [
    identity.purpose && `purpose=${encodeURIComponent(identity.purpose)}`,
    identity.project && `project=${encodeURIComponent(identity.project)}`,
  ].filter(Boolean);
  if (credentials.length && !headers['x-trino-extra-credential']) headers['x-trino-extra-credential'] = credentials.join(', ');
  if (request.catalog) headers['x-trino-catalog'] = request.catalog;
  if (request.schema) headers['x-trino-schema'] = request.schema;
  return headers;
}

export function httpsRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method, headers, agent: meshAgent(), timeout: 600_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within 600 s`)));
    request.end(body);
  });
}

/** Runs one statement through the gateway to the end and returns every row (or the error). */
export async function gatewayQuery(sql: string, request: GatewayRequest = {}): Promise<GatewayResult> {
  const headers = gatewayHeaders(request);
  const result: GatewayResult = { columns: [], rows: [], responseHeaders: [], warnings: [] };
  let pagesWithRows = 0;
  let response = await httpsRequest('POST', `${request.server ?? gatewayUrl()}/v1/statement`, headers, sql);
  for (;;) {
    result.responseHeaders.push(response.headers);
    if (response.status !== 200) {
      result.httpStatus = response.status;
      result.httpText = response.text;
      return result;
    }
    const page = JSON.parse(response.text) as {
      id?: string;
      columns?: { name: string; type: string }[];
      data?: unknown[][];
      nextUri?: string;
      error?: GatewayResult['error'];
      warnings?: { message: string }[];
    };
    result.queryId ??= page.id;
    if (page.warnings?.length) result.warnings = page.warnings.map((w) => w.message);
    if (page.columns) result.columns = page.columns.map((c) => ({ name: c.name, type: c.type }));
    if (page.data) result.rows.push(...page.data);
    if (page.data?.length && request.onRows) await request.onRows(++pagesWithRows);
    if (page.error) {
      result.error = { message: page.error.message, errorName: page.error.errorName, errorCode: page.error.errorCode };
      return result;
    }
    if (!page.nextUri) return result;
    response = await httpsRequest('GET', page.nextUri, headers);
  }
}
