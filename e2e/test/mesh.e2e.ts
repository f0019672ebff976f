// The running mesh against its ground truth: what each trust's FHIR API serves must be exactly the
// synthetic NDJSON that was generated for it, and Trino must run with the project's plugin.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { runCaptured } from '../runtime/processes';
import { DOMAINS, fhirBaseUrl, paths, ROOT, versions } from '../runtime/topology';
import { SERVER_LOG } from '../runtime/trino';
import { trinoClient } from '../runtime/trino-clients';
import { read, searchAll, searchTotal } from './fhir-client';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, nhsNumberOf, readResources, resourceTypes, securityCodes } from './ground-truth';

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

describe('mesh runtime', () => {
  describe('mesh:status --json', () => {
    it('lists PostgreSQL, every FHIR domain, Trino, the control plane, its SQL gateway and the circuit breakers, all healthy, with name, kind, url and healthy', async () => {
      const result = await runCaptured(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['e2e/runtime/cli.ts', 'status', '--json'], { cwd: ROOT });
      expect(result.status, result.stderr).to.equal(0);
      const rows = JSON.parse(result.stdout) as { name: string; kind: string; url: string; healthy: boolean }[];
      // One line for the circuit breakers while all are closed (a line per open one otherwise).
      expect(rows.map((r) => r.kind).sort()).to.deep.equal([...DOMAINS.map(() => 'fhir'), 'postgres', 'trino', 'control-plane', 'gateway', 'circuit'].sort());
      expect(rows.find((r) => r.kind === 'circuit')?.name).to.equal('circuits');
      for (const row of rows) {
        expect(row.healthy, `${row.name} healthy`).to.equal(true);
        // No credentials in a status line: scheme, loopback host and port only.
        expect(row.url).to.match(/^(https?|postgresql):\/\/127\.0\.0\.1:\d+/);
      }
      expect(rows.filter((r) => r.kind === 'fhir').map((r) => r.url)).to.deep.equal(DOMAINS.map(fhirBaseUrl));
    });
  });

  for (const domain of DOMAINS) {
    describe(`FHIR domain ${domain.id} (${domain.odsCode})`, () => {
      it('serves exactly the ground-truth number of resources of every type', async () => {
        const types = resourceTypes(domain);
        expect(types).to.include.members(['Patient', 'Encounter', 'Condition', 'Observation', 'Consent', 'Organization']);
        for (const type of types) {
          const expected = readResources(domain, type).length;
          expect(await searchTotal(domain, type), `${domain.id} ${type}`).to.equal(expected);
        }
      });

      it('gives every patient one valid NHS number from the 999 test range, findable by token search', async () => {
        const patients = readResources(domain, 'Patient');
        const numbers = patients.map((p) => nhsNumberOf(p));
        for (const [i, n] of numbers.entries()) {
          expect(n, `Patient/${patients[i]?.id} NHS number`).to.be.a('string');
          expect(isValidNhsNumber(n!), `${n} passes modulus 11`).to.equal(true);
          expect(n!.startsWith('999'), `${n} in the test range`).to.equal(true);
        }
        // A deterministic sample: each must come back as exactly that patient.
        const step = Math.max(1, Math.floor(patients.length / 12));
        for (let i = 0; i < patients.length; i += step) {
          const patient = patients[i]!;
          const { resources } = await searchAll(domain, `Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhsNumberOf(patient)}`)}`);
          expect(
            resources.map((r) => r.id),
            `NHS number ${nhsNumberOf(patient)}`,
          ).to.deep.equal([patient.id]);
        }
      });

      it('pages through every Observation by following next links, with nothing capped or repeated', async () => {
        const expected = readResources(domain, 'Observation')
          .map((o) => o.id)
          .sort();
        const { resources, pages } = await searchAll(domain, 'Observation?_count=500&_elements=id');
        expect(pages).to.be.greaterThan(1);
        expect(resources.map((r) => r.id).sort()).to.deep.equal(expected);
      });

      it('indexes the security labels of the ground truth for _security search', async () => {
        for (const [system, code] of [
          [CONFIDENTIALITY, 'R'],
          [CONFIDENTIALITY, 'V'],
          [ACT_CODE, 'PSY'],
          [ACT_CODE, 'HIV'],
          [ACT_CODE, 'SDV'],
        ] as const) {
          let expected = 0;
          for (const type of resourceTypes(domain)) {
            expected += readResources(domain, type).filter((r) => securityCodes(r).includes(`${system}|${code}`)).length;
          }
          expect(expected, `${domain.id} has resources labelled ${code}`).to.be.greaterThan(0);
          const served = (
            await Promise.all(resourceTypes(domain).map((type) => searchTotal(domain, `${type}?_security=${encodeURIComponent(`${system}|${code}`)}`)))
          ).reduce((a, b) => a + b, 0);
          expect(served, `${domain.id} _security=${code}`).to.equal(expected);
        }
      });

      it('records national data opt-outs as active Consent resources for some patients', async () => {
        const consents = readResources(domain, 'Consent').filter((c) => c.status === 'active');
        expect(consents.length).to.be.greaterThan(0);
        expect(await searchTotal(domain, 'Consent?status=active')).to.equal(consents.length);
      });
    });
  }

  it('keeps domains apart: a patient stored at one trust cannot be read at another', async () => {
    const [first, second] = DOMAINS;
    const patient = readResources(first!, 'Patient')[0]!;
    expect(await read(first!, 'Patient', patient.id)).to.equal(200);
    expect(await read(second!, 'Patient', patient.id)).to.equal(404);
  });

  it('answers a request for a domain it does not serve with 404 and an OperationOutcome', async () => {
    const base = fhirBaseUrl(DOMAINS[0]!).replace(/[^/]+$/, 'no-such-trust');
    const response = await fetch(`${base}/Patient`, { headers: { accept: 'application/fhir+json' } });
    expect(response.status).to.equal(404);
    expect(((await response.json()) as { resourceType: string }).resourceType).to.equal('OperationOutcome');
  });

  it('has patients seen at two trusts under the same NHS number, served by both', async () => {
    const domainsByNumber = new Map<string, string[]>();
    for (const domain of DOMAINS) {
      for (const patient of readResources(domain, 'Patient')) {
        const n = nhsNumberOf(patient)!;
        domainsByNumber.set(n, [...(domainsByNumber.get(n) ?? []), domain.id]);
      }
    }
    const shared = [...domainsByNumber.entries()].filter(([, ds]) => ds.length > 1);
    expect(shared.length, 'patients seen at two trusts').to.be.greaterThan(0);
    for (const [n, ids] of shared.slice(0, 5)) {
      for (const id of ids) {
        const domain = DOMAINS.find((d) => d.id === id)!;
        expect(await searchTotal(domain, `Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${n}`)}`)).to.equal(1);
      }
    }
  });

  describe('Trino', () => {
    it(`runs version ${versions.trino} and answers SQL`, async () => {
      const trino = trinoClient('fhir-mesh-e2e');
      const iterator = await trino.query('SELECT node_version, coordinator FROM system.runtime.nodes');
      const rows: unknown[][] = [];
      for await (const result of iterator) {
        expect(result.error, JSON.stringify(result.error)).to.equal(undefined);
        rows.push(...(result.data ?? []));
      }
      expect(rows).to.deep.equal([[versions.trino, true]]);
    });

    it("loaded the project's fhir plugin from its plugin directory", () => {
      const log = fs.readFileSync(SERVER_LOG, 'utf8');
      expect(log).to.match(/Installing uk\.nhs\.fhirmesh\.trino\.FhirPlugin/);
      expect(log).to.include(`-- Finished loading plugin ${path.join(paths.trinoHome, 'plugin', 'fhir')} --`);
    });
  });
});
