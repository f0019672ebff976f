// A Trino client session over the gateway, keeping what the CLI and JDBC driver keep between statements:
// the catalog and schema USE sets, session properties SET SESSION sets, and prepared statements, which
// the client (not the server) holds and resends in X-Trino-Prepared-Statement on every request. What the
// gateway answers in X-Trino-Set-* / Added-Prepare is applied as given, so a test sees the round trip.
import { type GatewayIdentity, type GatewayResult, gatewayQuery } from '../../runtime/gateway-client';

/** Trino's clients encode header values with Java's URLEncoder (spaces as '+'). */
function encodeForm(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function decodeForm(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** `name=value` pairs of one response header over every page (values URL-encoded). */
function pairs(result: GatewayResult, header: string): [string, string][] {
  const out: [string, string][] = [];
  for (const page of result.responseHeaders) {
    const raw = page[header];
    for (const value of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
      const eq = value.indexOf('=');
      if (eq > 0) out.push([value.slice(0, eq).trim(), decodeForm(value.slice(eq + 1).trim())]);
    }
  }
  return out;
}

function values(result: GatewayResult, header: string): string[] {
  return result.responseHeaders.flatMap((page) => {
    const raw = page[header];
    return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  });
}

export class AnalystSession {
  catalog?: string;
  schema?: string;
  readonly properties = new Map<string, string>();
  readonly prepared = new Map<string, string>();

  constructor(readonly identity: GatewayIdentity) {}

  async run(sql: string): Promise<GatewayResult> {
    const headers: Record<string, string> = {};
    if (this.properties.size) headers['x-trino-session'] = [...this.properties].map(([k, v]) => `${k}=${encodeForm(v)}`).join(',');
    if (this.prepared.size) headers['x-trino-prepared-statement'] = [...this.prepared].map(([k, v]) => `${k}=${encodeForm(v)}`).join(',');
    const result = await gatewayQuery(sql, { identity: this.identity, catalog: this.catalog, schema: this.schema, headers });
    for (const value of values(result, 'x-trino-set-catalog')) this.catalog = value;
    for (const value of values(result, 'x-trino-set-schema')) this.schema = value;
    for (const [name, value] of pairs(result, 'x-trino-set-session')) this.properties.set(name, value);
    for (const name of values(result, 'x-trino-clear-session')) this.properties.delete(name.trim());
    for (const [name, text] of pairs(result, 'x-trino-added-prepare')) this.prepared.set(name, text);
    for (const name of values(result, 'x-trino-deallocated-prepare')) this.prepared.delete(decodeForm(name.trim()));
    return result;
  }
}
