// An emergency stroke cohort beside Synthea's patients, for the disclosure-control e2e tests ("mean
// arrival-to-thrombolysis minutes and case count per trust and overall"). Synthea's strokes (230690007,
// ICD-10 I64) carry no treatment timings, so every trust gets made-up people, each with one emergency
// admission for a cerebral infarction (I63) and, for most, thrombolysis some minutes after arrival.
// A few people have a stroke at two trusts (a record at each, one NHS number): a person counts once.
import type { DomainSpec } from '../runtime/topology';
import { addVisitingRecord, type SharedPatient } from './cross-trust';
import { hashFraction, hashInt, hashOrder, hashUuid, pick } from './deterministic';
import { addResource, type DomainRecords, nhsNumberOf, ofType } from './domain-records';
import { type Coding, patientRefOf, type Resource, ref, refKey, SNOMED } from './fhir';
import { addIcd10 } from './icd10-map';
import { NhsNumberAllocator } from './nhs-number';
import type { OptOutDraw } from './opt-outs';
import { ACT_CODE_SYSTEM } from './security-labels';
import { siteForEncounterClass, siteLocationId, trustOrganizationId } from './trust';
import { anglicisePatient, practitionerDisplay } from './uk-flavour';
import { FAMILY_NAMES, FEMALE_GIVEN, MALE_GIVEN } from './uk-names';

/** SNOMED CT 432504007 |Cerebral infarction (disorder)|; icd10-map.ts maps it to I63.9. */
export const CEREBRAL_INFARCTION: Coding = { system: SNOMED, code: '432504007', display: 'Cerebral infarction (disorder)' };
/** SNOMED CT 426347000 |Thrombolytic therapy (procedure)| (also DICOM CID 3764's code for it); the text names the IV route. */
export const THROMBOLYSIS: Coding = { system: SNOMED, code: '426347000', display: 'Thrombolytic therapy (procedure)' };
/** SNOMED CT 183452005 |Emergency hospital admission (procedure)|: an encounter type Synthea emits too. */
export const EMERGENCY_ADMISSION: Coding = { system: SNOMED, code: '183452005', display: 'Emergency hospital admission (procedure)' };

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Arrivals end this long before the reference date, so every stay (at most 9 days) is over by then. */
const LAST_ARRIVAL_BEFORE_REFERENCE = 10 * DAY;

/**
 * Door-to-needle minutes as a piecewise-linear quantile function (probability, minutes): median 52 min,
 * a long right tail like the 50-60 min medians English stroke audits report. Integer arithmetic on a hash,
 * no Math.random or transcendental functions, so every machine gives the same minutes.
 */
const NEEDLE_QUANTILES: readonly (readonly [number, number])[] = [
  [0, 15],
  [0.05, 28],
  [0.25, 40],
  [0.5, 52],
  [0.75, 68],
  [0.9, 88],
  [0.97, 120],
  [1, 180],
];
/** Bounds of every generated door-to-needle time: a DP test's clamping bounds should bite on the delayed few. */
export const NEEDLE_MINUTES = { min: 15, max: 240 } as const;
/** Delayed treatments (repeat imaging, consent) past three hours: this share of each trust's, at least 2. */
const DELAYED = { share: 0.05, atLeast: 2, fromMinutes: 181 } as const;

export interface StrokeCohortOptions {
  /** New people per trust, each with one emergency stroke episode there (~60). */
  readonly patientsPerDomain: number;
  /** People who also have a stroke episode at a second trust (3 in all). */
  readonly twoTrustPatients: number;
  /** Share of episodes treated with thrombolysis (~0.8); the two-trust people's always are. */
  readonly thrombolysedFraction: number;
  /** Arrivals are spread over this many years before the reference date (Synthea's years of history). */
  readonly years: number;
  /** YYYY-MM-DD, the data's "now". */
  readonly referenceDate: string;
}

export interface StrokeEpisode {
  readonly domain: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly encounterId: string;
  /** Encounter.period.start. */
  readonly arrival: string;
  /** Arrival to Procedure.performedPeriod.start, or undefined when not thrombolysed. */
  readonly needleMinutes: number | undefined;
}

export interface StrokeCohort {
  readonly episodes: readonly StrokeEpisode[];
  /** People with an episode at two trusts, in cross-trust.ts's shape (movedEncounters: episodes at the second trust). */
  readonly twoTrust: readonly SharedPatient[];
  /** NHS numbers of everyone in the cohort. */
  readonly nhsNumbers: ReadonlySet<string>;
}

