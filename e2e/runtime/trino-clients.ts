// Trino as the harness reaches it: HTTPS trusting the mesh CA, with a principal's password. The runtime,
// tests and benches use these; the control plane has its own (control-plane/src/catalogs/trino-admin.ts).
import * as fs from 'node:fs';
import { BasicAuth, Trino } from 'trino-client';
import { httpsGet } from './processes';
import { MESH_CA_CERT } from './secrets';
import { trinoUrl } from './topology';
import { TRINO_USERS, trinoPassword } from './trino-security';

export function meshCa(): Buffer {
  return fs.readFileSync(MESH_CA_CERT);
}

/** A trino-client for one principal (default: the operator, who may manage catalogs). */
export function trinoClient(source: string, user: string = TRINO_USERS.ops): Trino {
  return Trino.create({ server: trinoUrl(), source, auth: new BasicAuth(user, trinoPassword(user)), ssl: { ca: meshCa() } });
}

export function basicAuthHeader(user: string, password: string = trinoPassword(user)): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** GET on Trino's REST API (e.g. /v1/query/{id}) as a principal. */
export async function trinoRest(pathAndQuery: string, user: string = TRINO_USERS.ops): Promise<{ status: number; body: string }> {
  return httpsGet(`${trinoUrl()}${pathAndQuery}`, { ca: meshCa(), headers: { authorization: basicAuthHeader(user), 'x-trino-user': user }, timeoutMs: 30_000 });
}
