// Contribution bounding and clamping in the real Trino (issue 13: "clamping and contribution bounds hold
// when one patient has thousands of Observations"). The measurement SQL the gateway builds
// (control-plane/src/gateway/disclosure/aggregate-sql.ts, measurementsQuery) runs around a synthetic rows
// query written in Trino SQL (UNNEST over sequences, no mesh table): one patient with 5,000 rows of 1e6 spread
// over three trusts, one with 2,000 rows of −1e6, rows without a patient, and 300 ordinary patients with 1–3
// rows each of an in-range value (the same value for all of one patient's rows, so whichever rows the random
// rank keeps, the exact totals are known). Run as the operator; the SQL is what Trino runs for the gateway.
import { expect } from 'chai';
import { analyseAggregateQuery } from '../../control-plane/src/gateway/disclosure/aggregate-query';
import { gridOf, measurementsQuery } from '../../control-plane/src/gateway/disclosure/aggregate-sql';
import { keyDomain } from '../../control-plane/src/gateway/disclosure/public-keys';
import { TRINO_USERS } from '../runtime/trino-security';
import { TrinoEngine } from './connector/engines';

const HEAVY_ROWS = 5000;
const LOW_ROWS = 2000;
const ORDINARY = 300;
const BOUNDS = { lower: 0, upper: 200 };
/** The trusts' ODS codes: `domain` is a public key, so rows outside this set would be filtered out. */
const ODS = ['RR8', 'RTH', 'RX1'];

/** Rows of the ordinary patient p (1..300), and the value each of them carries (in [0, 200)). */
const rowsOf = (p: number): number => 1 + (p % 3);
const patientValue = (p: number): number => (p % 200) + 0.5;

// The analysed query the gateway would get: keys (domain, code), then COUNT(*), COUNT(DISTINCT patient),
// SUM and AVG of observation.value with the policy's bounds [0, 200].
const QUERY = analyseAggregateQuery(
  'SELECT domain, code, count(*), count(DISTINCT patient_id), sum(value), avg(value) FROM observation GROUP BY domain, code',
  {
    table: (parts) =>
      parts[parts.length - 1] === 'observation'
        ? {
            name: 'observation',
            info: {
              patientKey: 'patient_id',
              columns: new Map(
                Object.entries({ domain: 'code', patient_id: 'id', code: 'code', value: 'decimal' }).map(([n, type]) => [n, { type, collection: false }]),
              ),
            },
          }
        : undefined,
    bounds: (t, c) => (t === 'observation' && c === 'value' ? BOUNDS : undefined),
  },
);

// The rows query in the shape rowsQuery gives (dp_patient, dp_key_i, dp_value_i), after rewriting.
const TRUSTS = `ARRAY[${ODS.map((d) => `'${d}'`).join(', ')}]`;
const SYNTHETIC_ROWS = [
  `SELECT 'p-heavy' AS dp_patient, element_at(${TRUSTS}, 1 + i % 3) AS dp_key_0, 'heavy' AS dp_key_1, 1e6 AS dp_value_2, 1e6 AS dp_value_3 FROM UNNEST(sequence(1, ${HEAVY_ROWS})) AS t (i)`,
  `SELECT 'p-low', 'RX1', 'low', -1e6, -1e6 FROM UNNEST(sequence(1, ${LOW_ROWS})) AS t (i)`,
  "SELECT CAST(NULL AS varchar), 'RTH', 'orphan', 1e0, 1e0 FROM UNNEST(sequence(1, 10)) AS t (i)",
  `SELECT concat('p-', CAST(p AS varchar)), element_at(${TRUSTS}, 1 + p % 3), 'ordinary', CAST(p % 200 AS double) + 0.5, CAST(p % 200 AS double) + 0.5 ` +
    `FROM UNNEST(sequence(1, ${ORDINARY})) AS a (p) CROSS JOIN UNNEST(sequence(1, 1 + p % 3)) AS b (r)`,
].join(' UNION ALL ');

interface Group {
  domain: string;
  code: string;
  rows: number;
  patients: number;
  sumCount: number;
  sum: number;
  avgCount: number;
  avgSum: number;
}

