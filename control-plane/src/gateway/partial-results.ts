// What the gateway does when a domain fails (issue 14): by default the query fails fast, naming the domain
// and the cause (the connector's error, relayed). An analyst may ask for partial results instead
// (`--extra-credential on_failure=partial`): the gateway then leaves out the domains whose circuit is open,
// runs the statement, and on a failure naming a domain leaves that one out too and runs it again. The answer
// says which domains are missing and why, in a warning the client prints and in the audit. A left-out domain's
// national data opt-outs still apply to the other domains' rows: the connector keeps its last read of them
// (`skip_domains`, fhir.patient-exclusion.max-staleness) and fails closed when that is too old.

/** The analyst's choice for a failing domain. */
export type FailureMode = 'fail' | 'partial';

export const FAILURE_MODE_CREDENTIAL = 'on_failure';

/** A domain left out of a partial answer. */
export interface MissingDomain {
  domain: string;
  /** Why: the circuit's state or the error that failed the run (the connector's message, no secret in it). */
  reason: string;
}

/** Thrown for a credential value the gateway does not know; the caller answers it as a refusal. */
export class InvalidFailureMode extends Error {}

export function failureModeOf(credentials: ReadonlyMap<string, string>): FailureMode {
  const value = credentials.get(FAILURE_MODE_CREDENTIAL);
  if (value === undefined || value === 'fail') return 'fail';
  if (value === 'partial') return 'partial';
  throw new InvalidFailureMode(
    `${FAILURE_MODE_CREDENTIAL}=${value} is not known: use ${FAILURE_MODE_CREDENTIAL}=fail (the default) or ${FAILURE_MODE_CREDENTIAL}=partial`,
  );
}

/** Every failure of a FHIR request names its domain this way (the connector's FhirRequestException messages). */
const FAILING_DOMAIN = /FHIR domain ([A-Za-z0-9]+):/;

/**
 * The domain a failed run should be retried without, or undefined when the failure is not a domain's (a
 * mistake in the SQL, an exceeded deadline, a mapping problem): those fail the query as they are. Only the
 * connector's external failures (FHIR_*, never FHIR_INVALID_MAPPING) qualify, and only a domain the statement
 * reads that is not already left out.
 */
export function failingDomain(error: { message: string; errorName: string }, candidates: ReadonlySet<string>): string | undefined {
  if (!error.errorName.startsWith('FHIR_') || error.errorName === 'FHIR_INVALID_MAPPING') return undefined;
  const domain = FAILING_DOMAIN.exec(error.message)?.[1]?.toUpperCase();
  return domain !== undefined && candidates.has(domain) ? domain : undefined;
}

/** The reason kept for a domain that failed a run: the error's name and its message from the domain on. */
export function failureReason(error: { message: string; errorName: string }): string {
  const at = error.message.search(FAILING_DOMAIN);
  return `${error.errorName}: ${at >= 0 ? error.message.slice(at) : error.message}`;
}

/** The warning on a partial answer, for the client to print. */
export function partialResultNote(missing: readonly MissingDomain[], total: number): string {
  const list = missing.map((m) => `${m.domain} (${m.reason})`).join('; ');
  return `partial result: ${missing.length} of ${total} domains missing, their rows are not in this answer: ${list}`;
}

/** The connector's session property that leaves domains out of every scan (only the gateway and admins may set it). */
export function skipDomainsSession(catalogName: string, domains: readonly MissingDomain[]): [string, string] {
  return [`${catalogName}.skip_domains`, domains.map((d) => d.domain).join(',')];
}

/** The statement reading the catalog's circuit breakers (every node's): domains with an open circuit fail at once. */
export function openCircuitsSql(catalogName: string): string {
  return (
    `SELECT domain, max(opened_at) AS opened_at, max_by(last_failure, opened_at) AS last_failure ` +
    `FROM ${catalogName}.mesh.circuits WHERE state = 'open' GROUP BY domain ORDER BY domain`
  );
}

/** Rows of {@link openCircuitsSql} as left-out domains. */
export function openCircuitDomains(rows: readonly unknown[][]): MissingDomain[] {
  return rows.map(([domain, openedAt, lastFailure]) => ({
    domain: String(domain),
    reason: `circuit open since ${String(openedAt)}${lastFailure ? ` (last failure: ${String(lastFailure)})` : ''}`,
  }));
}
