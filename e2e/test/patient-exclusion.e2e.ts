// Patients excluded at source (issue 12, invariant 3): the connector itself drops the rows of patients with a
// national data opt-out (at any trust, matched on NHS number), without an NHS number, or with a restricted
// Patient label, before Trino sees them. So no predicate Trino evaluates - however it fails - can reveal that
// such a patient exists: the gateway's error oracle answers normally. Ground truth: the NDJSON.
import { expect } from 'chai';
import { MAPPINGS_DIR } from '../runtime/fhir-catalog';
import { demoIdentity, gatewayQuery } from '../runtime/gateway-client';
import { SECRETS } from '../runtime/secrets';
import { DOMAINS, fhirBaseUrl } from '../runtime/topology';
import { TRINO_USERS } from '../runtime/trino-security';
import { closedPort } from './closed-port';
import { linesSince, logLength } from './connector/access-log';
import { TrinoEngine } from './connector/engines';
import { nhsNumberOf, optedOut, type Resource, readResources, securityCodes } from './ground-truth';

/** The connector's default for everyone: V and every sensitivity label. */
const DEFAULT_LABELS = ['V', 'PSY', 'HIV', 'SDV'];
const key = (domain: unknown, id: unknown): string => `${String(domain).toUpperCase()} ${String(id)}`;
const sorted = (values: Iterable<string>): string[] => [...values].sort();

interface Truth {
  /** `DOMAIN id` of every patient. */
  all: Set<string>;
  optedOut: Set<string>;
  withoutNhsNumber: Set<string>;
  labelled: Set<string>;
}

function truth(): Truth {
  const out = optedOut();
  const t: Truth = { all: new Set(), optedOut: new Set(), withoutNhsNumber: new Set(), labelled: new Set() };
  for (const d of DOMAINS) {
    for (const p of readResources(d, 'Patient')) {
      const k = key(d.id, p.id);
      t.all.add(k);
      if (out.patientIds.get(d.id)?.has(p.id)) t.optedOut.add(k);
      if (!nhsNumberOf(p)) t.withoutNhsNumber.add(k);
      if (securityCodes(p).some((c) => DEFAULT_LABELS.includes(c.slice(c.lastIndexOf('|') + 1)))) t.labelled.add(k);
    }
  }
  return t;
}

function subjectKey(domain: string, resource: Resource): string | undefined {
  const id = /^Patient\/(.+)$/.exec((resource.subject as { reference?: string } | undefined)?.reference ?? '')?.[1];
  return id === undefined ? undefined : key(domain, id);
}

/** The outward code (district) of a UK postcode, as the gateway's policy form generalises it. */
function district(postcode: string): string {
  const compact = postcode.replace(/ /g, '').toUpperCase();
  return compact.slice(0, compact.length - 3);
}

function profile(patient: Resource): { gender: string; year: number; district: string } | undefined {
  const address = ((patient.address ?? []) as { use?: string; postalCode?: string }[]).find((a) => a.use === 'home');
  if (typeof patient.gender !== 'string' || typeof patient.birthDate !== 'string' || !address?.postalCode) return undefined;
  return { gender: patient.gender, year: Number(patient.birthDate.slice(0, 4)), district: district(address.postalCode) };
}

