// The mesh may be restarted by a colleague while a long battery runs through the gateway: a dropped
// connection is not an answer, so the batteries retry it (and count the retries).

/** Attempts per query before a dropped connection counts as a failure (long enough to ride out a restart). */
export const MAX_RETRIES = 8;
/** Pause between attempts after a dropped connection. */
export const RETRY_PAUSE_MS = 15_000;

/** A connection dropped between client, gateway and Trino: the mesh being restarted, not an answer. */
export class ConnectionLost extends Error {}

export function connectionLost(e: unknown): boolean {
  if (e instanceof ConnectionLost) return true;
  const text = `${(e as { code?: string }).code ?? ''} ${(e as Error).message ?? ''}`;
  return /ECONNRESET|ECONNREFUSED|socket hang up|EPIPE/.test(text);
}

export function pauseBeforeRetry(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
}

/** The gateway's 502 for a Trino it could not reach mid-restart: thrown as ConnectionLost, to be retried. */
export function throwIfConnectionLost(result: { httpStatus?: number; httpText?: string }): void {
  if (result.httpStatus === 502 && /socket hang up|ECONNREFUSED|ECONNRESET/.test(result.httpText ?? '')) throw new ConnectionLost(result.httpText);
}
