import { expect } from 'chai';
import type { DomainSpec } from '../runtime/topology';
import { addResource, newDomainRecords } from './domain-records';
import type { Resource } from './fhir';
import { applySecurityLabels, clinicalSensitivities, labelsOf, SECURITY_LABELS } from './security-labels';

const DOMAIN: DomainSpec = { id: 'zz9', name: 'Test NHS Trust', kind: 'trust', odsCode: 'ZZ9', region: 'Midlands', seed: 9 };

const condition = (id: string, snomed: string, text: string, icd?: string): Resource => ({
  resourceType: 'Condition',
  id,
  code: {
    coding: [{ system: 'http://snomed.info/sct', code: snomed, display: text }, ...(icd ? [{ system: 'http://hl7.org/fhir/sid/icd-10', code: icd }] : [])],
    text,
  },
  subject: { reference: 'Patient/zz9-p' },
});
const observation = (id: string, text: string, value: number): Resource => ({
  resourceType: 'Observation',
  id,
  code: { text },
  subject: { reference: 'Patient/zz9-p' },
  valueQuantity: { value },
});

describe('security-labels', () => {
  it('derives sensitivity from codes and text', () => {
    expect(clinicalSensitivities(condition('a', '370143000', 'Major depressive disorder', 'F32.9'))).to.deep.equal(['PSY']);
    expect(clinicalSensitivities(condition('b', '86406008', 'Human immunodeficiency virus infection', 'B24'))).to.deep.equal(['HIV']);
    expect(clinicalSensitivities(condition('c', '706893006', 'Victim of intimate partner abuse', 'T74.9'))).to.deep.equal(['SDV']);
    expect(clinicalSensitivities(condition('d', '59621000', 'Essential hypertension', 'I10'))).to.deep.equal([]);
    expect(clinicalSensitivities(observation('e', 'HIV status', 0))).to.deep.equal(['HIV']);
    expect(clinicalSensitivities(observation('f', 'Total score [HARK]', 2))).to.deep.equal(['SDV']);
    expect(clinicalSensitivities(observation('g', 'Total score [HARK]', 0))).to.deep.equal([]);
  });

  it('applies implied confidentiality, inherits through reasons, and meets the floor', () => {
    const records = newDomainRecords(DOMAIN, 0);
    addResource(records, { resourceType: 'Patient', id: 'zz9-p' });
    addResource(records, condition('zz9-hiv', '86406008', 'HIV infection', 'B24'));
    addResource(records, condition('zz9-dep', '370143000', 'Major depressive disorder', 'F32.9'));
    addResource(records, {
      resourceType: 'MedicationRequest',
      id: 'zz9-art',
      subject: { reference: 'Patient/zz9-p' },
      reasonReference: [{ reference: 'Condition/zz9-hiv' }],
    });
    for (let i = 0; i < 60; i++) addResource(records, observation(`zz9-o${i}`, 'Heart rate', 70));

    const counts = applySecurityLabels(records, { randomFraction: 0, minimumPerLabel: 4 });
    const labels = (key: string): string[] => labelsOf(records.resources.get(key) as Resource);
    expect(labels('Condition/zz9-hiv')).to.deep.equal(['V', 'HIV']);
    expect(labels('Condition/zz9-dep')).to.deep.equal(['R', 'PSY']);
    expect(labels('MedicationRequest/zz9-art')).to.deep.equal(['V', 'HIV']);
    expect(labels('Patient/zz9-p')).to.deep.equal([]);
    for (const label of SECURITY_LABELS) expect(counts[label], label).to.be.at.least(4);
    const labelled = [...records.resources.values()].filter((r) => labelsOf(r).length > 0);
    expect(labelled.every((r) => labelsOf(r).filter((l) => l === 'R' || l === 'V').length === 1)).to.equal(true);
  });

  it('gives the patients named in clinicalLabelsOnly clinical labels but no sprinkled or floor ones', () => {
    const records = newDomainRecords(DOMAIN, 0);
    for (const p of ['zz9-p', 'zz9-q']) addResource(records, { resourceType: 'Patient', id: p });
    const ofQ = (r: Resource): Resource => ({ ...r, subject: { reference: 'Patient/zz9-q' } });
    addResource(records, ofQ(condition('zz9-q-hiv', '86406008', 'HIV infection', 'B24')));
    for (let i = 0; i < 20; i++) addResource(records, ofQ(observation(`zz9-q-o${i}`, 'Heart rate', 70)));
    for (let i = 0; i < 20; i++) addResource(records, observation(`zz9-p-o${i}`, 'Heart rate', 70));

    applySecurityLabels(records, { randomFraction: 0.5, minimumPerLabel: 10, clinicalLabelsOnly: new Set(['Patient/zz9-q']) });
    const labels = (key: string): string[] => labelsOf(records.resources.get(key) as Resource);
    expect(labels('Condition/zz9-q-hiv')).to.deep.equal(['V', 'HIV']);
    for (let i = 0; i < 20; i++) expect(labels(`Observation/zz9-q-o${i}`), `zz9-q-o${i}`).to.deep.equal([]);
    const others = Array.from({ length: 20 }, (_, i) => labels(`Observation/zz9-p-o${i}`));
    expect(others.filter((l) => l.length > 0).length).to.be.greaterThan(10); // the sprinkle and floor still land elsewhere
  });
});