describe('DP contribution bounding and clamping in Trino (one patient with thousands of rows)', function () {
  this.timeout(600_000);
  const trino = new TrinoEngine(TRINO_USERS.ops, { asStored: false });
  const domains = QUERY.keys.map((k) => keyDomain(k.table, k.column, k.transform, ODS));
  const grid = gridOf(BOUNDS);

  async function measure(bounded: { maxRowsPerPatient: number } | undefined): Promise<Group[]> {
    const { sql, columns } = measurementsQuery(QUERY, SYNTHETIC_ROWS, { bounded, domains });
    const result = await trino.query(sql);
    const at = (name: string): number => result.columns.findIndex((c) => c.name === name);
    const v = columns.values;
    return result.rows.map((r) => ({
      domain: r[at('dp_key_0')] as string,
      code: r[at('dp_key_1')] as string,
      rows: Number(r[at(columns.rows)]),
      patients: Number(r[at(columns.patients)]),
      sumCount: Number(r[at(v[2]!.count)]),
      sum: Number(r[at(v[2]!.sum!)]),
      avgCount: Number(r[at(v[3]!.count)]),
      avgSum: Number(r[at(v[3]!.sum!)]),
    }));
  }

  const total = (groups: Group[], code: string, field: keyof Group): number =>
    groups.filter((g) => g.code === code).reduce((s, g) => s + (g[field] as number), 0);

  it('the synthetic rows are what they claim (unbounded: 5,000 heavy rows of 1e6, 2,000 low rows, 300 patients)', async () => {
    const groups = await measure(undefined);
    expect(total(groups, 'heavy', 'rows')).to.equal(HEAVY_ROWS);
    expect(total(groups, 'heavy', 'sum')).to.equal(HEAVY_ROWS * 1e6);
    expect(total(groups, 'low', 'rows')).to.equal(LOW_ROWS);
    expect(total(groups, 'ordinary', 'patients')).to.equal(ORDINARY);
    expect(groups.some((g) => g.code === 'orphan')).to.equal(false);
  });

  for (const m of [1, 5]) {
    it(`maxRowsPerPatient ${m}: the heavy patient adds at most ${m} row(s) across all trusts and groups, each clamped to the upper bound`, async () => {
      expect(grid).to.equal(0.1);
      const groups = await measure({ maxRowsPerPatient: m });
      const heavy = groups.filter((g) => g.code === 'heavy');
      // Rows kept: m of the 5,000, wherever they fall; the patient appears in at most m groups, once in each.
      expect(total(groups, 'heavy', 'rows')).to.equal(m);
      expect(heavy.length).to.be.within(1, Math.min(m, ODS.length));
      for (const g of heavy) expect(g.patients).to.equal(1);
      // Each kept value 1e6 is clamped to 200 = 2,000 steps of 0.1 for SUM; AVG sums around the middle 100: 1,000 steps.
      const upperSteps = Math.round((BOUNDS.upper - BOUNDS.lower) / grid);
      const middleSteps = Math.round((BOUNDS.upper + BOUNDS.lower) / 2 / grid);
      expect(total(groups, 'heavy', 'sum')).to.equal(m * upperSteps);
      expect(total(groups, 'heavy', 'avgSum')).to.equal(m * (upperSteps - middleSteps));
      expect(total(groups, 'heavy', 'sumCount')).to.equal(m);
      // The low patient's −1e6 is clamped to the lower bound 0.
      expect(total(groups, 'low', 'rows')).to.equal(m);
      expect(total(groups, 'low', 'sum')).to.equal(0);
      expect(total(groups, 'low', 'avgSum')).to.equal(-m * middleSteps);
      expect(total(groups, 'low', 'patients')).to.equal(1);
      // Rows without a patient are not measured at all.
      expect(groups.some((g) => g.code === 'orphan')).to.equal(false);

      // Ordinary patients: min(m, rows) each, every one counted once, sums exact on the grid.
      let rows = 0;
      let steps = 0;
      let centredSteps = 0;
      for (let p = 1; p <= ORDINARY; p++) {
        rows += Math.min(m, rowsOf(p));
        steps += Math.min(m, rowsOf(p)) * Math.round(patientValue(p) / grid);
        centredSteps += Math.min(m, rowsOf(p)) * Math.round((patientValue(p) - (BOUNDS.upper + BOUNDS.lower) / 2) / grid);
      }
      expect(total(groups, 'ordinary', 'rows')).to.equal(rows);
      expect(total(groups, 'ordinary', 'patients')).to.equal(ORDINARY);
      expect(total(groups, 'ordinary', 'sum')).to.equal(steps);
      expect(total(groups, 'ordinary', 'avgSum')).to.equal(centredSteps);

      // The bound the noise is calibrated to: no group total exceeds patients · m · upper / grid.
      const patients = ORDINARY + 2;
      const allSteps = groups.reduce((s, g) => s + g.sum, 0);
      expect(allSteps).to.be.at.most(patients * m * upperSteps);
      expect(groups.reduce((s, g) => s + g.rows, 0)).to.be.at.most(patients * m);
      for (const g of groups) {
        expect(g.sum, JSON.stringify(g)).to.be.at.most(g.patients * m * upperSteps);
        expect(g.rows, JSON.stringify(g)).to.be.at.most(g.patients * m);
      }
    });
  }

  it('the rows kept for the heavy patient are chosen at random (not always the same trust)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const groups = await measure({ maxRowsPerPatient: 1 });
      for (const g of groups.filter((x) => x.code === 'heavy')) seen.add(g.domain);
    }
    // Twelve draws all landing on one of three equally likely trusts: (1/3)^11 ≈ 6·10^-6.
    expect(seen.size).to.be.at.least(2);
  });
});
