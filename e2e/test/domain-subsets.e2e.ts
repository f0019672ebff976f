// One statement over a chosen subset of the mesh (issue 14, item 1): the connector lists the catalog's domains
// with the registry's name, kind and region in `fhir.mesh.domains`, and a join or IN subquery on it reaches only
// the chosen domains' FHIR servers. Trino hands the split manager a dynamic filter on the domain column; the
// connector waits for it before planning splits, so an excluded domain is not asked anything, not even a count.
// Proved with HAPI's access log; the counts are compared with the NDJSON ground truth.

import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { api } from '../runtime/demo-registry';
import { DOMAINS, meshDomains } from '../runtime/topology';
import { type AccessLine, param, redacted, withAccessLog } from './connector/access-log';
import { TrinoEngine } from './connector/engines';
import { readResources } from './ground-truth';

const trino = new TrinoEngine();

interface RegisteredDomain {
  odsCode: string;
  name: string;
  kind: string;
  region: string;
  /** The HAPI tenant of its active endpoint (/fhir/<tenant>), as the access log names it. */
  tenant: string;
}

/** The registry's domains with an active endpoint: those the control plane writes into the catalog. */
async function catalogDomains(): Promise<RegisteredDomain[]> {
  const [domains, endpoints] = await Promise.all([api('GET', '/domains'), api('GET', '/endpoints')]);
  expect(domains.status).to.equal(200);
  expect(endpoints.status).to.equal(200);
  const active = new Map<string, string>();
  for (const e of endpoints.body as { domain: string; status: string; baseUrl: string }[]) {
    if (e.status === 'active') active.set(e.domain, new URL(e.baseUrl).pathname.split('/').filter(Boolean).pop() ?? '');
  }
  return (domains.body as Omit<RegisteredDomain, 'tenant'>[])
    .filter((d) => active.has(d.odsCode))
    .map((d) => ({ odsCode: d.odsCode, name: d.name, kind: d.kind, region: d.region, tenant: active.get(d.odsCode)! }));
}

/** Encounters per domain in the generated NDJSON. */
function groundTruthEncounters(odsCode: string): number {
  const spec = meshDomains().find((d) => d.odsCode === odsCode);
  if (!spec) throw new Error(`no ground truth for domain ${odsCode}`);
  return readResources(spec, 'Encounter').length;
}

/**
 * A predicate every encounter meets that marks each search of this one statement in the access log (another test
 * may query the same servers meanwhile): `_lastUpdated=ge<a second of 1900 nobody else asks for>`.
 */
function marker(): { sql: string; isOurs: (line: AccessLine) => boolean } {
  const instant = new Date(Date.UTC(1900, 0, 1) + randomInt(0, 365 * 86_400) * 1000).toISOString().replace('.000Z', 'Z');
  // The access log shows dates as sent (only other search values are redacted); accept either spelling.
  const logged = [`ge${instant}`, `ge${redacted(instant)}`];
  return {
    sql: `last_updated >= TIMESTAMP '${instant.replace('T', ' ').replace('Z', ' UTC')}'`,
    isOurs: (line) => param(line, '_lastUpdated').some((value) => logged.includes(value)),
  };
}

