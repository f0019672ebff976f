// Every knob that changes the generated data lives here; the manifest records them all, and
// ensureSyntheticData() regenerates whenever they (or the domains in topology.ts) differ.
import { DOMAINS, type DomainSpec, versions } from '../runtime/topology';

/** Bump when the post-processing changes its output for the same inputs. */
export const GENERATOR_VERSION = 2; // 2: the emergency stroke cohort (stroke-cohort.ts)

export type SizeName = 'small' | 'large';

export interface SyntheaParams {
  readonly syntheaVersion: string;
  readonly patientsPerDomain: number;
  /** Synthea's exporter.years_of_history: older encounters are not exported (unless still relevant). */
  readonly yearsOfHistory: number;
  /** Synthea's "now" (-r and -e, YYYY-MM-DD): output never depends on the day it is generated. */
  readonly referenceDate: string;
}

export interface PostProcessParams {
  readonly maxEncountersPerPatient: number;
  readonly sharedFraction: number;
  readonly maxMovedEncounters: number;
  readonly optOutFraction: number;
  readonly optOutsAmongSharedPerDomain: number;
  readonly labelRandomFraction: number;
  readonly minimumPerLabel: number;
  /** Made-up people per trust with one emergency stroke episode there (stroke-cohort.ts). */
  readonly strokePatientsPerDomain: number;
  /** Of them, people with a stroke episode at a second trust too (in all, not per trust). */
  readonly strokeTwoTrustPatients: number;
  readonly strokeThrombolysedFraction: number;
  /** Stroke arrivals are spread over this many years before the reference date. */
  readonly strokeYears: number;
}

export interface GenerationParams {
  readonly generatorVersion: number;
  /** sha256 of the generator's own sources: any code change regenerates (Synthea's raw output stays cached). */
  readonly generatorSourceDigest: string;
  readonly size: SizeName | 'custom';
  readonly synthea: SyntheaParams;
  readonly postProcess: PostProcessParams;
  readonly domains: readonly Pick<DomainSpec, 'id' | 'name' | 'odsCode' | 'region' | 'seed'>[];
}

/**
 * small: ~25k resources over 3 domains, ~2-3 min of Synthea on 2 cores, loads into HAPI in minutes.
 * large: 10x the patients (same per-patient caps), for volume tests.
 */
const PATIENTS: Record<SizeName, number> = { small: 40, large: 400 };

export function generationParams(options: { size?: SizeName; patients?: number; sourceDigest?: string } = {}): GenerationParams {
  const size = options.size ?? 'small';
  const patients = options.patients ?? PATIENTS[size];
  if (!Number.isInteger(patients) || patients < 1) throw new Error(`patients must be a positive integer, got ${patients}`);
  return {
    generatorVersion: GENERATOR_VERSION,
    generatorSourceDigest: options.sourceDigest ?? 'unknown',
    size: options.patients !== undefined && options.patients !== PATIENTS[size] ? 'custom' : size,
    synthea: {
      syntheaVersion: versions.synthea,
      patientsPerDomain: patients,
      yearsOfHistory: 3,
      referenceDate: '2025-06-30',
    },
    postProcess: {
      maxEncountersPerPatient: 30,
      sharedFraction: 0.1,
      maxMovedEncounters: 5,
      optOutFraction: 0.08,
      optOutsAmongSharedPerDomain: 1,
      labelRandomFraction: 0.01,
      minimumPerLabel: 8,
      strokePatientsPerDomain: 60,
      strokeTwoTrustPatients: 3,
      strokeThrombolysedFraction: 0.8,
      strokeYears: 3,
    },
    domains: DOMAINS.map(({ id, name, odsCode, region, seed }) => ({ id, name, odsCode, region, seed })),
  };
}
