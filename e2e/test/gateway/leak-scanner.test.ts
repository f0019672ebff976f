// Unit tests for the adversarial suite's leak scanner on hand-made resources: it must find each kind of
// secret however an answer carries it (cell, array, JSON, hex, base64, column name, error message), and
// stay quiet on answers holding only what the policy form allows.
import { expect } from 'chai';
import { NHS_NUMBER_SYSTEM, type Resource } from '../ground-truth';
import { LeakScanner, secretsOf } from './leak-scanner';

const PATIENT: Resource = {
  resourceType: 'Patient',
  id: 'rr8-0382c83c-380c-3a4e-fa29-fe66d8d0349a',
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765919' }],
  name: [{ family: 'Lind', given: ['Kevin', 'Grace'] }],
  birthDate: '1987-03-04',
  address: [{ postalCode: 'HG1 3SD' }],
};
const NEW_YEAR_BABY: Resource = { resourceType: 'Patient', id: 'rx1-new-year', birthDate: '1990-01-01' };
const V_OBSERVATION: Resource = { resourceType: 'Observation', id: 'rth-v-obs-1', meta: { security: [{ system: 'x', code: 'V' }] } };
// 'Grace' is also a word of clinical text here, so alone it only counts in a name column.
const CONDITION: Resource = { resourceType: 'Condition', id: 'c1', code: { text: 'Grace period review' } };
const OPTED_OUT = 'ce4ad72475e9e5b9db06c7aaf6635057';
const KEY = 'ab'.repeat(32);

const scanner = new LeakScanner(secretsOf({ resources: [PATIENT, NEW_YEAR_BABY, V_OBSERVATION, CONDITION], optedOutPseudonyms: [OPTED_OUT], keys: [KEY] }));

function kinds(rows: unknown[][], columns = rows[0]?.map((_, i) => `c${i}`) ?? []): string[] {
  return [...new Set(scanner.scan({ columns: columns.map((name) => ({ name })), rows }).map((l) => l.kind))];
}

describe('gateway adversarial suite: leak scanner', () => {
  it('collects every kind of secret, and no 1 January birth date', () => {
    const secrets = secretsOf({ resources: [PATIENT, NEW_YEAR_BABY, V_OBSERVATION, CONDITION], optedOutPseudonyms: [OPTED_OUT], keys: [KEY] });
    const values = secrets.map((s) => `${s.kind}:${s.value}`);
    for (const expected of [
      'nhs-number:9434765919',
      'family-name:Lind',
      'given-name:Kevin',
      'postcode:HG1 3SD',
      'postcode:HG13SD',
      'birth-date:1987-03-04',
      `patient-id:${PATIENT.id}`,
      'v-labelled-id:rth-v-obs-1',
      `opted-out-pseudonym:${OPTED_OUT}`,
      `pseudonym-key:${KEY}`,
    ]) {
      expect(values).to.include(expected);
    }
    expect(values).not.to.include('birth-date:1990-01-01');
    expect(secrets.find((s) => s.value === 'Grace')?.ambiguous).to.equal(true);
  });

  it('finds secrets in plain, spaced, upper-case, array and JSON cells', () => {
    expect(kinds([['9434765919']])).to.deep.equal(['nhs-number']);
    expect(kinds([['NHS 943 476 5919']])).to.deep.equal(['nhs-number']);
    expect(kinds([['hg13sd']])).to.deep.equal(['postcode']);
    expect(kinds([[['x', OPTED_OUT.toUpperCase()]]])).to.deep.equal(['opted-out-pseudonym']);
    expect(kinds([[{ who: { born: '1987-03-04' } }]])).to.deep.equal(['birth-date']);
    expect(kinds([[`Patient/${PATIENT.id}`]])).to.deep.equal(['patient-id']);
    expect(kinds([['lind']])).to.deep.equal(['family-name']);
    expect(kinds([['Mr Kevin Smith']])).to.deep.equal(['given-name']);
    expect(kinds([['rth-v-obs-1']])).to.deep.equal(['v-labelled-id']);
    expect(kinds([[`key=${KEY}`]])).to.deep.equal(['pseudonym-key']);
  });

  it('decodes hex and base64 cells', () => {
    expect(kinds([[Buffer.from('9434765919').toString('hex')]])).to.deep.equal(['nhs-number']);
    expect(kinds([[Buffer.from('HG1 3SD').toString('base64')]])).to.deep.equal(['postcode']);
  });

  it('scans column names and error messages', () => {
    expect(scanner.scan({ columns: [{ name: '9434765919' }], rows: [] }).map((l) => l.where)).to.deep.equal(['column name']);
    const leaks = scanner.scan({ columns: [], rows: [], error: { message: "Cannot cast 'Lind' to BIGINT" } });
    expect(leaks).to.deep.equal([{ kind: 'family-name', value: 'Lind', where: 'error message' }]);
  });

  it('counts an ambiguous name only in a column named for it', () => {
    expect(kinds([['Grace period review']], ['code_display'])).to.deep.equal([]);
    expect(kinds([['Grace']], ['given_name'])).to.deep.equal(['given-name']);
  });

  it('stays quiet on what a policy form returns: pseudonyms of included people, birth years, districts', () => {
    const rows = [['RR8', '4410d6c1ff08257ce02c8aa6a1bb303f', 'female', '1987-01-01', 'HG1', null, 'rr8-trust', [], 943]];
    expect(kinds(rows)).to.deep.equal([]);
    // Not a hex or base64 cell that decodes to anything: a short code stays a code.
    expect(kinds([['ABCD'], ['1987']])).to.deep.equal([]);
  });
});
