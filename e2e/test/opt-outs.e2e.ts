// The national data opt-out as the gateway will read it: the trusts' NDOP Consents (ground truth from the
// NDJSON, ground-truth.ts optedOut) must name exactly the manifest's opt-outs, and Trino's `consent`
// table joined to `patient` must give the same people, so excluding them can be checked against both.
import { expect } from 'chai';
import { DOMAINS, paths } from '../runtime/topology';
import { readManifest } from '../synthetic/generate';
import { TrinoEngine } from './connector/engines';
import { NDOP_POLICY_URI, nhsNumberOf, optedOut, readResources } from './ground-truth';

const sorted = (values: Iterable<string>): string[] => [...values].sort();

/** The gateway's opted-out set (issue 12): NHS numbers with an active NDOP deny at any trust. */
const OPTED_OUT_SQL = `SELECT DISTINCT p.nhs_number FROM fhir.default.consent c JOIN fhir.default.patient p ON p.id = c.patient_id
  WHERE c.status = 'active' AND c.provision_type = 'deny' AND c.policy_uri = '${NDOP_POLICY_URI}'
  AND c.provision_start <= current_timestamp AND (c.provision_end IS NULL OR c.provision_end >= current_timestamp)`;

describe('national data opt-out', function () {
  this.timeout(300_000);
  const manifest = readManifest(paths.synthetic);
  const truth = optedOut();
  const trino = new TrinoEngine();

  it("the NDJSON's NDOP Consents name exactly the manifest's opt-outs, at the trusts it lists", () => {
    expect(manifest, `no manifest in ${paths.synthetic}`).to.not.equal(undefined);
    expect(truth.nhsNumbers.size, 'opted-out people').to.be.greaterThan(0);
    expect(sorted(truth.nhsNumbers)).to.deep.equal(sorted(manifest!.optOuts.map((o) => o.nhsNumber)));
    for (const optOut of manifest!.optOuts) {
      const holding = DOMAINS.filter((d) =>
        readResources(d, 'Patient').some((p) => nhsNumberOf(p) === optOut.nhsNumber && truth.patientIds.get(d.id)?.has(p.id)),
      );
      expect(holding.map((d) => d.id).sort(), optOut.nhsNumber).to.deep.equal([...optOut.domains].sort());
    }
    for (const domain of manifest!.domains) {
      expect(truth.patientIds.get(domain.id)?.size, `${domain.id} opted-out patients`).to.equal(domain.optedOutPatients);
      expect(readResources(DOMAINS.find((d) => d.id === domain.id)!, 'Consent').length, `${domain.id} Consents`).to.equal(domain.counts.Consent);
    }
  });

  it('fhir.default.consent holds every Consent of every trust', async () => {
    const { rows } = await trino.query('SELECT domain, count(*) FROM fhir.default.consent GROUP BY domain');
    const expected = DOMAINS.map((d) => [d.id.toUpperCase(), readResources(d, 'Consent').length]);
    expect(rows.map(([d, n]) => [d, Number(n)]).sort()).to.deep.equal(expected.sort());
  });

  it("Trino's consent table joined to patient gives the ground-truth opted-out NHS numbers and patient ids", async () => {
    const numbers = await trino.query(OPTED_OUT_SQL);
    expect(sorted(numbers.rows.map(([n]) => String(n)))).to.deep.equal(sorted(truth.nhsNumbers));
    const ids = await trino.query(`SELECT domain, id FROM fhir.default.patient WHERE nhs_number IN (${OPTED_OUT_SQL})`);
    const expected = [...truth.patientIds].flatMap(([domain, set]) => [...set].map((id) => `${domain.toUpperCase()} ${id}`));
    expect(sorted(ids.rows.map(([d, id]) => `${String(d)} ${String(id)}`))).to.deep.equal(sorted(expected));
  });
});
