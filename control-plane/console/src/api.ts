// The admin API (/api/v1) as the console reads it: the same tokens and roles as curl, the token kept in
// this tab's sessionStorage only, and every refusal turned into a message that says what to do next.
import type { ApiRefusal, Me } from './types';

const TOKEN_KEY = 'fhir-mesh.console.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A failed call: the API's own {statusCode, error, message}, or status 0 when the control plane did not answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
  ) {
    super(status === 0 ? detail : `${status} ${error}: ${detail}`);
  }

  /** What the person at the console can do about it. */
  get advice(): string {
    return adviceFor(this.status);
  }
}

export function adviceFor(status: number): string {
  if (status < 0) return 'Fix the problem named above and try again.';
  if (status === 0) return 'Check that the mesh is running (npm run mesh:status) and reload this page.';
  if (status === 401) return 'Sign in again with a current API token; platform ops can issue a new one (POST /api/v1/consumers/<name>/token).';
  if (status === 403) return 'Your role or domain does not allow this. Sign in with a token of the owning domain, or ask platform ops for access.';
  if (status === 404) return 'It is not registered (any more). Go back to the list and pick another.';
  if (status === 409) return 'It clashes with what is already registered: choose another version number or table name.';
  if (status === 422 || status === 400) return 'Fix the problem named above and try again (for a publication: run the dry run again first).';
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  return 'The control plane failed: see its log (.mesh/logs/control-plane.log) and try again.';
}

async function call<T>(method: string, path: string, body?: unknown, token = storedToken()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'Unreachable', 'The control plane did not answer.');
  }
  const text = await response.text();
  if (!response.ok) {
    const refusal = parseRefusal(text);
    throw new ApiError(response.status, refusal?.error ?? response.statusText, refusal ? refusalMessage(refusal) : text || response.statusText);
  }
  if (response.headers.get('content-type')?.includes('json')) return (text ? JSON.parse(text) : undefined) as T;
  return text as T;
}

function parseRefusal(text: string): ApiRefusal | undefined {
  try {
    const parsed = JSON.parse(text) as ApiRefusal;
    return typeof parsed === 'object' && parsed !== null && 'message' in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** NestJS validation errors carry a list of messages; every one of them is shown. */
function refusalMessage(refusal: ApiRefusal): string {
  return Array.isArray(refusal.message) ? refusal.message.join('\n') : String(refusal.message);
}

export const api = {
  get: <T>(path: string) => call<T>('GET', `/api/v1/${path}`),
  post: <T>(path: string, body?: unknown) => call<T>('POST', `/api/v1/${path}`, body ?? {}),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', `/api/v1/${path}`, body),
  /** Checks a token before it is kept: who it belongs to. */
  me: (token: string) => call<Me>('GET', '/api/v1/me', undefined, token),
  /** The Prometheus exposition, read with the signed-in (ops) token. */
  metrics: () => call<string>('GET', '/metrics'),
};

export function encode(segment: string): string {
  return encodeURIComponent(segment);
}
