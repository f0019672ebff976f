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
  sharedPatients: SharedPatient[];
  optOuts: OptOut[];
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
  };
}

export function renderManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