describe('domain subsets: fhir.mesh.domains and a dynamic filter on the domain column', function () {
  this.timeout(300_000);
  let registered: RegisteredDomain[];
  /** The registered domains fhir.default.encounter reads (its data product's sources). */
  let readers: RegisteredDomain[];
  /** A region whose readers are all demo trusts (ground truth known): RX1's Midlands unless another domain joined it. */
  let region: string;
  let chosen: RegisteredDomain[];

  before(async () => {
    registered = await catalogDomains();
    const { rows } = await trino.query('EXPLAIN SELECT count(*) FROM fhir.default.encounter');
    const scanned = /fhir:encounter domains=([A-Za-z0-9,]+)/.exec(rows.map((r) => String(r[0])).join('\n'))?.[1]?.split(',') ?? [];
    readers = registered.filter((d) => scanned.includes(d.odsCode));
    const candidates = DOMAINS.map((d) => d.region).filter((r) =>
      readers.filter((d) => d.region === r).every((d) => DOMAINS.some((demo) => demo.odsCode === d.odsCode)),
    );
    expect(candidates, `every demo region holds a domain without ground truth: ${JSON.stringify(readers)}`).to.not.be.empty;
    region = candidates[0]!;
    chosen = readers.filter((d) => d.region === region);
  });

  it("lists the registry's domains with their name, kind and region", async () => {
    const { rows } = await trino.query('SELECT domain, name, kind, region FROM fhir.mesh.domains ORDER BY domain');
    const expected = [...registered].sort((a, b) => a.odsCode.localeCompare(b.odsCode)).map((d) => [d.odsCode, d.name, d.kind, d.region]);
    expect(rows).to.deep.equal(expected);
    for (const demo of DOMAINS) {
      expect(rows, demo.odsCode).to.deep.include([demo.odsCode, demo.name, demo.kind, demo.region]);
    }
  });

  const forms = [
    {
      form: 'IN (subquery)',
      sql: (where: string, region: string) =>
        `SELECT domain, count(*) FROM fhir.default.encounter WHERE ${where} AND domain IN (SELECT domain FROM fhir.mesh.domains WHERE region = '${region}') GROUP BY domain`,
    },
    {
      form: 'JOIN',
      sql: (where: string, region: string) =>
        `SELECT e.domain, count(*) FROM fhir.default.encounter e JOIN fhir.mesh.domains d ON e.domain = d.domain WHERE ${where.replace('last_updated', 'e.last_updated')} AND d.region = '${region}' AND d.kind = 'trust' GROUP BY e.domain`,
    },
  ];

  it("control: with Trino's dynamic filtering off, the same statement asks every domain the table reads", async () => {
    const mark = marker();
    const { result, lines } = await withAccessLog(() => trino.query(forms[0]!.sql(mark.sql, region), { session: { enable_dynamic_filtering: 'false' } }));
    expect(result.rows.map(([d]) => d).sort()).to.deep.equal(chosen.map((d) => d.odsCode).sort());
    const asked = [...new Set(lines.filter(mark.isOurs).map((l) => l.domain))].sort();
    expect(asked).to.deep.equal(readers.map((d) => d.tenant).sort());
  });

  for (const { form, sql } of forms) {
    it(`${form}: Trino plans a dynamic filter on the encounter scan's domain column`, async () => {
      const { rows } = await trino.query(`EXPLAIN ${sql("last_updated > TIMESTAMP '1900-01-01 00:00:00.001 UTC'", region)}`);
      const plan = rows.map((r) => String(r[0])).join('\n');
      expect(plan).to.match(/ScanFilter(Project)?\[table = fhir:encounter [^\n]*dynamicFilters = \{domain = #df_\d+\}/);
    });

    it(`${form}: reaches only the chosen region's FHIR servers, with the ground-truth counts`, async () => {
      const mark = marker();
      const { result, lines } = await withAccessLog(() => trino.query(sql(mark.sql, region)));
      const expected = chosen
        .filter((d) => form !== 'JOIN' || d.kind === 'trust')
        .map((d) => [d.odsCode, groundTruthEncounters(d.odsCode)])
        .sort();
      expect(expected, 'the chosen subset is not empty').to.not.be.empty;
      expect(result.rows.map(([d, n]) => [d, Number(n)]).sort()).to.deep.equal(expected);

      const ours = lines.filter(mark.isOurs);
      const asked = [...new Set(ours.map((l) => l.domain))].sort();
      const chosenTenants = expected.map(([code]) => registered.find((d) => d.odsCode === code)!.tenant).sort();
      expect(asked, `tenants asked by the statement (${ours.length} requests)`).to.deep.equal(chosenTenants);
      const others = readers.filter((d) => !chosenTenants.includes(d.tenant)).map((d) => d.tenant);
      expect(others, 'the table reads domains outside the subset, or this proves nothing').to.not.be.empty;
      console.log(`      ${form} over ${region}: ${result.elapsedMs} ms, ${ours.length} FHIR requests to ${asked.join(',')}; none to ${others.join(',')}`);
    });
  }
});
