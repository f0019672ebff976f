// Every statement through the gateway runs under a deadline: Trino's `query_max_run_time` (queued time
// included), so a slow or silent domain can hold a query no longer than that. The gateway's own limit is
// a ceiling; an analyst may ask for less (`--extra-credential deadline=30s`, or SET SESSION
// query_max_run_time), never for more.

export const DEADLINE_CREDENTIAL = 'deadline';
export const DEADLINE_SESSION_PROPERTY = 'query_max_run_time';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Trino's duration syntax, in the units an analyst would write. */
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

export class InvalidDeadline extends Error {}

/** Milliseconds of a Trino duration such as `30s`, `2.5m` or `1h`. */
export function parseDuration(text: string, what: string): number {
  const match = DURATION.exec(text);
  const ms = match ? Math.round(Number(match[1]) * UNIT_MS[match[2]!]!) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidDeadline(`${what}=${text} is not a duration such as 30s, 5m or 1h`);
  return ms;
}

/**
 * The deadline of one statement in ms: the least of the gateway's ceiling, the analyst's credential and the
 * analyst's own session value (any may be absent except the ceiling).
 */
export function statementDeadlineMs(ceilingMs: number, credential: string | undefined, sessionValue: string | undefined): number {
  let deadline = ceilingMs;
  if (credential !== undefined) deadline = Math.min(deadline, parseDuration(credential, DEADLINE_CREDENTIAL));
  if (sessionValue !== undefined) deadline = Math.min(deadline, parseDuration(sessionValue, DEADLINE_SESSION_PROPERTY));
  return deadline;
}

/** The session value Trino is given (whole milliseconds, Trino's `ms` unit). */
export function deadlineSessionValue(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}
