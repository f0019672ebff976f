// The `fhir` connector against an independent ground truth: every battery query must give the same rows
// on Trino (pushdown on and off) as on PostgreSQL loaded from the synthetic NDJSON; random predicates must
// agree too; and HAPI's access log must show that filters and LIMIT really reached the FHIR servers.

import * as fs from 'node:fs';
import { expect } from 'chai';
import { DOMAINS } from '../runtime/topology';
import { ACCESS_LOG, param, redacted } from './connector/access-log';
import { BatteryQuery, battery, str, strList, withoutLimit } from './connector/battery';
import { CompareOptions, describeDifference, difference, isSubMultiset, normaliseRows } from './connector/compare';
import { runDifferential } from './connector/differential';
import { TrinoEngine, TruthEngine } from './connector/engines';
import { computeFacts } from './connector/facts';
import { explain, hasToken, observe, searches, trafficFor } from './connector/pushdown-proofs';
import { randomCases } from './connector/random-predicates';
import { expectedFromMapping, readMappings, TABLES, TRINO_TYPE } from './connector/schema';
import { loadTruth, truthTables } from './connector/truth';
import { readResources } from './ground-truth';

const SNOMED = 'http://snomed.info/sct';
/** How long to wait for the connector's tables (its owner restarts Trino when a new build is ready). */
const WAIT_SECONDS = Number(process.env.CONNECTOR_WAIT_SECONDS ?? 600);
const RANDOM_CASES = Number(process.env.CONNECTOR_RANDOM_CASES ?? 300);
const SEED = Number(process.env.CONNECTOR_SEED ?? Date.now() % 2_147_483_647);
/** fhir.page-size of the local catalog (e2e/runtime writes 500). */
const PAGE_SIZE = 500;

// Ground truth and battery are built when mocha loads this file: the `it` titles are the SQL.
const tables = truthTables();
const facts = computeFacts(tables);
const queries = battery(facts);
const maidenNames = DOMAINS.flatMap((d) => readResources(d, 'Patient'))
  .flatMap((p) => (p.name ?? []) as { use?: string; family?: string }[])
  .filter((n) => n.use !== 'official' && typeof n.family === 'string')
  .map((n) => n.family as string);

