import { expect } from 'chai';
import type { DomainSpec } from '../runtime/topology';
import { syntheaLikeBundles } from './fixtures/synthea-like';
import { buildManifest, renderManifest } from './manifest';
import { isTestRangeNhsNumber } from './nhs-number';
import { generationParams, type PostProcessParams } from './params';
import { fileDigest, LOAD_ORDER, type PipelineResult, postProcess } from './pipeline';
import { SECURITY_LABELS } from './security-labels';
import { ODS_ORGANIZATION_SYSTEM } from './trust';

const DOMAINS: DomainSpec[] = [
  { id: 'aa1', name: 'Nottingham Test Hospitals NHS Trust', kind: 'trust', odsCode: 'AA1', region: 'Midlands', seed: 1 },
  { id: 'bb2', name: 'Leeds Test Hospitals NHS Trust', kind: 'trust', odsCode: 'BB2', region: 'North East and Yorkshire', seed: 2 },
  { id: 'cc3', name: 'Elsewhere Test NHS Trust', kind: 'trust', odsCode: 'CC3', region: 'Nowhere', seed: 3 },
];
const PATIENTS = 20;
const PARAMS: PostProcessParams & { referenceDate: string } = {
  maxEncountersPerPatient: 4,
  sharedFraction: 0.1,
  maxMovedEncounters: 2,
  optOutFraction: 0.08,
  optOutsAmongSharedPerDomain: 1,
  labelRandomFraction: 0.01,
  minimumPerLabel: 3,
  strokePatientsPerDomain: 12,
  strokeTwoTrustPatients: 3,
  strokeThrombolysedFraction: 0.8,
  strokeYears: 3,
  referenceDate: '2025-06-30',
};

type Res = { resourceType: string; id: string } & Record<string, unknown>;

function run(): PipelineResult {
  const inputs = DOMAINS.map((domain, i) => ({
    domain,
    bundles: () => syntheaLikeBundles({ tag: i + 1, patients: PATIENTS, encountersPerPatient: 6 }),
  }));
  return postProcess(inputs, DOMAINS, PARAMS);
}

function parse(result: PipelineResult): Map<string, Res[]> {
  const byDomain = new Map<string, Res[]>();
  for (const d of result.domains) {
    const all: Res[] = [];
    for (const text of d.files.values()) for (const line of text.split('\n')) if (line) all.push(JSON.parse(line) as Res);
    byDomain.set(d.domain.id, all);
  }
  return byDomain;
}

function referencesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) referencesIn(v, found);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') found.push(v);
      else referencesIn(v, found);
    }
  }
  return found;
}

const nhsNumber = (p: Res): string | undefined =>
  (p.identifier as { system: string; value: string }[]).find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value;
const securityCodes = (r: Res): string[] => ((r.meta as { security?: { code: string }[] } | undefined)?.security ?? []).map((s) => s.code);
const ofType = (rs: Res[], type: string): Res[] => rs.filter((r) => r.resourceType === type);

