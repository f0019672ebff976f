// Count-only scans (issue 14, item 3): a count(*) over a table whose view gives one row per resource, with no
// predicate left but on `domain`, costs one `_summary=count` request per domain and no page. Answers equal the
// ground truth and pushdown off; HAPI's access log shows the requests; a view with forEach and a session that
// excludes patients read pages as before.
import { expect } from 'chai';
import { DOMAINS } from '../runtime/topology';
import { type AccessLine, param } from './connector/access-log';
import { TrinoEngine } from './connector/engines';
import { explain, observe } from './connector/pushdown-proofs';
import { domainCode, truthTables } from './connector/truth';

/** How long to wait for the connector's tables (Trino may be restarting with a new build). */
const WAIT_SECONDS = Number(process.env.CONNECTOR_WAIT_SECONDS ?? 600);
/** One row per resource in the shipped mappings (no forEach, no where), with the resource type each searches. */
const ONE_ROW_PER_RESOURCE: Record<string, string> = {
  encounter: 'Encounter',
  condition: 'Condition',
  patient: 'Patient',
  observation: 'Observation',
  procedure: 'Procedure',
};
const CODES = DOMAINS.map(domainCode);

/** The ground truth's count per domain code (every domain present, 0 when it has no row). */
function truthCounts(table: string): Map<string, number> {
  const counts = new Map(CODES.map((code) => [code, 0]));
  for (const row of truthTables()[table] ?? []) counts.set(String(row.domain), (counts.get(String(row.domain)) ?? 0) + 1);
  return counts;
}

function sum(counts: Map<string, number>, codes: readonly string[]): number {
  return codes.reduce((total, code) => total + (counts.get(code) ?? 0), 0);
}

/** Every line the query sent for this resource type, continuation pages included, per domain slug. */
function linesByDomain(lines: AccessLine[], resourceType: string): Map<string, AccessLine[]> {
  const byDomain = new Map<string, AccessLine[]>();
  for (const line of lines) {
    if (line.resourceType !== resourceType && !(line.resourceType === undefined && param(line, '_getpages').length > 0)) continue;
    byDomain.set(line.domain, [...(byDomain.get(line.domain) ?? []), line]);
  }
  return byDomain;
}

/** Exactly one request at each asked domain, a `_summary=count`, and nothing at any other. */
function expectOneCountPerDomain(lines: AccessLine[], resourceType: string, asked: readonly string[]): void {
  const byDomain = linesByDomain(lines, resourceType);
  const slugs = asked.map((code) => code.toLowerCase());
  expect([...byDomain.keys()].sort(), `domains asked for ${resourceType}`).to.deep.equal([...slugs].sort());
  for (const slug of slugs) {
    const mine = byDomain.get(slug) ?? [];
    expect(
      mine.map((l) => l.target),
      `${resourceType} at ${slug}`,
    ).to.have.length(1);
    expect(param(mine[0]!, '_summary'), mine[0]!.raw).to.deep.equal(['count']);
  }
}

describe('count-only scans: one _summary=count per domain, equal to the ground truth and to pushdown off', function () {
  this.timeout(600_000);
  const trino = new TrinoEngine();

  before(async function () {
    this.timeout((WAIT_SECONDS + 60) * 1000);
    const deadline = Date.now() + WAIT_SECONDS * 1000;
    while (!(await trino.serving())) {
      if (Date.now() > deadline) throw new Error(`fhir.default lists no tables after ${WAIT_SECONDS} s: is the connector installed and Trino up?`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  });

  for (const [table, resourceType] of Object.entries(ONE_ROW_PER_RESOURCE)) {
    it(`${table}: count(*) of the whole table and per domain`, async () => {
      const truth = truthCounts(table);
      const cases: { sql: string; asked: readonly string[]; expected: number }[] = [
        { sql: `SELECT count(*) FROM fhir.default.${table}`, asked: CODES, expected: sum(truth, CODES) },
        ...CODES.map((code) => ({ sql: `SELECT count(*) FROM fhir.default.${table} WHERE domain = '${code}'`, asked: [code], expected: truth.get(code)! })),
        {
          sql: `SELECT count(*) FROM fhir.default.${table} WHERE domain IN ('${CODES[0]}', '${CODES[2]}')`,
          asked: [CODES[0]!, CODES[2]!],
          expected: sum(truth, [CODES[0]!, CODES[2]!]),
        },
      ];
      for (const { sql, asked, expected } of cases) {
        expect(await explain(trino, sql), sql).to.include(' count-only ');
        const on = await observe(trino, sql, true);
        expect(on.result.rows, `${sql} (count-only)`).to.deep.equal([[expected]]);
        expectOneCountPerDomain(on.lines, resourceType, asked);
        const off = await trino.query(sql, { pushdown: false });
        expect(off.rows, `${sql} (pushdown off)`).to.deep.equal([[expected]]);
      }
    });
  }

  it('encounter: count(*) GROUP BY domain reads only the domain column, still one count per domain', async () => {
    const sql = 'SELECT domain, count(*) FROM fhir.default.encounter GROUP BY domain ORDER BY domain';
    const truth = truthCounts('encounter');
    const expected = [...truth.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    expect(await explain(trino, sql)).to.include(' count-only ');
    const on = await observe(trino, sql, true);
    expect(on.result.rows).to.deep.equal(expected);
    expectOneCountPerDomain(on.lines, 'Encounter', CODES);
    expect((await trino.query(sql, { pushdown: false })).rows).to.deep.equal(expected);
  });

  it('observation_component (forEach component) reads its pages: rows are not resources', async () => {
    const sql = 'SELECT count(*) FROM fhir.default.observation_component';
    const expected = sum(truthCounts('observation_component'), CODES);
    expect(expected, 'components outnumber observations in the synthetic data').to.not.equal(sum(truthCounts('observation'), CODES));
    expect(await explain(trino, sql)).to.not.include('count-only');
    const on = await observe(trino, sql, true);
    expect(on.result.rows).to.deep.equal([[expected]]);
    const searched = linesByDomain(on.lines, 'Observation');
    for (const code of CODES) {
      expect(
        (searched.get(code.toLowerCase()) ?? []).some((l) => param(l, '_summary').length === 0),
        `Observation pages read at ${code}`,
      ).to.equal(true);
    }
    expect((await trino.query(sql, { pushdown: false })).rows).to.deep.equal([[expected]]);
  });

  it('a session that excludes patients (the connector defaults) is not count-only for a table with a Patient key', async () => {
    const withExclusions = new TrinoEngine(undefined, { asStored: false });
    const plan = await explain(withExclusions, 'SELECT count(*) FROM fhir.default.encounter');
    expect(plan).to.include('TableScan');
    expect(plan).to.not.include('count-only');
  });
});
