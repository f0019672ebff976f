import { expect } from 'chai';
import { DOMAINS } from '../runtime/topology';
import { SNOMED_TO_ICD10 } from './icd10-map';
import { trustAddress, ukHomeAddress, ukLandline, ukMobile, ukPostcode } from './uk-flavour';
import { placesFor, UK_POSTCODE } from './uk-places';

describe('uk-flavour', () => {
  it('makes valid-format UK postcodes', () => {
    for (const domain of DOMAINS) {
      for (const place of placesFor(domain)) {
        for (let i = 0; i < 50; i++) expect(ukPostcode(place, `k${i}`)).to.match(UK_POSTCODE);
      }
    }
    expect('NG7 2UH').to.match(UK_POSTCODE);
    expect('NG7 2UC').not.to.match(UK_POSTCODE); // C is never used in the inward code
  });

  it('puts a trust in the town its name mentions', () => {
    const nottingham = DOMAINS.find((d) => d.name.includes('Nottingham'));
    if (nottingham) expect(trustAddress(nottingham).city).to.equal('Nottingham');
    for (const domain of DOMAINS) expect(trustAddress(domain).country).to.equal('GB');
  });

  it('gives home addresses in the region, mostly in the trust town, deterministically', () => {
    const domain = DOMAINS[0];
    if (!domain) return;
    const addresses = Array.from({ length: 200 }, (_, i) => ukHomeAddress(domain, `person-${i}`));
    const towns = new Set(placesFor(domain).map((p) => p.town));
    for (const a of addresses) {
      expect(a.country).to.equal('GB');
      expect(towns.has(a.city as string)).to.equal(true);
      expect(a.postalCode).to.match(UK_POSTCODE);
    }
    const home = addresses.filter((a) => a.city === placesFor(domain)[0]?.town).length;
    expect(home).to.be.within(90, 150);
    expect(ukHomeAddress(domain, 'person-1')).to.deep.equal(addresses[1]);
  });

  it('uses Ofcom drama-range telephone numbers', () => {
    expect(ukMobile('x')).to.match(/^07700 900\d{3}$/);
    for (const domain of DOMAINS) expect(ukLandline(domain, 'x')).to.match(/^(0\d{3} 496 0\d{3}|020 7946 0\d{3}|01632 960\d{3})$/);
  });
});

describe('icd10-map', () => {
  it('maps a useful number of SNOMED codes to well-formed ICD-10 codes', () => {
    expect(SNOMED_TO_ICD10.size).to.be.at.least(40);
    for (const [snomed, [code, display]] of SNOMED_TO_ICD10) {
      expect(snomed, snomed).to.match(/^\d{6,18}$/);
      expect(code, snomed).to.match(/^[A-Z]\d{2}(\.\d)?$/);
      expect(display.length, snomed).to.be.greaterThan(3);
    }
  });
});
