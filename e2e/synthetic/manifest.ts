// manifest.json: what was generated and from what. It holds no timestamps or durations, so it is
// byte-identical between runs too, and its `params` decide whether existing output can be reused.

import type { SharedPatient } from './cross-trust';
import type { OptOut } from './opt-outs';
import type { GenerationParams } from './params';
import { fileDigest, LOAD_ORDER, type PipelineResult } from './pipeline';
import type { SecurityLabel } from './security-labels';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestFile {
  /** Path relative to the output folder, e.g. "rx1/Patient.ndjson". */
  path: string;
  resourceType: string;
  count: number;
  sha256: string;
  bytes: number;
}

export interface ManifestDomain {
  id: string;
  name: string;
  odsCode: string;
  seed: number;
  counts: Record<string, number>;
  totalResources: number;
  homePatients: number;
  visitingPatients: number;
  optedOutPatients: number;
  securityLabels: Record<SecurityLabel, number>;
  /** Stroke cohort (stroke-cohort.ts) patient records here, home and visiting, each with one episode. */
  strokePatients: number;
  /** Of their episodes, those with a thrombolysis Procedure. */
  thrombolysed: number;
  /** Of those patients, how many have a national data opt-out. */
  strokeOptedOut: number;
  files: ManifestFile[];
}

export interface Manifest {
  generator: string;
  generatorVersion: number;
  syntheaVersion: string;
  params: GenerationParams;
  /** PUT files in this order and no reference points forward. */
  loadOrder: string[];
  totalResources: number;
  domains: ManifestDomain[];
  /** Everyone with a record at two trusts, the stroke cohort's two-trust people included. */
  sharedPatients: SharedPatient[];
  optOuts: OptOut[];
  /** NHS numbers of the stroke cohort's people with a stroke episode at two trusts. */
  strokeTwoTrustNhsNumbers: string[];
}

export function buildManifest(params: GenerationParams, result: PipelineResult): Manifest {
  const domains = result.domains.map((d): ManifestDomain => {
    const files = [...d.files].map(([resourceType, text]) => ({
      path: `${d.domain.id}/${resourceType}.ndjson`,
      resourceType,
      count: d.counts[resourceType] ?? 0,
      sha256: fileDigest(text),
      bytes: Buffer.byteLength(text),
    }));
    return {
      id: d.domain.id,
      name: d.domain.name,
      odsCode: d.domain.odsCode,
      seed: d.domain.seed,
      counts: { ...d.counts },
      totalResources: Object.values(d.counts).reduce((a, b) => a + b, 0),
      homePatients: d.homePatients,
      visitingPatients: d.visitingPatients,
      optedOutPatients: d.optedOutPatients,
      securityLabels: { ...d.securityLabels },
      strokePatients: d.stroke.patients,
      thrombolysed: d.stroke.thrombolysed,
      strokeOptedOut: d.stroke.optedOut,
      files,
    };
  });
  return {
    generator: 'fhir-mesh e2e/synthetic',
    generatorVersion: params.generatorVersion,
    syntheaVersion: params.synthea.syntheaVersion,
    params,
    loadOrder: [...LOAD_ORDER],
    totalResources: domains.reduce((a, d) => a + d.totalResources, 0),
    domains,
    sharedPatients: [...result.sharedPatients],
    optOuts: [...result.optOuts],
    strokeTwoTrustNhsNumbers: result.strokeCohort.twoTrust.map((s) => s.nhsNumber),
  };
}

export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
