import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { meshShape, NHS_REGIONS, siteSpec } from '../runtime/topology';
import type { Manifest } from './manifest';
import { ensureSiteData, SHARES_PER_TRUST } from './sites';

const TYPES = ['Organization', 'Practitioner', 'Patient', 'Encounter', 'Consent'];

/** A demo output with one trust (rx1) of `patients` patients, each with an encounter; patient 0 has an opt-out. */
function demoOutput(patients: number, extra: Record<string, unknown>[] = []): { out: string; manifest: Manifest } {
  const out = mkdtempSync(path.join(os.tmpdir(), 'sites-'));
  const pid = (i: number): string => `rx1-p${String(i).padStart(3, '0')}`;
  const records: Record<string, Record<string, unknown>[]> = {
    Organization: [
      { resourceType: 'Organization', id: 'rx1-trust' },
      { resourceType: 'Organization', id: 'rx1-unused' },
    ],
    Practitioner: [{ resourceType: 'Practitioner', id: 'rx1-dr' }],
    Patient: Array.from({ length: patients }, (_, i) => ({
      resourceType: 'Patient',
      id: pid(i),
      managingOrganization: { reference: 'Organization/rx1-trust' },
    })),
    Encounter: Array.from({ length: patients }, (_, i) => ({
      resourceType: 'Encounter',
      id: `rx1-e${i}`,
      subject: { reference: `Patient/${pid(i)}` },
      participant: [{ individual: { reference: 'Practitioner/rx1-dr' } }],
    })),
    Consent: [{ resourceType: 'Consent', id: `${pid(0)}-ndop`, patient: { reference: `Patient/${pid(0)}` } }, ...extra],
  };
  mkdirSync(path.join(out, 'rx1'));
  for (const type of TYPES) writeFileSync(path.join(out, 'rx1', `${type}.ndjson`), records[type]!.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const manifest = {
    loadOrder: TYPES,
    domains: [{ id: 'rx1', counts: Object.fromEntries(TYPES.map((t) => [t, records[t]!.length])) }],
  } as unknown as Manifest;
  writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest));
  return { out, manifest };
}

function lines(out: string, site: string, type: string): Record<string, unknown>[] {
  return readFileSync(path.join(out, site, `${type}.ndjson`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('synthetic sites', () => {
  it('numbers sites after the demo trusts with codes no trust or practice has, cycling kinds and regions', () => {
    const sites = [4, 5, 6, 7, 11, 128].map(siteSpec);
    expect(sites.map((s) => [s.id, s.odsCode])).to.deep.equal([
      ['s004', 'S004'],
      ['s005', 'S005'],
      ['s006', 'S006'],
      ['s007', 'S007'],
      ['s011', 'S011'],
      ['s128', 'S128'],
    ]);
    for (const s of sites) expect(s.odsCode).to.match(/^S\d{3,}$/);
    expect(sites.slice(0, 4).map((s) => s.kind)).to.deep.equal(['trust', 'gp-federation', 'ics', 'trust']);
    expect(sites.slice(0, 4).map((s) => [s.source, s.share])).to.deep.equal([
      ['rx1', 0],
      ['rth', 0],
      ['rr8', 0],
      ['rx1', 1],
    ]);
    expect(siteSpec(11).region).to.equal(NHS_REGIONS[0]);
    expect(() => siteSpec(3)).to.throw(/above 3/);
  });

  it('refuses a mesh smaller than the demo trusts, naming the setting', () => {
    const saved = process.env.MESH_DOMAINS;
    process.env.MESH_DOMAINS = '2';
    try {
      expect(() => meshShape()).to.throw(/MESH_DOMAINS must be a whole number >= 3, got '2'/);
    } finally {
      if (saved === undefined) delete process.env.MESH_DOMAINS;
      else process.env.MESH_DOMAINS = saved;
    }
  });

  it("gives a site one share of its trust's patients with everything about them, re-prefixed", () => {
    const { out, manifest } = demoOutput(SHARES_PER_TRUST + 2);
    try {
      const result = ensureSiteData(manifest, [siteSpec(4), siteSpec(7)], { out });
      // Share 0: patients 0 and 64; share 1: patients 1 and 65.
      expect(lines(out, 's004', 'Patient').map((p) => p.id)).to.deep.equal(['s004-p000', 's004-p064']);
      expect(lines(out, 's007', 'Patient').map((p) => p.id)).to.deep.equal(['s007-p001', 's007-p065']);
      expect(lines(out, 's004', 'Encounter').map((e) => (e.subject as { reference: string }).reference)).to.deep.equal([
        'Patient/s004-p000',
        'Patient/s004-p064',
      ]);
      // The opt-out travels with its patient; the referenced organisation and practitioner come along, nothing else.
      expect(lines(out, 's004', 'Consent').map((c) => c.id)).to.deep.equal(['s004-p000-ndop']);
      expect(lines(out, 's007', 'Consent')).to.deep.equal([]);
      expect(lines(out, 's004', 'Organization').map((o) => o.id)).to.deep.equal(['s004-trust']);
      expect(lines(out, 's004', 'Practitioner').map((o) => o.id)).to.deep.equal(['s004-dr']);
      const s004 = result.domains.find((d) => d.id === 's004')!;
      expect(s004.counts).to.deep.equal({ Organization: 1, Practitioner: 1, Patient: 2, Encounter: 2, Consent: 1 });
      expect(s004.patientsWithConsent).to.equal(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("keeps a site's records whatever the number of sites, byte for byte", () => {
    const { out, manifest } = demoOutput(SHARES_PER_TRUST + 2);
    try {
      ensureSiteData(manifest, [siteSpec(4)], { out });
      const alone = readFileSync(path.join(out, 's004', 'Encounter.ndjson'), 'utf8');
      const more = ensureSiteData(
        manifest,
        [4, 5, 6, 7, 10].map(siteSpec).filter((s) => s.source === 'rx1'),
        { out },
      );
      expect(readFileSync(path.join(out, 's004', 'Encounter.ndjson'), 'utf8')).to.equal(alone);
      expect(more.domains.map((d) => d.id)).to.deep.equal(['s004', 's007', 's010']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses a record that ties a site patient to a patient of another share', () => {
    const tie = { resourceType: 'Consent', id: 'rx1-tie', patient: { reference: 'Patient/rx1-p000' }, performer: [{ reference: 'Patient/rx1-p001' }] };
    const { out, manifest } = demoOutput(3, [tie]);
    try {
      expect(() => ensureSiteData(manifest, [siteSpec(4)], { out })).to.throw(/Consent\/rx1-tie references Patient\/rx1-p001 besides a patient of s004/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