interface PlannedEpisode {
  readonly records: DomainRecords;
  readonly patient: Resource;
  readonly arrivalMs: number;
  /** Seeds every choice about this episode. */
  readonly key: string;
  thrombolysed: boolean;
  needleMinutes?: number;
}

/** Adds the cohort to every domain in place (new Patients, Encounters, Conditions, Procedures). */
export function addStrokeCohort(all: readonly DomainRecords[], options: StrokeCohortOptions): StrokeCohort {
  const reference = Date.parse(`${options.referenceDate}T00:00:00Z`);
  if (Number.isNaN(reference)) throw new Error(`referenceDate must be YYYY-MM-DD, got ${options.referenceDate}`);
  const firstArrival = reference - Math.round(options.years * 365) * DAY;
  const lastArrival = reference - LAST_ARRIVAL_BEFORE_REFERENCE;
  const planned: PlannedEpisode[] = [];

  for (const records of all) {
    const used = new Set(ofType(records, 'Patient').map(nhsNumberOf));
    const nhsNumbers = new NhsNumberAllocator(records.domainIndex); // the domain's own block, after Synthea's people
    for (let i = 0; i < options.patientsPerDomain; i++) {
      const key = `stroke-${records.domain.seed}-${i}`;
      let nhsNumber = nhsNumbers.next();
      while (used.has(nhsNumber)) nhsNumber = nhsNumbers.next();
      const arrivalMs = firstArrival + (hashInt('stroke-arrival', key) % ((lastArrival - firstArrival) / 1000)) * 1000;
      const patient = strokePatient(records, key, nhsNumber, arrivalMs);
      planned.push({ records, patient, arrivalMs, key, thrombolysed: hashFraction('stroke-thrombolysis', key) < options.thrombolysedFraction });
    }
  }

  const visits = addTwoTrustPeople(all, planned, options.twoTrustPatients, lastArrival);
  planned.push(...visits.map((v) => v.episode));
  for (const records of all) assignNeedleMinutes(planned.filter((e) => e.records === records));

  const episodes = planned.map(addEpisode);
  const twoTrust = visits.map(({ shared, episode }): SharedPatient => {
    const atVisit = [...episode.records.resources.values()].filter((r) => r.resourceType !== 'Patient' && patientRefOf(r) === refKey(episode.patient));
    return { ...shared, movedEncounters: atVisit.filter((r) => r.resourceType === 'Encounter').length, movedResources: atVisit.length };
  });
  const cohortNumbers = new Set(planned.filter((e) => !e.records.visitors.has(e.patient.id)).map((e) => nhsNumberOf(e.patient)));
  return { episodes, twoTrust, nhsNumbers: cohortNumbers };
}

/**
 * The cohort's own opt-out draw, at the same rate as everyone's: exactly one two-trust person opts out
 * (a test sees both records excluded) and the others never do (so "counted once across trusts" always
 * has someone to count).
 */
export function strokeOptOutDraw(cohort: StrokeCohort, fraction: number): { shared: SharedPatient[]; draw: OptOutDraw } {
  const [optedOut, ...keptIn] = cohort.twoTrust;
  const kept = new Set(keptIn.map((s) => s.nhsNumber));
  return {
    shared: optedOut ? [optedOut] : [],
    draw: { fraction, sharedPerDomain: 1, salt: 'ndop-stroke', eligible: (n) => cohort.nhsNumbers.has(n) && !kept.has(n) },
  };
}

/** Both records of the two-trust people who never opt out: a random or floor label (V) would hide an episode. */
export function alwaysVisibleStrokePatients(cohort: StrokeCohort): Set<string> {
  const [, ...keptIn] = cohort.twoTrust;
  return new Set(keptIn.flatMap((s) => [`Patient/${s.home.patientId}`, `Patient/${s.visited.patientId}`]));
}

