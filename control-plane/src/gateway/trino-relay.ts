// The gateway's HTTP client to Trino: raw HTTPS with keep-alive, trusting the mesh's CA, authenticated as
// the gateway's own Trino principal. Bodies are relayed as bytes; the caller reads what it needs.
import * as https from 'node:https';
import { readSecretFile } from '../secret-file';

export interface RelayResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface TrinoTarget {
  url: string;
  user: string;
  passwordFile: string;
  caFile: string;
}

/** Trino long-polls for up to a second per page; anything far beyond that is a stuck connection. */
const REQUEST_TIMEOUT_MS = 300_000;
const CREDENTIAL_CACHE_MS = 30_000;

export class TrinoRelay {
  private agent?: https.Agent;
  private credentials?: { header: string; at: number };
  readonly base: URL;

  constructor(private readonly target: TrinoTarget) {
    this.base = new URL(target.url);
  }

  request(method: string, pathAndQuery: string, headers: Record<string, string>, body?: Buffer | string): Promise<RelayResponse> {
    const agent = this.httpsAgent();
    return new Promise((resolve, reject) => {
      const request = https.request(
        {
          agent,
          method,
          host: this.base.hostname,
          port: this.base.port || 443,
          path: pathAndQuery,
          headers: {
            ...headers,
            authorization: this.authorization(),
            'x-trino-user': this.target.user,
            ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`Trino did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent?.destroy();
  }

  private httpsAgent(): https.Agent {
    this.agent ??= new https.Agent({ keepAlive: true, maxSockets: 64, ca: readSecretFile(this.target.caFile, "the CA certificate of Trino's HTTPS") });
    return this.agent;
  }

  private authorization(): string {
    if (!this.credentials || Date.now() - this.credentials.at > CREDENTIAL_CACHE_MS) {
      const password = readSecretFile(this.target.passwordFile, "the gateway's Trino password");
      this.credentials = { header: `Basic ${Buffer.from(`${this.target.user}:${password}`).toString('base64')}`, at: Date.now() };
    }
    return this.credentials.header;
  }
}
