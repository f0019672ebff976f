import { expect } from 'chai';
import type { DomainSpec } from '../runtime/topology';
import { syntheaLikeBundles } from './fixtures/synthea-like';
import { buildManifest } from './manifest';
import { isTestRangeNhsNumber } from './nhs-number';
import { generationParams, type PostProcessParams } from './params';
import { type PipelineResult, postProcess } from './pipeline';
import { UK_POSTCODE } from './uk-places';

// Checks are written against the NDJSON the pipeline renders, with codes spelled out here rather than
// imported from stroke-cohort.ts, so a wrong constant there shows up as a failure.
const SNOMED = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const CEREBRAL_INFARCTION = '432504007';
const THROMBOLYSIS = '426347000';
const MINUTE = 60_000;

const DOMAINS: DomainSpec[] = [
  { id: 'aa1', name: 'Nottingham Test Hospitals NHS Trust', kind: 'trust', odsCode: 'AA1', region: 'Midlands', seed: 1 },
  { id: 'bb2', name: 'Leeds Test Hospitals NHS Trust', kind: 'trust', odsCode: 'BB2', region: 'North East and Yorkshire', seed: 2 },
  { id: 'cc3', name: 'Oxford Test Hospitals NHS Trust', kind: 'trust', odsCode: 'CC3', region: 'South East', seed: 3 },
];
const STROKE_PER_DOMAIN = 60;
const PARAMS: PostProcessParams & { referenceDate: string } = {
  ...generationParams().postProcess,
  maxEncountersPerPatient: 4,
  strokePatientsPerDomain: STROKE_PER_DOMAIN,
  referenceDate: '2025-06-30',
};

type Res = { resourceType: string; id: string } & Record<string, unknown>;
type Ref = { reference: string };

function run(params: PostProcessParams & { referenceDate: string } = PARAMS, domains: DomainSpec[] = DOMAINS): PipelineResult {
  const inputs = domains.map((domain, i) => ({ domain, bundles: () => syntheaLikeBundles({ tag: i + 1, patients: 20, encountersPerPatient: 6 }) }));
  return postProcess(inputs, domains, params);
}

function parse(result: PipelineResult): Map<string, Res[]> {
  return new Map(
    result.domains.map((d) => [
      d.domain.id,
      [...d.files.values()].flatMap((text) =>
        text
          .split('\n')
          .filter((l) => l)
          .map((l) => JSON.parse(l) as Res),
      ),
    ]),
  );
}

const ofType = (rs: Res[], type: string): Res[] => rs.filter((r) => r.resourceType === type);
const codings = (concept: unknown): { system?: string; code?: string }[] => (concept as { coding?: { system?: string; code?: string }[] })?.coding ?? [];
const codeIn = (concept: unknown, system: string): string | undefined => codings(concept).find((c) => c.system === system)?.code;
const nhsNumber = (p: Res): string => (p.identifier as { system: string; value: string }[]).find((i) => i.system === NHS)?.value ?? '';
const ref = (value: unknown): string | undefined => (value as Ref | undefined)?.reference;

interface Episode {
  domain: string;
  encounter: Res;
  patient: Res;
  conditions: Res[];
  thrombolyses: Res[];
  /** performedPeriod.start - period.start, when thrombolysed. */
  minutes: number | undefined;
}