function strokePatient(records: DomainRecords, key: string, nhsNumber: string, arrivalMs: number): Resource {
  const male = hashFraction('stroke-sex', key) < 0.52;
  // age at the stroke 45-94, most often around seventy (mean of three uniforms)
  const age = 45 + Math.floor(((hashInt('stroke-age-1', key) % 50) + (hashInt('stroke-age-2', key) % 50) + (hashInt('stroke-age-3', key) % 50)) / 3);
  const birthDate = isoDate(arrivalMs - age * 365.25 * DAY - (hashInt('stroke-birthday', key) % 365) * DAY);
  const givenNames = male ? MALE_GIVEN : FEMALE_GIVEN;
  const given = [pick(givenNames, 'stroke-given', key)];
  const middle = pick(givenNames, 'stroke-middle', key);
  if (hashInt('stroke-has-middle', key) % 2 === 0 && middle !== given[0]) given.push(middle);
  const marital = maritalStatus(hashInt('stroke-marital', key) % 100);
  const prefix = male ? 'Mr.' : marital.code === 'M' || marital.code === 'W' ? 'Mrs.' : 'Ms.';

  // Synthea's Patient layout (key order included), then the same UK identity step as every imported patient
  const patient: Resource = {
    resourceType: 'Patient',
    id: `${records.domain.id}-${hashUuid('stroke-patient', key)}`,
    identifier: [],
    name: [{ use: 'official', family: pick(FAMILY_NAMES, 'stroke-family', key), given, prefix: [prefix] }],
    telecom: [],
    gender: male ? 'male' : 'female',
    birthDate,
    address: [],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', ...marital }], text: marital.display },
    multipleBirthBoolean: false,
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-US', display: 'English (United States)' }] } }],
  };
  anglicisePatient(patient, records.domain, { nhsNumber, mrn: records.mrns.next(patient.id) }, nhsNumber, {
    reference: `Organization/${trustOrganizationId(records.domain)}`,
  });
  addResource(records, patient);
  return patient;
}

/** Mostly married or widowed at this age. */
function maritalStatus(percentile: number): { code: string; display: string } {
  if (percentile < 55) return { code: 'M', display: 'Married' };
  if (percentile < 80) return { code: 'W', display: 'Widowed' };
  if (percentile < 90) return { code: 'D', display: 'Divorced' };
  return { code: 'S', display: 'Never Married' };
}

/**
 * Person j lives at trust j mod n and has a second stroke 4-15 months later at the next trust. Chosen
 * among people whose first stroke is early enough for the second to fall before the last arrival.
 */
function addTwoTrustPeople(
  all: readonly DomainRecords[],
  planned: readonly PlannedEpisode[],
  count: number,
  lastArrival: number,
): { shared: Omit<SharedPatient, 'movedEncounters' | 'movedResources'>; episode: PlannedEpisode }[] {
  if (all.length < 2) return [];
  const latestGap = 480 * DAY;
  const taken = new Set<string>();
  const visits: { shared: Omit<SharedPatient, 'movedEncounters' | 'movedResources'>; episode: PlannedEpisode }[] = [];
  for (let j = 0; j < count; j++) {
    const home = all[j % all.length] as DomainRecords;
    const target = all[(j + 1) % all.length] as DomainRecords;
    const candidates = planned.filter((e) => e.records === home && !taken.has(e.patient.id) && e.arrivalMs + latestGap <= lastArrival);
    const first = hashOrder(candidates, (e) => e.patient.id, `stroke-two-trust-${home.domain.id}`)[0];
    if (!first) throw new Error(`${home.domain.id}: no stroke patient early enough for a second stroke at ${target.domain.id}`);
    taken.add(first.patient.id);
    first.thrombolysed = true; // both episodes count in the minutes too
    const copy = addVisitingRecord(home, target, first.patient);
    const key = `${first.key}-at-${target.domain.id}`;
    const gapMs = (120 + (hashInt('stroke-second', key) % 360)) * DAY + (hashInt('stroke-second-minute', key) % 1440) * MINUTE;
    visits.push({
      shared: {
        nhsNumber: nhsNumberOf(first.patient),
        home: { domain: home.domain.id, patientId: first.patient.id },
        visited: { domain: target.domain.id, patientId: copy.id },
      },
      episode: { records: target, patient: copy, arrivalMs: first.arrivalMs + gapMs, key, thrombolysed: true },
    });
  }
  return visits;
}