describe('fhir connector against independent ground truth', function () {
  this.timeout(600_000);
  const trino = new TrinoEngine();
  const truth = new TruthEngine();

  before(async function () {
    this.timeout((WAIT_SECONDS + 120) * 1000);
    const deadline = Date.now() + WAIT_SECONDS * 1000;
    while (!(await trino.serving())) {
      if (Date.now() > deadline) throw new Error(`fhir.default lists no tables after ${WAIT_SECONDS} s: is the connector installed and Trino up?`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
    await loadTruth(tables);
  });

  after(async () => {
    await truth.close();
  });

  describe('tables', () => {
    it('ground-truth tables have the columns and types of sql-mappings/*.json (plus domain)', () => {
      const mappings = readMappings();
      expect(mappings.map((m) => m.table).sort()).to.deep.equal(TABLES.map((t) => t.name).sort());
      for (const mapping of mappings) {
        const fromMapping = mapping.view.select.flatMap((s) => s.column).map((c) => [c.name, expectedFromMapping(c.type, c.collection === true)]);
        const schema = TABLES.find((t) => t.name === mapping.table)!;
        expect(schema.columns.slice(1), mapping.table).to.deep.equal(fromMapping);
        expect(schema.columns[0]).to.deep.equal(['domain', 'varchar']);
      }
    });

    it('Trino lists the same tables, columns and types', async () => {
      const { rows } = await trino.query(
        `SELECT table_name, column_name, data_type FROM fhir.information_schema.columns WHERE table_schema = 'default' AND table_name IN (${TABLES.map((t) => `'${t.name}'`).join(', ')}) ORDER BY table_name, ordinal_position`,
      );
      const expected = TABLES.flatMap((t) => t.columns.map(([n, type]) => [t.name, n, TRINO_TYPE[type]])).sort((a, b) =>
        a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0,
      );
      expect(rows).to.deep.equal(expected);
    });

    for (const t of TABLES) {
      it(`${t.name}: the ground-truth row count per domain`, async () => {
        const sql = `SELECT domain, count(*) FROM fhir.default.${t.name} GROUP BY domain`;
        const [actual, expected] = await Promise.all([trino.query(sql), truth.query(sql)]);
        const d = difference(normaliseRows(actual.rows, ['varchar', 'bigint']), normaliseRows(expected.rows, ['varchar', 'bigint']));
        expect(d, d && describeDifference(d, 'Trino', 'ground truth')).to.equal(undefined);
      });
    }
  });

  describe(`battery (${queries.length} queries, each on Trino with pushdown on and off against PostgreSQL)`, () => {
    const nonEmpty = new Map<BatteryQuery, boolean>();
    const latencies: number[] = [];

    queries.forEach((q, i) => {
      it(`#${i + 1} ${q.title ?? q.sql}`, async () => {
        const options: CompareOptions = { ordered: q.ordered, unorderedArrays: q.unorderedArrays };
        const expectedResult = await truth.query(q.limit ? withoutLimit(q.sql) : q.sql);
        const on = await trino.query(q.sql);
        const off = await trino.query(q.sql, { pushdown: false });
        latencies.push(on.elapsedMs);
        const types = on.columns.map((c) => c.type);
        expect(expectedResult.columns.length, 'column count').to.equal(types.length);
        const expected = normaliseRows(expectedResult.rows, types, options);
        nonEmpty.set(q, expected.length > 0);

        const problems: string[] = [];
        for (const [name, result] of [
          ['pushdown on', on],
          ['pushdown off', off],
        ] as const) {
          const actual = normaliseRows(
            result.rows,
            result.columns.map((c) => c.type),
            options,
          );
          if (q.limit !== undefined) {
            if (actual.length !== Math.min(q.limit, expected.length))
              problems.push(`Trino (${name}) returned ${actual.length} rows under LIMIT ${q.limit}; ${expected.length} rows match`);
            if (!isSubMultiset(actual, expected))
              problems.push(`Trino (${name}) returned rows that do not answer the query: ${JSON.stringify(actual.slice(0, 3))}`);
          } else {
            const d = difference(actual, expected, options);
            if (d) problems.push(describeDifference(d, `Trino (${name})`, 'ground truth'));
          }
        }
        expect(problems, problems.join('\n')).to.deep.equal([]);
        // Non-emptiness is checked over the whole battery below: a few constants drawn from the data
        // legitimately match nothing once combined with other predicates.
        if (q.empty) expect(expected, 'ground truth of an edge case meant to be empty').to.deep.equal([]);
      });
    });

    it('most battery answers are non-empty, and none took unreasonably long', () => {
      const counted = [...nonEmpty.values()];
      expect(counted.length, 'battery queries that ran').to.be.greaterThan(0);
      expect(counted.filter(Boolean).length / counted.length).to.be.greaterThan(0.8);
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`      battery latency with pushdown: p50 ${sorted[Math.floor(sorted.length * 0.5)]} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)]} ms`);
    });
  });

  describe('randomised differential', () => {
    it(`${RANDOM_CASES} random predicates over condition, observation, encounter and patient agree with ground truth (seed ${SEED}, CONNECTOR_SEED to replay)`, async function () {
      this.timeout(900_000);
      console.log(`      seed ${SEED}`);
      const cases = randomCases(SEED, RANDOM_CASES, tables, maidenNames);
      const report = await runDifferential(cases, trino, truth, { concurrency: 4, batchSize: 100, log: (l) => console.log(`     ${l}`) });
      console.log(
        `      ${report.cases} cases (${report.nonEmpty} non-empty): pushdown on ${Math.round(report.pushdownOnMs / 1000)} s, ` +
          `pushdown off ${Math.round(report.pushdownOffMs / 1000)} s in ${report.pushdownOffQueries} batched scans`,
      );
      const shown = report.mismatches
        .slice(0, 15)
        .map((m) => `  [${m.engine}] ${m.sql}\n    Trino ${JSON.stringify(m.trino)} vs truth ${JSON.stringify(m.truth)}`);
      expect(report.mismatches.length, `mismatches (seed ${SEED}):\n${shown.join('\n')}`).to.equal(0);
      expect(report.nonEmpty / report.cases, 'share of predicates matching some rows').to.be.greaterThan(0.3);
    });
  });

  describe('values FHIR search cannot carry: pushdown never fails where reading without it succeeds', () => {
    // PostgreSQL holds no NUL in text, so each case's truth is the same question without the NUL value,
    // which matches no FHIR value either (FHIR strings hold no control characters but tab, CR and LF).
    const nul = (text: string): string => `U&'${text.replace(/'/g, "''")}\\0000'`;
    const cases: { sql: string; truthSql: string }[] = [
      {
        sql: `SELECT id FROM fhir.default.condition WHERE id = ${nul(facts.condition.ids[0] ?? 'c')}`,
        truthSql: `SELECT id FROM fhir.default.condition WHERE id = 'no-such-id'`,
      },
      {
        sql: `SELECT id, patient_id FROM fhir.default.condition WHERE patient_id IN (${str(facts.condition.richPatient)}, ${nul(facts.condition.richPatient)})`,
        truthSql: `SELECT id, patient_id FROM fhir.default.condition WHERE patient_id IN (${str(facts.condition.richPatient)})`,
      },
      {
        sql: `SELECT id FROM fhir.default.encounter WHERE contains(security_labels, ${nul('R')})`,
        truthSql: `SELECT id FROM fhir.default.encounter WHERE false`,
      },
      {
        sql: `SELECT domain, count(*) FROM fhir.default.condition WHERE NOT contains(security_labels, ${nul('R')}) GROUP BY domain`,
        truthSql: `SELECT domain, count(*) FROM fhir.default.condition GROUP BY domain`,
      },
      {
        sql: `SELECT id FROM fhir.default.patient WHERE family_name = ${nul(facts.patient.family)} OR nhs_number = ${nul(facts.patient.sharedNhsNumber)}`,
        truthSql: `SELECT id FROM fhir.default.patient WHERE false`,
      },
    ];
    for (const { sql, truthSql } of cases) {
      it(sql, async () => {
        const on = await trino.query(sql);
        const off = await trino.query(sql, { pushdown: false });
        const expected = await truth.query(truthSql);
        const types = on.columns.map((c) => c.type);
        const want = normaliseRows(expected.rows, types);
        for (const [name, result] of [
          ['pushdown on', on],
          ['pushdown off', off],
        ] as const) {
          const d = difference(normaliseRows(result.rows, types), want);
          expect(d, d && describeDifference(d, `Trino (${name})`, 'ground truth')).to.equal(undefined);
        }
      });
    }
  });

  describe('pushdown, as HAPI access log and EXPLAIN show it', () => {
    const code = facts.condition.topCode;
    const cohortSql = `SELECT id, onset FROM fhir.default.condition WHERE code = ${str(code)} AND onset >= TIMESTAMP '2020-01-01 00:00:00 UTC'`;

    it(`a code and onset filter reaches every trust as code=${SNOMED}|${code}&onset-date=ge..., fetching few resources`, async () => {
      const on = await observe(trino, cohortSql, true);
      const off = await observe(trino, cohortSql, false);
      const expected = await truth.query(cohortSql);
      expect(on.result.rows.length, 'rows with pushdown').to.equal(expected.rows.length);
      expect(off.result.rows.length, 'rows without pushdown').to.equal(expected.rows.length);

      const withCode = tables.condition!.filter((c) => c.code === code).length;
      const all = tables.condition!.length;
      for (const domain of DOMAINS) {
        const sent = searches(on.lines, domain.id, 'Condition');
        expect(
          sent.some((l) => hasToken(l, 'code', SNOMED, code)),
          `${domain.id}: Condition search with code=${SNOMED}|${code} in\n${sent.map((l) => l.target).join('\n')}`,
        ).to.equal(true);
        expect(
          sent.some((l) => param(l, 'onset-date').includes(`ge${redacted('2020-01-01T00:00:00Z')}`)),
          `${domain.id}: onset-date=ge2020-01-01T00:00:00Z (hashed) in\n${sent.map((l) => l.target).join('\n')}`,
        ).to.equal(true);
        const fullScan = searches(off.lines, domain.id, 'Condition');
        expect(
          fullScan.some((l) => param(l, 'code').length > 0),
          `${domain.id}: no code parameter with pushdown off`,
        ).to.equal(false);
        const [a, b] = [trafficFor(on.lines, domain.id, 'Condition'), trafficFor(off.lines, domain.id, 'Condition')];
        expect(a.requests, `${domain.id}: requests with pushdown (${a.requests}) vs without (${b.requests})`).to.be.at.most(b.requests);
        expect(a.bytes * 3, `${domain.id}: bytes with pushdown (${a.bytes}) vs without (${b.bytes})`).to.be.lessThan(b.bytes);
      }
      expect(on.rowsFetched, 'resources fetched with pushdown').to.be.within(expected.rows.length, withCode);
      expect(off.rowsFetched, 'resources fetched without pushdown').to.equal(all);
    });

    it('EXPLAIN shows the FHIR search the scan will issue', async () => {
      const plan = await explain(trino, cohortSql);
      expect(plan).to.include(`Condition?`);
      expect(plan).to.include(`code=${SNOMED}|${code}`);
      expect(plan).to.include('onset-date=ge2020-01-01T00:00:00Z');
    });

    it('patient_id IN (...) becomes subject=Patient/..,Patient/.. at every trust', async () => {
      const ids = facts.condition.patients.slice(0, 2);
      const sql = `SELECT id FROM fhir.default.condition WHERE patient_id IN (${strList(ids)})`;
      const plan = await explain(trino, sql);
      const planSubject = /subject=([^&\s,\]]+(?:,[^&\s,\]]+)*)/.exec(plan)?.[1]?.split(',') ?? [];
      expect(planSubject.sort(), `EXPLAIN:\n${plan}`).to.deep.equal(ids.map((id) => `Patient/${id}`).sort());
      const on = await observe(trino, sql, true);
      const expected = await truth.query(sql);
      expect(on.result.rows.length).to.equal(expected.rows.length);
      // Every trust is asked, at least by the split manager's `_summary=count` sizing request (a trust with no
      // match gets no search after it), and every request carries both references in one `subject` list.
      for (const domain of DOMAINS) {
        const asked = on.lines.filter((l) => l.domain === domain.id && l.resourceType === 'Condition');
        expect(asked.length, `${domain.id}: Condition requests`).to.be.greaterThan(0);
        for (const line of asked) {
          const subjects = param(line, 'subject').flatMap((v) => v.split(','));
          expect(subjects.sort(), `${domain.id} subject parameter on ${line.target}`).to.deep.equal(ids.map((id) => redacted(`Patient/${id}`)).sort());
        }
      }
    });

    it(`LIMIT 5 asks for at most a page (_count <= ${PAGE_SIZE}) and stops early`, async () => {
      const sql = 'SELECT id FROM fhir.default.observation LIMIT 5';
      const on = await observe(trino, sql, true);
      expect(on.result.rows.length).to.equal(5);
      for (const domain of DOMAINS) {
        const sent = searches(on.lines, domain.id, 'Observation');
        for (const line of sent) {
          const count = param(line, '_count').map(Number);
          expect(count.length, `${domain.id}: _count on ${line.target}`).to.be.greaterThan(0);
          expect(Math.max(...count), `${domain.id}: _count on ${line.target}`).to.be.at.most(PAGE_SIZE);
        }
        // A full scan follows `next` through ~11000 observations (over 20 pages); LIMIT 5 stops at the first.
        expect(trafficFor(on.lines, domain.id, 'Observation').pages, `${domain.id}: continuation pages for LIMIT 5`).to.equal(0);
      }
      expect(on.rowsFetched, 'observations fetched for LIMIT 5').to.be.at.most(DOMAINS.length * PAGE_SIZE);
    });

    it('ORDER BY last_updated DESC LIMIT 7 becomes _sort=-_lastUpdated&_count=7 at every trust, one page each, and agrees with a full read', async () => {
      const sql = 'SELECT last_updated FROM fhir.default.condition ORDER BY last_updated DESC LIMIT 7';
      expect(await explain(trino, sql)).to.include('_sort=-_lastUpdated');
      const on = await observe(trino, sql, true);
      const off = await observe(trino, sql, false);
      // Only the sort key is selected, so the answer is the same whichever of tied rows is kept.
      expect(on.result.rows).to.deep.equal(off.result.rows);
      expect(on.result.rows.length).to.equal(7);
      for (const domain of DOMAINS) {
        const sent = searches(on.lines, domain.id, 'Condition');
        const sorted = sent.filter((l) => param(l, '_sort').includes('-_lastUpdated') && param(l, '_count').includes('7'));
        expect(sorted.length, `${domain.id}: the sorted search in\n${sent.map((l) => l.target).join('\n')}`).to.equal(1);
        expect(
          sent.every((l) => param(l, '_sort').includes('-_lastUpdated')),
          `${domain.id}: every search sorted (the probe too)`,
        ).to.equal(true);
        expect(trafficFor(on.lines, domain.id, 'Condition').pages, `${domain.id}: continuation pages`).to.equal(0);
        expect(
          searches(off.lines, domain.id, 'Condition').some((l) => param(l, '_sort').length > 0),
          `${domain.id}: no _sort with pushdown off`,
        ).to.equal(false);
      }
      expect(on.rowsFetched, 'rows read with the sort pushed').to.be.at.most(DOMAINS.length * 7);
      expect(off.rowsFetched, 'rows read without').to.equal(tables.condition!.length);
    });

    it('a top-N over several rows per resource, or over one trust, stays exact', async () => {
      const components = 'SELECT id, last_updated FROM fhir.default.observation_component ORDER BY last_updated DESC LIMIT 5';
      const on = await trino.query(components);
      const off = await trino.query(components, { pushdown: false });
      expect(on.rows.map((r) => r[1])).to.deep.equal(off.rows.map((r) => r[1]));
      const ids = [...new Set(on.rows.map((r) => String(r[0])))];
      const actual = await trino.query(`SELECT DISTINCT id, last_updated FROM fhir.default.observation_component WHERE id IN (${strList(ids)})`);
      const truthById = new Map(actual.rows.map((r) => [String(r[0]), r[1]]));
      for (const [id, lastUpdated] of on.rows) expect(truthById.get(String(id)), `last_updated of ${String(id)}`).to.equal(lastUpdated);

      const oneTrust = "SELECT last_updated FROM fhir.default.encounter WHERE domain = 'RTH' ORDER BY last_updated LIMIT 3";
      expect(await explain(trino, oneTrust)).to.match(/domains=RTH search=Encounter\?_sort=_lastUpdated/);
      const first = await observe(trino, oneTrust, true);
      expect(first.result.rows).to.deep.equal((await trino.query(oneTrust, { pushdown: false })).rows);
      expect(first.lines.filter((l) => l.resourceType === 'Encounter').map((l) => l.domain)).to.satisfy(
        (d: string[]) => d.length > 0 && d.every((x) => x === 'rth'),
      );
    });

    it('a filter keeps ORDER BY ... LIMIT in Trino, because only Trino applies it exactly', async () => {
      const sql = `SELECT last_updated FROM fhir.default.condition WHERE code = ${str(facts.condition.topCode)} ORDER BY last_updated DESC LIMIT 3`;
      expect(await explain(trino, sql)).not.to.include('_sort=');
      expect((await trino.query(sql)).rows).to.deep.equal((await trino.query(sql, { pushdown: false })).rows);
    });

    it('security label filters become _security and _security:not searches', async () => {
      const plan = await explain(trino, "SELECT id FROM fhir.default.encounter WHERE contains(security_labels, 'PSY')");
      expect(plan).to.match(/_security=[^&\s]*PSY/);
      const notPlan = await explain(trino, "SELECT id FROM fhir.default.encounter WHERE NOT contains(security_labels, 'R')");
      expect(notPlan).to.match(/_security:not=[^&\s]*R/);
    });

    it('a family name filter becomes family:exact, and Trino still re-checks case', async () => {
      const family = facts.patient.family;
      const plan = await explain(trino, `SELECT id FROM fhir.default.patient WHERE family_name = ${str(family)}`);
      expect(plan).to.include(`family:exact=${family}`);
      const lower = await trino.query(`SELECT id FROM fhir.default.patient WHERE family_name = ${str(family.toLowerCase())}`);
      expect(lower.rows).to.deep.equal([]);
    });
  });

  describe('HAPI access log privacy', () => {
    const HASH = /h:[0-9a-f]{16}/g;

    it('a search on an NHS number and a family name leaves only their keyed hashes in the access log', async () => {
      const nhs = facts.patient.sharedNhsNumber;
      const family = String(tables.patient!.find((p) => p.nhs_number === nhs && typeof p.family_name === 'string')?.family_name);
      const sql = `SELECT id FROM fhir.default.patient WHERE nhs_number = ${str(nhs)} AND family_name = ${str(family)}`;
      const on = await observe(trino, sql, true);
      const expected = await truth.query(sql);
      expect(expected.rows.length, 'patients with that NHS number and name').to.be.greaterThan(0);
      expect(on.result.rows.length, 'rows with pushdown').to.equal(expected.rows.length);

      const patientLines = on.lines.filter((l) => l.resourceType === 'Patient');
      expect(patientLines.length, 'Patient searches logged').to.be.greaterThan(0);
      // Every line written meanwhile (continuation pages, other clients' requests too), raw and decoded.
      for (const line of on.lines) {
        const raw = line.raw.replace(HASH, '');
        const decoded = line.params.map(([, v]) => v.replace(HASH, '')).join('&');
        for (const clear of [nhs, family, encodeURIComponent(family)]) {
          expect(raw.includes(clear) || decoded.includes(clear), `${clear} in clear in ${line.raw}`).to.equal(false);
        }
      }
      const nhsToken = redacted(`https://fhir.nhs.uk/Id/nhs-number|${nhs}`);
      const shown = patientLines.map((l) => l.raw).join('\n');
      expect(
        patientLines.some((l) => param(l, 'identifier').includes(nhsToken)),
        `identifier=${nhsToken} in\n${shown}`,
      ).to.equal(true);
      expect(
        patientLines.some((l) => param(l, 'family:exact').includes(redacted(family))),
        `family:exact=${redacted(family)} in\n${shown}`,
      ).to.equal(true);
    });

    it('the access log file is readable by its owner only (mode 0600)', () => {
      expect((fs.statSync(ACCESS_LOG).mode & 0o777).toString(8)).to.equal('600');
    });
  });
});
