// The whole post-processing, without I/O: Synthea bundles per domain in, NDJSON text per domain and
// resource type out, plus the facts the manifest reports. Same inputs => byte-identical output.
import type { DomainSpec } from '../runtime/topology';
import { type SharedPatient, shareAcrossTrusts } from './cross-trust';
import { compareStrings, sha256Hex } from './deterministic';
import { assertReferentialIntegrity, type DomainRecords, homePatients, ofType, refreshDisplays } from './domain-records';
import { parseRelative, type Resource, referencesOf, withLeadingKeys } from './fhir';
import { chooseOptOuts, type OptOut, recordOptOuts } from './opt-outs';
import type { PostProcessParams } from './params';
import { applySecurityLabels, type SecurityLabel } from './security-labels';
import { addStrokeCohort, alwaysVisibleStrokePatients, type StrokeCohort, strokeOptOutDraw } from './stroke-cohort';
import { importSyntheaDomain } from './synthea-import';

/**
 * Output types in an order a loader can PUT them in: every reference points at a type strictly earlier
 * in this list (checked by assertLoadOrder), so batches of one type never wait for each other.
 */
export const LOAD_ORDER: readonly string[] = [
  'Organization',
  'Location',
  'Practitioner',
  'Patient',
  'Encounter',
  'Condition',
  'Observation',
  'DiagnosticReport',
  'Procedure',
  'MedicationRequest',
  'Immunization',
  'AllergyIntolerance',
  'CarePlan',
  'Consent',
];

export interface DomainInput {
  readonly domain: DomainSpec;
  /** Called once, so a caller can read one domain's Synthea output at a time. */
  readonly bundles: () => readonly unknown[];
}

export interface DomainOutput {
  readonly domain: DomainSpec;
  /** Resource type -> NDJSON text (one resource per line, sorted by id, trailing newline). */
  readonly files: ReadonlyMap<string, string>;
  readonly counts: Readonly<Record<string, number>>;
  readonly homePatients: number;
  readonly visitingPatients: number;
  readonly optedOutPatients: number;
  readonly securityLabels: Readonly<Record<SecurityLabel, number>>;
  /** Stroke cohort records here (home and visiting), how many were thrombolysed, how many opted out. */
  readonly stroke: { readonly patients: number; readonly thrombolysed: number; readonly optedOut: number };
}

export interface PipelineResult {
  readonly domains: readonly DomainOutput[];
  /** Everyone with a record at two trusts: Synthea's shared patients and the stroke cohort's two-trust people. */
  readonly sharedPatients: readonly SharedPatient[];
  readonly optOuts: readonly OptOut[];
  readonly strokeCohort: StrokeCohort;
}

export function postProcess(
  inputs: readonly DomainInput[],
  allDomains: readonly DomainSpec[],
  params: PostProcessParams & { referenceDate: string },
  onProgress: (message: string) => void = () => {},
): PipelineResult {
  const records: DomainRecords[] = inputs.map((input) => {
    const domainIndex = allDomains.findIndex((d) => d.id === input.domain.id);
    if (domainIndex < 0) throw new Error(`domain ${input.domain.id} is not in the topology`);
    const imported = importSyntheaDomain(input.bundles(), input.domain, domainIndex, params);
    onProgress(`${input.domain.id} imported ${imported.resources.size} resources`);
    return imported;
  });

  const sharedPatients = shareAcrossTrusts(records, {
    fraction: params.sharedFraction,
    maxMovedEncounters: params.maxMovedEncounters,
  });
  // The stroke cohort comes after cross-trust sharing, so Synthea's sharing draw is the same as without it
  // (its two-trust people are made the same way, addVisitingRecord), and before opt-outs and labels, so
  // both apply to it as to everyone. Each population gets its own opt-out draw: Synthea's stay as they were.
  const strokeCohort = addStrokeCohort(records, {
    patientsPerDomain: params.strokePatientsPerDomain,
    twoTrustPatients: params.strokeTwoTrustPatients,
    thrombolysedFraction: params.strokeThrombolysedFraction,
    years: params.strokeYears,
    referenceDate: params.referenceDate,
  });
  const strokeOptOuts = strokeOptOutDraw(strokeCohort, params.optOutFraction);
  const optOuts = recordOptOuts(
    records,
    [
      ...chooseOptOuts(records, sharedPatients, {
        fraction: params.optOutFraction,
        sharedPerDomain: params.optOutsAmongSharedPerDomain,
        eligible: (n) => !strokeCohort.nhsNumbers.has(n),
      }),
      ...chooseOptOuts(records, strokeOptOuts.shared, strokeOptOuts.draw),
    ],
    params.referenceDate,
  );
  const optedOut = new Set(optOuts.map((o) => o.nhsNumber));
  const clinicalLabelsOnly = alwaysVisibleStrokePatients(strokeCohort);

  const domains = records.map((r): DomainOutput => {
    const securityLabels = applySecurityLabels(r, {
      randomFraction: params.labelRandomFraction,
      minimumPerLabel: params.minimumPerLabel,
      clinicalLabelsOnly,
    });
    const strokeEpisodes = strokeCohort.episodes.filter((e) => e.domain === r.domain.id);
    refreshDisplays(r);
    assertReferentialIntegrity(r);
    assertLoadOrder(r);
    const files = renderNdjson(r);
    const counts = Object.fromEntries([...files].map(([type, text]) => [type, lineCount(text)]));
    return {
      domain: r.domain,
      files,
      counts,
      homePatients: homePatients(r).length,
      visitingPatients: r.visitors.size,
      optedOutPatients: ofType(r, 'Consent').length,
      securityLabels,
      stroke: {
        patients: strokeEpisodes.length, // one episode per patient record
        thrombolysed: strokeEpisodes.filter((e) => e.needleMinutes !== undefined).length,
        optedOut: strokeEpisodes.filter((e) => optedOut.has(e.nhsNumber)).length,
      },
    };
  });
  const allShared = [...sharedPatients, ...strokeCohort.twoTrust].sort((a, b) => compareStrings(a.nhsNumber, b.nhsNumber));
  return { domains, sharedPatients: allShared, optOuts, strokeCohort };
}

/** One NDJSON text per resource type present, sorted by id; types in LOAD_ORDER first. */
export function renderNdjson(records: DomainRecords): Map<string, string> {
  const types = [...new Set([...records.resources.values()].map((r) => r.resourceType))];
  const unknown = types.filter((t) => !LOAD_ORDER.includes(t)).sort(compareStrings);
  if (unknown.length > 0) throw new Error(`no load order for ${unknown.join(', ')}`);
  const files = new Map<string, string>();
  for (const type of LOAD_ORDER) {
    const resources: Resource[] = ofType(records, type);
    if (resources.length === 0) continue;
    files.set(type, resources.map((r) => `${JSON.stringify(withLeadingKeys(r))}\n`).join(''));
  }
  return files;
}

/** Throws if a resource references its own type or a type later in LOAD_ORDER. */
export function assertLoadOrder(records: DomainRecords): void {
  for (const resource of records.resources.values()) {
    const rank = LOAD_ORDER.indexOf(resource.resourceType);
    for (const reference of referencesOf(resource)) {
      const target = parseRelative(reference);
      if (target && LOAD_ORDER.indexOf(target.type) >= rank) {
        throw new Error(`${records.domain.id}: ${resource.resourceType}/${resource.id} -> ${reference} breaks the load order`);
      }
    }
  }
}

export function lineCount(ndjson: string): number {
  return ndjson === '' ? 0 : ndjson.split('\n').length - 1;
}

export function fileDigest(ndjson: string): string {
  return sha256Hex(ndjson);
}