/** Stroke episodes as a test would find them: encounters that an I63 / 432504007 Condition was recorded in. */
function strokeEpisodes(data: Map<string, Res[]>): Episode[] {
  const episodes: Episode[] = [];
  for (const [domain, resources] of data) {
    const byKey = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
    const strokeConditions = ofType(resources, 'Condition').filter((c) => codeIn(c.code, SNOMED) === CEREBRAL_INFARCTION);
    const encounterKeys = [...new Set(strokeConditions.map((c) => ref(c.encounter) ?? ''))];
    for (const key of encounterKeys) {
      const encounter = byKey.get(key) as Res;
      const thrombolyses = ofType(resources, 'Procedure').filter((p) => ref(p.encounter) === key && codeIn(p.code, SNOMED) === THROMBOLYSIS);
      const start = (encounter.period as { start: string }).start;
      const needle = (thrombolyses[0]?.performedPeriod as { start: string } | undefined)?.start;
      episodes.push({
        domain,
        encounter,
        patient: byKey.get(ref(encounter.subject) ?? '') as Res,
        conditions: ofType(resources, 'Condition').filter((c) => ref(c.encounter) === key),
        thrombolyses,
        minutes: needle === undefined ? undefined : (Date.parse(needle) - Date.parse(start)) / MINUTE,
      });
    }
  }
  return episodes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

describe('stroke cohort', () => {
  const result = run();
  const data = parse(result);
  const episodes = strokeEpisodes(data);
  const treated = episodes.filter((e) => e.minutes !== undefined).map((e) => e.minutes as number);
  const twoTrust = [...new Set(episodes.map((e) => nhsNumber(e.patient)))].filter(
    (n) => new Set(episodes.filter((e) => nhsNumber(e.patient) === n).map((e) => e.domain)).size === 2,
  );

  it('is deterministic and seeded from the domain seed', () => {
    const again = parse(run());
    const strokeIds = (d: Map<string, Res[]>) => strokeEpisodes(d).map((e) => `${e.domain} ${e.patient.id} ${e.encounter.id}`);
    expect(strokeIds(again)).to.deep.equal(strokeIds(data));
    for (const [i, d] of result.domains.entries()) expect([...(run().domains[i]?.files ?? [])]).to.deep.equal([...d.files]);
    const reseeded = parse(
      run(
        PARAMS,
        DOMAINS.map((d) => ({ ...d, seed: d.seed + 100 })),
      ),
    );
    const ids = new Set(strokeIds(data));
    expect(strokeIds(reseeded).filter((id) => ids.has(id))).to.deep.equal([]);
  });

  it('gives each trust its own cohort plus the visiting two-trust people, one emergency episode per patient record', () => {
    expect(twoTrust).to.have.length(PARAMS.strokeTwoTrustPatients);
    for (const d of DOMAINS) {
      const here = episodes.filter((e) => e.domain === d.id);
      const visitors = here.filter((e) => twoTrust.includes(nhsNumber(e.patient)) && result.sharedPatients.some((s) => s.visited.patientId === e.patient.id));
      expect(here.length - visitors.length, d.id).to.equal(STROKE_PER_DOMAIN);
      expect(new Set(here.map((e) => e.patient.id)).size, `${d.id}: one episode per patient`).to.equal(here.length);
      expect(result.domains.find((x) => x.domain.id === d.id)?.stroke.patients).to.equal(here.length);
    }
  });

  it('codes each episode as an EMER encounter with exactly one I63 condition and at most one thrombolysis after arrival', () => {
    for (const e of episodes) {
      const label = `${e.domain} ${e.encounter.id}`;
      expect(e.encounter.class, label).to.deep.equal({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' });
      expect(codeIn((e.encounter.type as unknown[])[0], SNOMED), label).to.equal('183452005');
      const { start, end } = e.encounter.period as { start: string; end: string };
      expect(start, label).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      expect(Date.parse(end) - Date.parse(start), label).to.be.within(2 * 86_400_000, 10 * 86_400_000);
      expect(e.conditions, label).to.have.length(1);
      const condition = e.conditions[0] as Res;
      expect(codeIn(condition.code, ICD10), label).to.match(/^I63(\.\d)?$/);
      expect(condition.onsetDateTime, label).to.equal(start);
      expect(ref(condition.subject)).to.equal(`Patient/${e.patient.id}`);
      expect(e.thrombolyses.length, label).to.be.at.most(1);
      const procedure = e.thrombolyses[0];
      if (!procedure) continue;
      expect(procedure.status).to.equal('completed');
      expect(ref(procedure.subject)).to.equal(`Patient/${e.patient.id}`);
      const performed = procedure.performedPeriod as { start: string; end: string };
      expect(Date.parse(performed.end) - Date.parse(performed.start)).to.equal(60 * MINUTE);
      expect(e.minutes, label).to.be.within(15, 240);
      expect(Number.isInteger(e.minutes), `${label}: whole minutes`).to.equal(true);
      expect(Date.parse(performed.end)).to.be.below(Date.parse(end));
    }
  });

  it('spreads arrivals over the 3 years before the reference date', () => {
    const arrivals = episodes.map((e) => Date.parse((e.encounter.period as { start: string }).start));
    const reference = Date.parse(`${PARAMS.referenceDate}T00:00:00Z`);
    for (const a of arrivals) expect(a).to.be.within(reference - 3 * 365 * 86_400_000, reference);
    const years = new Set(arrivals.map((a) => new Date(a).getUTCFullYear()));
    expect(years.size).to.be.at.least(3);
  });

  it('resolves every reference of the cohort within its domain', () => {
    for (const e of episodes) {
      const keys = new Set((data.get(e.domain) ?? []).map((r) => `${r.resourceType}/${r.id}`));
      for (const r of [e.patient, e.encounter, ...e.conditions, ...e.thrombolyses]) {
        for (const target of JSON.stringify(r).match(/"reference":"[^"]+"/g) ?? []) {
          expect(keys.has(target.slice(13, -1)), `${e.domain} ${r.resourceType}/${r.id} -> ${target}`).to.equal(true);
        }
      }
      expect(ref(e.encounter.serviceProvider)).to.equal(`Organization/${e.domain}-trust`);
      expect(ref((e.encounter.location as { location: Ref }[])[0]?.location)).to.equal(`Location/${e.domain}-loc-ed`);
    }
  });

  it('treats ~80% with a skewed door-to-needle time: median 45-65 min, a few past 3 hours at every trust', () => {
    const share = treated.length / episodes.length;
    expect(share).to.be.within(0.7, 0.92);
    expect(median(treated)).to.be.within(45, 65);
    const mean = treated.reduce((a, b) => a + b, 0) / treated.length;
    expect(mean).to.be.within(55, 80);
    expect(mean).to.be.greaterThan(median(treated)); // right-skewed
    for (const d of DOMAINS) {
      const here = episodes.filter((e) => e.domain === d.id && e.minutes !== undefined).map((e) => e.minutes as number);
      expect(here.filter((m) => m > 180).length, d.id).to.be.at.least(2);
      expect(median(here), d.id).to.be.within(40, 70);
      expect(result.domains.find((x) => x.domain.id === d.id)?.stroke.thrombolysed).to.equal(here.length);
    }
  });

  it('makes the cohort look like every other patient: 999-range NHS number, trust MRN, UK address', () => {
    const all = [...data.values()].flatMap((rs) => ofType(rs, 'Patient'));
    for (const e of episodes) {
      const p = e.patient;
      expect(isTestRangeNhsNumber(nhsNumber(p)), p.id).to.equal(true);
      expect((p.identifier as { system: string }[]).map((i) => i.system)).to.deep.equal([NHS, `https://fhir.${e.domain}.nhs.uk/Id/pas-identifier`]);
      expect(p.id).to.match(new RegExp(`^${e.domain}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));
      const address = (p.address as { country: string; postalCode: string }[])[0];
      expect(address?.country).to.equal('GB');
      expect(address?.postalCode).to.match(UK_POSTCODE);
      expect((p.telecom as { value: string }[])[0]?.value).to.match(/^07700 900\d{3}$/);
      expect(ref(p.managingOrganization)).to.equal(`Organization/${e.domain}-trust`);
      expect(p.gender).to.be.oneOf(['male', 'female']);
      expect(p.meta).to.equal(undefined);
    }
    // NHS numbers are unique across the whole mesh, except for people with a record at two trusts
    const numbers = all.map(nhsNumber);
    expect(new Set(numbers).size).to.equal(numbers.length - result.sharedPatients.length);
  });

  it('has the two-trust people share one NHS number and identity, with a later episode at the second trust', () => {
    expect(result.strokeCohort.twoTrust.map((s) => s.nhsNumber).sort()).to.deep.equal([...twoTrust].sort());
    for (const n of twoTrust) {
      const [home, visit] = episodes
        .filter((e) => nhsNumber(e.patient) === n)
        .sort((a, b) => Date.parse((a.encounter.period as { start: string }).start) - Date.parse((b.encounter.period as { start: string }).start));
      expect(home?.domain).to.not.equal(visit?.domain);
      expect(visit?.patient.name).to.deep.equal(home?.patient.name);
      expect(visit?.patient.birthDate).to.equal(home?.patient.birthDate);
      expect(visit?.patient.address).to.deep.equal(home?.patient.address);
      expect(visit?.patient.id).to.not.equal(home?.patient.id);
      const shared = result.sharedPatients.find((s) => s.nhsNumber === n);
      expect(shared?.home).to.deep.equal({ domain: home?.domain, patientId: home?.patient.id });
      expect(shared?.visited).to.deep.equal({ domain: visit?.domain, patientId: visit?.patient.id });
      expect(home?.minutes, 'both episodes are thrombolysed').to.be.a('number');
      expect(visit?.minutes, 'both episodes are thrombolysed').to.be.a('number');
    }
    expect(buildManifest(generationParams(), result).strokeTwoTrustNhsNumbers.sort()).to.deep.equal([...twoTrust].sort());
  });

  it('opts ~8% of the cohort out, exactly one two-trust person with a Consent at both trusts, and leaves the others alone', () => {
    const consentFor = (domain: string, patient: Res): Res | undefined =>
      ofType(data.get(domain) ?? [], 'Consent').find((c) => ref(c.patient) === `Patient/${patient.id}`);
    const optedOutTwoTrust = twoTrust.filter((n) => result.optOuts.some((o) => o.nhsNumber === n));
    expect(optedOutTwoTrust).to.have.length(1);
    for (const e of episodes.filter((x) => twoTrust.includes(nhsNumber(x.patient)))) {
      const optedOut = optedOutTwoTrust.includes(nhsNumber(e.patient));
      expect(consentFor(e.domain, e.patient) !== undefined, `${e.domain} ${e.patient.id}`).to.equal(optedOut);
    }
    for (const d of DOMAINS) {
      const here = episodes.filter((e) => e.domain === d.id);
      const optedOut = here.filter((e) => consentFor(d.id, e.patient) !== undefined).length;
      expect(optedOut, d.id).to.be.within(3, 7); // round(0.08 * 60) = 5, +-1 two-trust person
      expect(result.domains.find((x) => x.domain.id === d.id)?.stroke.optedOut).to.equal(optedOut);
    }
  });

  it('keeps the two-trust people who stay in free of random and floor security labels, so both episodes stay visible', () => {
    const keptIn = twoTrust.filter((n) => !result.optOuts.some((o) => o.nhsNumber === n));
    expect(keptIn).to.have.length(PARAMS.strokeTwoTrustPatients - 1);
    for (const e of episodes.filter((x) => keptIn.includes(nhsNumber(x.patient)))) {
      for (const r of [e.encounter, ...e.conditions, ...e.thrombolyses]) expect(r.meta, `${e.domain} ${r.resourceType}/${r.id}`).to.equal(undefined);
    }
    // the rest of the cohort is labelled like everyone: the 1% sprinkle reaches a few of its resources
    const cohortResources = episodes.flatMap((e) => [e.encounter, ...e.conditions, ...e.thrombolyses]);
    expect(cohortResources.filter((r) => r.meta !== undefined).length).to.be.greaterThan(0);
  });

  it("leaves Synthea's patients, their sharing and their opt-outs as they are without the cohort", () => {
    const without = run({ ...PARAMS, strokePatientsPerDomain: 0, strokeTwoTrustPatients: 0 });
    const cohortNumbers = new Set(episodes.map((e) => nhsNumber(e.patient)));
    const syntheaPatients = (d: Map<string, Res[]>) =>
      [...d.values()]
        .flatMap((rs) => ofType(rs, 'Patient'))
        .filter((p) => !cohortNumbers.has(nhsNumber(p)))
        .map((p) => JSON.stringify(p));
    expect(syntheaPatients(data)).to.deep.equal(syntheaPatients(parse(without)));
    expect(result.sharedPatients.filter((s) => !cohortNumbers.has(s.nhsNumber))).to.deep.equal(without.sharedPatients);
    expect(result.optOuts.filter((o) => !cohortNumbers.has(o.nhsNumber))).to.deep.equal(without.optOuts);
    expect(without.strokeCohort.episodes).to.deep.equal([]);
  });
});
