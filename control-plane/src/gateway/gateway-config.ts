// The gateway's settings (part of ControlPlaneConfig). Defaults are in config.ts; the mesh runtime
// passes its own values in.
import type { OptOutSource, PatientIndex } from './policy/policy-form';

export interface PurposeRules {
  /** Sensitivity labels (PSY, HIV, SDV) this purpose may see; V is never seen. */
  sensitivities: string[];
  /** Whether the national data opt-out applies (it covers research and planning, not direct care). */
  optOut: boolean;
}

export interface GatewayConfig {
  /** Where analysts connect: HTTPS only (the Trino CLI and JDBC driver refuse passwords over HTTP). */
  host: string;
  port: number;
  /** PEM holding the gateway's private key and certificate (issued by the mesh's CA). */
  tlsPemFile: string;
  /** The Trino principal the gateway runs rewritten statements as, and the file with its password. */
  trinoUser: string;
  trinoPasswordFile: string;
  /** Key the per-project pseudonym keys are derived from; created 0600 if missing, never sent to Trino's files. */
  pseudonymKeyFile: string;
  patientIndex: PatientIndex;
  optOut: OptOutSource;
  /** Labels whose resources no purpose sees. */
  alwaysExcludedLabels: string[];
  /** Sensitivity labels excluded unless the purpose allows them. */
  sensitivityLabels: string[];
  /** Known purposes of use; a consumer's allowed purpose not listed here gets the strictest rules. */
  purposes: Record<string, PurposeRules>;
  /** Session properties analysts may set (SET SESSION, X-Trino-Session), `catalog.property` or `property`. */
  sessionProperties: string[];
  /** Largest statement text accepted (bytes): parsing cost grows with it. */
  maxStatementBytes: number;
  /** How long a finished query's id stays known, so a late page request or cancel is still answered. */
  queryRetentionMs: number;
  /** The longest any statement may run (Trino's query_max_run_time); analysts may ask for less, never more. */
  maxRunTimeMs: number;
}

export const NDOP_POLICY_URI = 'https://digital.nhs.uk/services/national-data-opt-out/operational-policy-guidance-document';

export function defaultGatewayPolicy(
  catalogName: string,
): Omit<GatewayConfig, 'host' | 'port' | 'tlsPemFile' | 'trinoUser' | 'trinoPasswordFile' | 'pseudonymKeyFile'> {
  void catalogName;
  return {
    patientIndex: { table: 'patient', idColumn: 'id', nhsNumberColumn: 'nhs_number', securityLabelsColumn: 'security_labels' },
    optOut: { table: 'consent', patientColumn: 'patient_id', policyUri: NDOP_POLICY_URI },
    alwaysExcludedLabels: ['V'],
    sensitivityLabels: ['PSY', 'HIV', 'SDV'],
    purposes: {
      'direct-care': { sensitivities: ['PSY', 'HIV', 'SDV'], optOut: false },
      research: { sensitivities: [], optOut: true },
      planning: { sensitivities: [], optOut: true },
      'mental-health-research': { sensitivities: ['PSY'], optOut: true },
    },
    // None: even `pushdown_enabled = false` would move the label filters from the FHIR servers into Trino,
    // where an analyst's own expressions could see the restricted rows first (an error oracle).
    // Query limits only: they change how long Trino works, never what it returns.
    sessionProperties: ['query_max_run_time', 'query_max_execution_time'],
    maxStatementBytes: 256 * 1024,
    queryRetentionMs: 15 * 60_000,
    maxRunTimeMs: 5 * 60_000,
  };
}

/**
 * The connector's patient exclusion for one purpose (its session properties, fhir.* of the catalog): opted-out
 * patients, patients without an NHS number (their opt-out cannot be checked) and Patient resources with an
 * excluded label never leave the connector. Direct care is outside the national data opt-out. Only the
 * gateway and admins may set these (Trino's access rules); analysts never can.
 */
export function patientExclusionSession(catalogName: string, rules: PurposeRules, excludedLabels: readonly string[]): [string, string][] {
  return [
    [`${catalogName}.apply_opt_outs`, String(rules.optOut)],
    [`${catalogName}.excluded_patient_labels`, excludedLabels.join(',')],
    [`${catalogName}.exclude_patients_without_nhs_number`, String(rules.optOut)],
  ];
}
