// Unit tests for the opted-out ground truth of e2e/test/ground-truth.ts (optOutsOf, isNdopOptOut), on
// hand-made resources: which Consents count as a national data opt-out, and how one reaches every trust.
import { expect } from 'chai';
import { NDOP_POLICY_URI, NHS_NUMBER_SYSTEM, optOutsOf, Resource } from './ground-truth';

const AT = new Date('2024-01-01T00:00:00Z');

function patient(id: string, nhsNumber: string): Resource {
  return { resourceType: 'Patient', id, identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }] };
}

/** An NDOP opt-out as the generator writes it, with `changes` applied on top. */
function consent(patientId: string, changes: Record<string, unknown> = {}, provision: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Consent',
    id: `${patientId}-c`,
    status: 'active',
    patient: { reference: `Patient/${patientId}` },
    policy: [{ uri: NDOP_POLICY_URI }],
    provision: { type: 'deny', period: { start: '2021-03-08T13:17:00+00:00' }, purpose: [{ code: 'HRESCH' }, { code: 'HOPERAT' }], ...provision },
    ...changes,
  };
}

/** NHS numbers opted out when domain `a` holds these Consents for patients p1..p7 (NHS numbers 1..7). */
function optedOutNumbers(consents: Resource[], options: { at?: Date; purpose?: string } = { at: AT }): string[] {
  const patients = [1, 2, 3, 4, 5, 6, 7].map((n) => patient(`p${n}`, String(n)));
  return [...optOutsOf([{ domain: 'a', consents, patients }], options).nhsNumbers].sort();
}

describe('opted-out ground truth', () => {
  it('counts an active NDOP deny in force, and nothing else', () => {
    expect(
      optedOutNumbers([
        consent('p1'),
        consent('p2', { status: 'inactive' }),
        consent('p3', {}, { type: 'permit' }),
        consent('p4', { policy: [{ uri: 'https://example.org/another-policy' }] }),
        consent('p5', {}, { period: { start: '2025-01-01T00:00:00Z' } }),
        consent('p6', {}, { period: { start: '2020-01-01T00:00:00Z', end: '2023-06-30T00:00:00Z' } }),
        consent('p7', {}, { period: undefined }),
      ]),
    ).to.deep.equal(['1', '7']);
  });

  it('with a purpose, counts only provisions that list it', () => {
    const consents = [consent('p1'), consent('p2', {}, { purpose: [{ code: 'HOPERAT' }] })];
    expect(optedOutNumbers(consents, { at: AT, purpose: 'HRESCH' })).to.deep.equal(['1']);
    expect(optedOutNumbers(consents, { at: AT, purpose: 'HOPERAT' })).to.deep.equal(['1', '2']);
    expect(optedOutNumbers(consents, { at: AT, purpose: 'TREAT' })).to.deep.equal([]);
  });

  it('excludes the person at every trust holding their NHS number, whichever trust holds the Consent', () => {
    const result = optOutsOf(
      [
        { domain: 'a', consents: [consent('a1')], patients: [patient('a1', '111'), patient('a2', '222')] },
        { domain: 'b', consents: [], patients: [patient('b1', '111'), patient('b2', '333')] },
      ],
      { at: AT },
    );
    expect([...result.nhsNumbers]).to.deep.equal(['111']);
    expect([...result.patientIds.entries()].map(([d, ids]) => [d, [...ids]])).to.deep.equal([
      ['a', ['a1']],
      ['b', ['b1']],
    ]);
  });

  it('refuses a Consent whose patient is not in the domain, or a period that is not a date', () => {
    expect(() => optOutsOf([{ domain: 'a', consents: [consent('elsewhere')], patients: [patient('a1', '111')] }], { at: AT })).to.throw(
      'a: Consent/elsewhere-c refers to "Patient/elsewhere", not a patient with an NHS number there',
    );
    expect(() => optedOutNumbers([consent('p1', {}, { period: { start: 'soon' } })])).to.throw('provision.period.start: "soon" is not a date');
  });
});