/** Per trust: the delayed few (past three hours) by hash, the others from the quantile function. */
function assignNeedleMinutes(episodes: readonly PlannedEpisode[]): void {
  const treated = episodes.filter((e) => e.thrombolysed);
  if (treated.length === 0) return;
  const delayedCount = Math.min(treated.length, Math.max(DELAYED.atLeast, Math.round(DELAYED.share * treated.length)));
  const delayed = new Set(hashOrder(treated, (e) => e.key, `stroke-delayed-${treated[0]?.records.domain.id}`).slice(0, delayedCount));
  for (const e of treated) {
    e.needleMinutes = delayed.has(e)
      ? DELAYED.fromMinutes + (hashInt('stroke-delay', e.key) % (NEEDLE_MINUTES.max - DELAYED.fromMinutes + 1))
      : quantileMinutes(hashInt('stroke-needle', e.key) / 2 ** 48);
  }
}

function quantileMinutes(u: number): number {
  for (let i = 1; i < NEEDLE_QUANTILES.length; i++) {
    const [p0, m0] = NEEDLE_QUANTILES[i - 1] as readonly [number, number];
    const [p1, m1] = NEEDLE_QUANTILES[i] as readonly [number, number];
    if (u <= p1) return Math.round(m0 + ((m1 - m0) * (u - p0)) / (p1 - p0));
  }
  return (NEEDLE_QUANTILES[NEEDLE_QUANTILES.length - 1] as readonly [number, number])[1];
}

/** Writes one episode: the emergency Encounter, its I63 Condition and, if treated, the thrombolysis Procedure. */
function addEpisode(planned: PlannedEpisode): StrokeEpisode {
  const { records, patient, arrivalMs, key } = planned;
  const domain: DomainSpec = records.domain;
  const id = (kind: string): string => `${domain.id}-${hashUuid(`stroke-${kind}`, key)}`;
  const start = isoInstant(arrivalMs);
  const end = isoInstant(arrivalMs + (2 + (hashInt('stroke-stay', key) % 8)) * DAY + (hashInt('stroke-discharge', key) % 480) * MINUTE);
  const subject = { reference: refKey(patient) };
  const clinicians = ofType(records, 'Practitioner');
  const site = siteForEncounterClass('EMER');

  const encounter: Resource = {
    resourceType: 'Encounter',
    id: id('encounter'),
    status: 'finished',
    class: { system: ACT_CODE_SYSTEM, code: 'EMER' },
    type: [{ coding: [{ ...EMERGENCY_ADMISSION }], text: EMERGENCY_ADMISSION.display }],
    subject: { ...subject, display: practitionerDisplay(patient) },
    ...(clinicians.length > 0
      ? {
          participant: [
            {
              type: [
                {
                  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF', display: 'primary performer' }],
                  text: 'primary performer',
                },
              ],
              period: { start, end },
              individual: { reference: refKey(pick(clinicians, 'stroke-clinician', key)) },
            },
          ],
        }
      : {}),
    period: { start, end },
    reasonCode: [{ coding: [{ ...CEREBRAL_INFARCTION }] }],
    serviceProvider: { reference: `Organization/${trustOrganizationId(domain)}` },
    ...(site ? { location: [{ location: ref({ resourceType: 'Location', id: siteLocationId(domain, site) }) }] } : {}),
  };
  const condition: Resource = {
    resourceType: 'Condition',
    id: id('condition'),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    code: { coding: [{ ...CEREBRAL_INFARCTION }], text: CEREBRAL_INFARCTION.display },
    subject,
    encounter: { reference: refKey(encounter) },
    onsetDateTime: start,
    abatementDateTime: end,
    recordedDate: start,
  };
  if (!addIcd10(condition)) throw new Error(`icd10-map.ts has no ICD-10 code for ${CEREBRAL_INFARCTION.code}`);
  addResource(records, encounter);
  addResource(records, condition);

  const minutes = planned.thrombolysed ? planned.needleMinutes : undefined;
  if (minutes !== undefined) {
    const needle = arrivalMs + minutes * MINUTE;
    addResource(records, {
      resourceType: 'Procedure',
      id: id('thrombolysis'),
      status: 'completed',
      code: { coding: [{ ...THROMBOLYSIS }], text: 'Intravenous thrombolysis' },
      subject,
      encounter: { reference: refKey(encounter) },
      performedPeriod: { start: isoInstant(needle), end: isoInstant(needle + 60 * MINUTE) },
      reasonReference: [{ reference: refKey(condition), display: CEREBRAL_INFARCTION.display }],
    });
  }
  return { domain: domain.id, patientId: patient.id, nhsNumber: nhsNumberOf(patient), encounterId: encounter.id, arrival: start, needleMinutes: minutes };
}

/** "2024-09-14T10:42:02+00:00": the instant format Synthea writes. */
function isoInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