describe('connector: excluded patients never leave the connector', function () {
  this.timeout(300_000);
  const t = truth();
  const excluded = new Set([...t.optedOut, ...t.withoutNhsNumber, ...t.labelled]);
  const visible = new Set([...t.all].filter((k) => !excluded.has(k)));
  /** The operator with the connector's defaults (everyone's, unless an admin or the gateway changes them). */
  const ops = new TrinoEngine(TRINO_USERS.ops, { asStored: false });
  const analyst = new TrinoEngine(TRINO_USERS.analyst);

  it('the ground truth has opted-out patients at every trust (so the checks below can fail)', () => {
    for (const d of DOMAINS) expect([...t.optedOut].filter((k) => k.startsWith(`${d.id.toUpperCase()} `)).length, d.id).to.be.greaterThan(0);
    console.log(
      `      ${t.all.size} patients: ${t.optedOut.size} opted out, ${t.withoutNhsNumber.size} without an NHS number, ${t.labelled.size} labelled ${DEFAULT_LABELS.join('/')}`,
    );
  });

  it('the patient table holds exactly the patients not excluded', async () => {
    const started = logLength();
    const began = Date.now();
    const { rows } = await ops.query('SELECT domain, id FROM fhir.default.patient');
    const elapsed = Date.now() - began;
    expect(sorted(rows.map(([d, id]) => key(d, id)))).to.deep.equal(sorted(visible));
    // What working out the exclusions cost, as the trusts' access log shows it (it may have been cached).
    const reads = linesSince(started).filter(
      (l) => (l.resourceType === 'Patient' && l.params.some(([k, v]) => k === '_elements' && v === 'identifier,meta')) || l.resourceType === 'Consent',
    );
    console.log(
      `      ${rows.length} patients in ${elapsed} ms; exclusion reads: ${reads.map((l) => `${l.domain} ${l.resourceType} ${l.millis} ms`).join(', ') || 'cached'}`,
    );
  });

  for (const [table, type] of [
    ['encounter', 'Encounter'],
    ['condition', 'Condition'],
    ['observation', 'Observation'],
  ] as const) {
    it(`${table}: every row of a visible patient and none of an excluded one, whether or not patient_id is read`, async () => {
      const expected = new Set<string>();
      let ofExcluded = 0;
      for (const d of DOMAINS) {
        for (const r of readResources(d, type)) {
          const subject = subjectKey(d.id, r);
          if (subject !== undefined && excluded.has(subject)) ofExcluded += 1;
          else expected.add(key(d.id, r.id));
        }
      }
      expect(ofExcluded, `${type} resources of excluded patients in the NDJSON`).to.be.greaterThan(0);
      const { rows } = await ops.query(`SELECT DISTINCT domain, id FROM fhir.default.${table}`);
      expect(sorted(rows.map(([d, id]) => key(d, id)))).to.deep.equal(sorted(expected));
      // count(*) reads no column at all (one row per resource in these views): the key is evaluated anyway.
      const { rows: counted } = await ops.query(`SELECT count(*) FROM fhir.default.${table}`);
      expect(Number(counted[0]![0])).to.equal(expected.size);
      const { rows: stored } = await new TrinoEngine().query(`SELECT count(*) FROM fhir.default.${table}`);
      expect(Number(stored[0]![0]), 'rows as stored').to.equal(expected.size + ofExcluded);
    });
  }

  it('SET SESSION fhir.apply_opt_outs = false (an admin, or the gateway for direct care) brings the opted-out patients back', async () => {
    const { rows } = await ops.query('SELECT domain, id FROM fhir.default.patient', { session: { 'fhir.apply_opt_outs': 'false' } });
    expect(sorted(rows.map(([d, id]) => key(d, id)))).to.deep.equal(sorted([...t.all].filter((k) => !t.withoutNhsNumber.has(k) && !t.labelled.has(k))));
    expect(rows.length).to.equal(visible.size + t.optedOut.size);
  });

  it('skip_domains=RX1 (admins and the gateway: partial results) reads nothing of RX1, yet its opt-outs still apply to the others', async () => {
    const expected = new Map<string, number>();
    for (const d of DOMAINS) {
      for (const r of readResources(d, 'Encounter')) {
        const subject = subjectKey(d.id, r);
        if (subject === undefined || !excluded.has(subject)) expected.set(d.id.toUpperCase(), (expected.get(d.id.toUpperCase()) ?? 0) + 1);
      }
    }
    expected.delete('RX1');
    // RX1's patients were read by the tests above, well within fhir.patient-exclusion.max-staleness (24h).
    const skip = { 'fhir.skip_domains': 'RX1' };
    const started = logLength();
    const { rows } = await ops.query('SELECT domain, count(*) FROM fhir.default.encounter GROUP BY domain', { session: skip });
    expect(new Map(rows.map(([d, n]) => [String(d), Number(n)]))).to.deep.equal(expected);
    // The control plane's health checks (GET metadata) go on; no search may reach RX1.
    expect(
      linesSince(started)
        .filter((l) => String(l.domain).toUpperCase() === 'RX1' && !l.target.startsWith('metadata'))
        .map((l) => l.target),
      'searches of RX1',
    ).to.deep.equal([]);
    const { rows: patients } = await ops.query('SELECT domain, id FROM fhir.default.patient', { session: skip });
    expect(sorted(patients.map(([d, id]) => key(d, id)))).to.deep.equal(sorted([...visible].filter((k) => !k.startsWith('RX1 '))));
    const { rows: plan } = await ops.query('EXPLAIN SELECT count(*) FROM fhir.default.encounter', { session: skip });
    const asked = / domains=([A-Z0-9,]+) skipped=RX1 /.exec(plan.map((r) => String(r[0])).join('\n'))?.[1];
    expect(asked?.split(',').sort(), 'EXPLAIN names the skipped domain').to.deep.equal([...expected.keys()].sort());
    let message = '';
    try {
      await ops.query('SELECT count(*) FROM fhir.default.encounter', { session: { 'fhir.skip_domains': encodeURIComponent('RX1,ZZ9') } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.include("skip_domains: 'ZZ9' is not a domain of this catalog");
  });

  it('excluded_patient_labels takes a list of label codes, and names a malformed one', async () => {
    // No synthetic Patient carries a label (labelled Patients are covered by the connector's unit tests). Session
    // header values are URL-encoded, as the Trino CLI and JDBC send them: a bare comma would separate properties.
    for (const labels of ['', 'V', 'V,PSY,HIV,SDV']) {
      const { rows } = await ops.query('SELECT count(*) FROM fhir.default.patient', {
        session: { 'fhir.excluded_patient_labels': encodeURIComponent(labels) },
      });
      expect(Number(rows[0]![0]), labels).to.equal(visible.size);
    }
    let message = '';
    try {
      await ops.query('SELECT count(*) FROM fhir.default.patient', { session: { 'fhir.excluded_patient_labels': encodeURIComponent('V;PSY') } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.include('excluded_patient_labels').and.include("'V;PSY' is not a security label code");
  });

  it('an analyst on Trino directly cannot switch any of it off (SET SESSION or the session header)', async () => {
    for (const [property, value] of [
      ['apply_opt_outs', 'false'],
      ['excluded_patient_labels', "''"],
      ['exclude_patients_without_nhs_number', 'false'],
    ] as const) {
      const refusals: string[] = [];
      for (const attempt of [
        () => analyst.query(`SET SESSION fhir.${property} = ${value}`),
        () => analyst.query('SELECT count(*) FROM fhir.default.patient', { session: { [`fhir.${property}`]: value === "''" ? '' : value } }),
      ]) {
        try {
          await attempt();
          refusals.push('allowed');
        } catch (e) {
          refusals.push((e as Error).message.split('\n')[0]!);
        }
      }
      for (const refusal of refusals) expect(refusal, property).to.include(`PERMISSION_DENIED: Access Denied: Cannot set catalog session property ${property}`);
    }
  });

  it("the gateway's error oracle no longer sees opted-out patients; a guess about a visible one still errors (positive control)", async () => {
    // A profile (gender, birth year, postcode district) only opted-out patients have, and one a visible patient has.
    const profiles = new Map<string, { visible: boolean; optedOut: boolean }>();
    for (const d of DOMAINS) {
      for (const p of readResources(d, 'Patient')) {
        const pr = profile(p);
        if (!pr) continue;
        const k = `${pr.gender}|${pr.year}|${pr.district}`;
        const entry = profiles.get(k) ?? { visible: false, optedOut: false };
        if (visible.has(key(d.id, p.id))) entry.visible = true;
        if (t.optedOut.has(key(d.id, p.id))) entry.optedOut = true;
        profiles.set(k, entry);
      }
    }
    const hidden = [...profiles].find(([, e]) => e.optedOut && !e.visible)?.[0];
    const shown = [...profiles].find(([, e]) => e.visible && !e.optedOut)?.[0];
    expect(hidden, 'a profile only opted-out patients have').to.not.equal(undefined);
    expect(shown, 'a profile of visible patients').to.not.equal(undefined);
    const oracle = (k: string): string => {
      const [gender, year, d] = k.split('|');
      return `SELECT count(*) FROM fhir.default.patient WHERE IF(gender = '${gender}' AND year(birth_date) = ${year} AND postcode = '${d}', 1/0 = 1, true)`;
    };
    // The guess is right: the person is in the trusts' data (read as stored, the same guess errors).
    const [g, y, d] = hidden!.split('|');
    const asStored = await new TrinoEngine()
      .query(
        `SELECT count(*) FROM fhir.default.patient WHERE IF(gender = '${g}' AND year(birth_date) = ${y} AND substr(upper(replace(postcode, ' ', '')), 1, length(replace(postcode, ' ', '')) - 3) = '${d}', 1/0 = 1, true)`,
      )
      .then(
        () => 'answered',
        (e: Error) => e.message,
      );
    expect(asStored).to.include('DIVISION_BY_ZERO');

    const answer = await gatewayQuery(oracle(hidden!), { identity: demoIdentity() });
    expect(answer.error, JSON.stringify(answer.error)).to.equal(undefined);
    expect(Number(answer.rows[0]![0])).to.equal(visible.size);
    const control = await gatewayQuery(oracle(shown!), { identity: demoIdentity() });
    expect(control.error?.errorName, JSON.stringify(control)).to.equal('DIVISION_BY_ZERO');
  });

  it('a domain whose patients cannot be read fails the query, naming it, even for rows of another domain (fail closed)', async () => {
    const catalog = 'fhir_exclusion_down';
    const admin = new TrinoEngine();
    const rx1 = DOMAINS[0]!;
    await admin.query(
      `CREATE CATALOG ${catalog} USING fhir WITH ("fhir.domains" = '${rx1.id.toUpperCase()},ZZ9', ` +
        `"fhir.domain.${rx1.id.toUpperCase()}.base-url" = '${fhirBaseUrl(rx1)}', "fhir.domain.${rx1.id.toUpperCase()}.auth.bearer-token-file" = '${SECRETS.fhirReaderToken(rx1.id)}', ` +
        `"fhir.domain.ZZ9.base-url" = 'http://127.0.0.1:${await closedPort()}/fhir/zz9', "fhir.mappings.dir" = '${MAPPINGS_DIR}', ` +
        `"fhir.retry.max-attempts" = '1')`,
    );
    try {
      const sql = `SELECT count(*) FROM ${catalog}.default.encounter WHERE domain = '${rx1.id.toUpperCase()}'`;
      const message = await ops.query(sql, { session: {} }).then(
        () => 'answered',
        (e: Error) => e.message.split('\n')[0]!,
      );
      expect(message).to.include('FHIR_ENDPOINT_UNAVAILABLE').and.include('patients to exclude').and.include('FHIR domain ZZ9');
      // With nothing to exclude, the reachable domain answers.
      const raw = await admin.query(sql, {
        session: {
          [`${catalog}.apply_opt_outs`]: 'false',
          [`${catalog}.excluded_patient_labels`]: '',
          [`${catalog}.exclude_patients_without_nhs_number`]: 'false',
        },
      });
      expect(Number(raw.rows[0]![0])).to.equal(readResources(rx1, 'Encounter').length);
    } finally {
      await admin.query(`DROP CATALOG IF EXISTS ${catalog}`);
    }
  });
});