describe('post-processing of Synthea bundles', () => {
  const result = run();
  const data = parse(result);

  it('is deterministic: same input, byte-identical files and manifest', () => {
    const again = run();
    for (const [i, d] of result.domains.entries()) {
      expect([...(again.domains[i]?.files ?? [])]).to.deep.equal([...d.files]);
    }
    const params = generationParams();
    expect(renderManifest(buildManifest(params, again))).to.equal(renderManifest(buildManifest(params, result)));
  });

  it('keeps only analytic resource types, in load order, sorted by id', () => {
    for (const d of result.domains) {
      const types = [...d.files.keys()];
      expect(types).to.deep.equal(LOAD_ORDER.filter((t) => types.includes(t)));
      for (const dropped of ['Claim', 'ExplanationOfBenefit', 'Provenance', 'Device', 'CareTeam']) expect(types).not.to.include(dropped);
      for (const text of d.files.values()) {
        const ids = text
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as Res).id);
        expect(ids).to.deep.equal([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    }
  });

  it('resolves every reference to a relative Type/id present in the same domain, pointing back in load order', () => {
    for (const [domain, resources] of data) {
      const keys = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
      for (const r of resources) {
        for (const ref of referencesIn(r)) {
          expect(ref, `${domain} ${r.resourceType}/${r.id}`).to.match(/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/);
          expect(keys.has(ref), `${domain} ${r.resourceType}/${r.id} -> ${ref}`).to.equal(true);
          expect(LOAD_ORDER.indexOf(ref.split('/')[0] as string)).to.be.lessThan(LOAD_ORDER.indexOf(r.resourceType));
        }
      }
    }
  });

  it('gives valid, non-numeric ids unique across domains', () => {
    const seen = new Set<string>();
    for (const resources of data.values()) {
      for (const r of resources) {
        expect(r.id).to.match(/^[A-Za-z0-9\-.]{1,64}$/);
        expect(r.id).not.to.match(/^\d+$/);
        const key = `${r.resourceType}/${r.id}`;
        expect(seen.has(key), key).to.equal(false);
        seen.add(key);
      }
    }
  });

  it('removes US identifiers, extensions, addresses and narratives', () => {
    for (const resources of data.values()) {
      const text = JSON.stringify(resources);
      for (const us of [
        'us-ssn',
        'passport-USA',
        '2.16.840.1.113883.4.3.25',
        'smarthealthit',
        'synthetichealth',
        'us-npi',
        'us-core',
        'mothersMaidenName',
        'birthPlace',
        'Massachusetts',
        'BOSTON',
        '555-',
        'geolocation',
        '"text":{"status"',
      ]) {
        expect(text, us).not.to.include(us);
      }
      for (const r of resources) {
        for (const a of [r.address ?? []].flat() as { country?: string }[]) expect(a.country).to.equal('GB');
      }
    }
  });

  it('gives every patient a valid 999-range NHS number and a trust MRN', () => {
    for (const [domain, resources] of data) {
      for (const p of ofType(resources, 'Patient')) {
        expect(isTestRangeNhsNumber(nhsNumber(p) ?? ''), p.id).to.equal(true);
        const systems = (p.identifier as { system: string }[]).map((i) => i.system);
        expect(systems).to.deep.equal(['https://fhir.nhs.uk/Id/nhs-number', `https://fhir.${domain}.nhs.uk/Id/pas-identifier`]);
      }
    }
  });

  it('has one ODS-coded trust organisation per domain that patients and encounters point at', () => {
    for (const d of DOMAINS) {
      const resources = data.get(d.id) ?? [];
      const orgs = ofType(resources, 'Organization');
      expect(orgs).to.have.length(1);
      expect(orgs[0]?.identifier).to.deep.equal([{ system: ODS_ORGANIZATION_SYSTEM, value: d.odsCode }]);
      expect(orgs[0]?.name).to.equal(d.name);
      const trust = `Organization/${orgs[0]?.id}`;
      for (const p of ofType(resources, 'Patient')) expect((p.managingOrganization as { reference: string }).reference).to.equal(trust);
      for (const e of ofType(resources, 'Encounter')) expect((e.serviceProvider as { reference: string }).reference).to.equal(trust);
    }
  });

  it('adds ICD-10 beside SNOMED where the map knows the code', () => {
    const conditions = [...data.values()].flatMap((rs) => ofType(rs, 'Condition'));
    const coding = (c: Res) => (c.code as { coding: { system: string; code: string }[] }).coding;
    const hypertension = conditions.filter((c) => coding(c)[0]?.code === '59621000');
    expect(hypertension.length).to.be.greaterThan(0);
    for (const c of hypertension) expect(coding(c)[1]).to.include({ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' });
    const employment = conditions.filter((c) => coding(c)[0]?.code === '160903007');
    for (const c of employment) expect(coding(c)).to.have.length(1);
  });

  it('trims each patient to the most recent encounters, keeping conditions', () => {
    for (const [domain, resources] of data) {
      const homeOnly = result.domains.find((d) => d.domain.id === domain);
      expect(homeOnly).to.not.equal(undefined);
      const perPatient = new Map<string, number>();
      for (const e of ofType(resources, 'Encounter')) {
        const p = (e.subject as { reference: string }).reference;
        perPatient.set(p, (perPatient.get(p) ?? 0) + 1);
      }
      for (const n of perPatient.values()) expect(n).to.be.at.most(PARAMS.maxEncountersPerPatient);
      expect(ofType(resources, 'Condition').length).to.be.greaterThan(0);
    }
  });

  it('labels sensitive conditions clinically and reaches the per-label minimum everywhere', () => {
    for (const [domain, resources] of data) {
      for (const c of ofType(resources, 'Condition')) {
        const text = JSON.stringify(c.code);
        const codes = securityCodes(c);
        if (text.includes('80583007')) expect(codes, domain).to.include.members(['R', 'PSY']);
        if (text.includes('86406008')) expect(codes, domain).to.include.members(['V', 'HIV']);
        if (text.includes('706893006')) expect(codes, domain).to.include.members(['R', 'SDV']);
      }
      const counts = result.domains.find((d) => d.domain.id === domain)?.securityLabels;
      for (const label of SECURITY_LABELS) {
        const n = resources.filter((r) => securityCodes(r).includes(label)).length;
        expect(n, `${domain} ${label}`).to.be.at.least(PARAMS.minimumPerLabel);
        expect(counts?.[label]).to.equal(n);
      }
      for (const type of ['Patient', 'Organization', 'Practitioner', 'Location', 'Consent']) {
        for (const r of ofType(resources, type)) expect(r.meta, `${type} has no labels`).to.equal(undefined);
      }
    }
  });

  it('lets medication and procedures for a sensitive condition inherit its label', () => {
    for (const resources of data.values()) {
      const hiv = new Set(
        ofType(resources, 'Condition')
          .filter((c) => JSON.stringify(c.code).includes('86406008'))
          .map((c) => `Condition/${c.id}`),
      );
      for (const r of [...ofType(resources, 'MedicationRequest'), ...ofType(resources, 'Procedure')]) {
        const reasons = ((r.reasonReference as { reference: string }[] | undefined) ?? []).map((x) => x.reference);
        if (reasons.some((x) => hiv.has(x))) expect(securityCodes(r)).to.include.members(['V', 'HIV']);
      }
    }
  });

  it('shares ~10% of patients with another trust under the same NHS number, moving later encounters', () => {
    // plus the stroke cohort's two-trust people, whose second episode is later too
    expect(result.sharedPatients.length).to.equal(DOMAINS.length * Math.round(0.1 * PATIENTS) + PARAMS.strokeTwoTrustPatients);
    for (const s of result.sharedPatients) {
      expect(s.home.domain).not.to.equal(s.visited.domain);
      const home = (data.get(s.home.domain) ?? []).find((r) => r.id === s.home.patientId) as Res;
      const visit = (data.get(s.visited.domain) ?? []).find((r) => r.id === s.visited.patientId) as Res;
      expect(nhsNumber(home)).to.equal(s.nhsNumber);
      expect(nhsNumber(visit)).to.equal(s.nhsNumber);
      expect(visit.id).not.to.equal(home.id);
      expect(visit.name).to.deep.equal(home.name);
      expect(visit.birthDate).to.equal(home.birthDate);
      expect(visit.gender).to.equal(home.gender);
      const mrn = (p: Res) => (p.identifier as { value: string }[])[1]?.value;
      expect(mrn(visit)).to.be.a('string');
      const visited = data.get(s.visited.domain) ?? [];
      const encounters = ofType(visited, 'Encounter').filter((e) => (e.subject as { reference: string }).reference === `Patient/${visit.id}`);
      expect(encounters).to.have.length(s.movedEncounters);
      expect(s.movedEncounters).to.be.within(1, PARAMS.maxMovedEncounters);
      const homeEncounters = ofType(data.get(s.home.domain) ?? [], 'Encounter').filter(
        (e) => (e.subject as { reference: string }).reference === `Patient/${home.id}`,
      );
      expect(homeEncounters.length).to.be.greaterThan(0);
      const latestHome = homeEncounters
        .map((e) => (e.period as { start: string }).start)
        .sort()
        .pop() as string;
      for (const e of encounters) expect((e.period as { start: string }).start >= latestHome).to.equal(true);
    }
    const all = [...data.values()].flatMap((rs) => ofType(rs, 'Patient')).map((p) => nhsNumber(p));
    expect(new Set(all).size).to.equal(all.length - result.sharedPatients.length);
  });

  it('records a national data opt-out as a Consent in every domain holding the person', () => {
    expect(result.optOuts.length).to.be.greaterThan(0);
    const shared = new Set(result.sharedPatients.map((s) => s.nhsNumber));
    expect(result.optOuts.filter((o) => shared.has(o.nhsNumber)).length).to.be.at.least(1);
    for (const o of result.optOuts) {
      for (const domain of o.domains) {
        const resources = data.get(domain) ?? [];
        const patient = ofType(resources, 'Patient').find((p) => nhsNumber(p) === o.nhsNumber) as Res;
        const consent = ofType(resources, 'Consent').find((c) => (c.patient as { reference: string }).reference === `Patient/${patient.id}`) as Res;
        expect(consent, `${domain} ${o.nhsNumber}`).to.not.equal(undefined);
        expect(consent.status).to.equal('active');
        expect(consent.dateTime).to.equal(o.dateTime);
        expect(JSON.stringify(consent.scope)).to.include('patient-privacy');
        expect(JSON.stringify(consent.category)).to.include('59284-0');
        const provision = consent.provision as { type: string; purpose: { code: string }[] };
        expect(provision.type).to.equal('deny');
        expect(provision.purpose.map((p) => p.code)).to.include('HRESCH');
      }
    }
    for (const d of result.domains) {
      const own = d.homePatients;
      const homeOptOuts = result.optOuts.filter(
        (o) => o.domains[0] !== undefined && (data.get(d.domain.id) ?? []).some((p) => p.resourceType === 'Patient' && nhsNumber(p) === o.nhsNumber),
      ).length;
      expect(homeOptOuts).to.be.at.least(Math.max(1, Math.round(PARAMS.optOutFraction * own)));
      expect(d.optedOutPatients).to.equal(ofType(data.get(d.domain.id) ?? [], 'Consent').length);
    }
  });

  it('builds a manifest whose counts and digests match the files', () => {
    const manifest = buildManifest(generationParams(), result);
    for (const d of manifest.domains) {
      const out = result.domains.find((x) => x.domain.id === d.id);
      for (const f of d.files) {
        const text = out?.files.get(f.resourceType) ?? '';
        expect(f.sha256).to.equal(fileDigest(text));
        expect(f.count).to.equal(text.split('\n').length - 1);
        expect(f.path).to.equal(`${d.id}/${f.resourceType}.ndjson`);
      }
    }
    expect(manifest.sharedPatients).to.have.length(result.sharedPatients.length);
  });
});
