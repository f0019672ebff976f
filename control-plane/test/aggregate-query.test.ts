// The aggregate-only analyser (gateway/disclosure/aggregate-query.ts): the query forms it accepts, with
// what it reads from them, and every form it must refuse, each with a message naming the problem and the
// allowed form; then the shape of the SQL built around an accepted query (aggregate-sql.ts), checked to
// parse as Trino 476 SQL.
import { expect } from 'chai';
import { type AggregateQuery, ALLOWED_FORM, NotAllowed } from '../src/gateway/disclosure/aggregate-query';
import { measurementsQuery, rowsQuery } from '../src/gateway/disclosure/aggregate-sql';
import { ICD10_CHAPTERS, type KeyDomain, keyDomain } from '../src/gateway/disclosure/public-keys';
import { parseStatement } from '../src/gateway/sql/trino-parser';
import { analysed } from './aggregate-fixtures';

/** The analyser's refusal message for `sql` (fails the test when it is accepted or fails otherwise). */
function refusal(sql: string): string {
  let q: AggregateQuery | undefined;
  try {
    q = analysed(sql);
  } catch (e) {
    expect(e, sql).to.be.instanceOf(NotAllowed);
    const message = (e as Error).message;
    expect(message, sql).to.contain(`Aggregate-only access allows: ${ALLOWED_FORM}`);
    return message;
  }
  expect.fail(`accepted: ${sql}\n  as ${JSON.stringify({ ...q, sources: q.sources.map((s) => s.alias) })}`);
}

function refuses(sql: string, what: RegExp): void {
  expect(refusal(sql), sql).to.match(what);
}

describe('aggregate-only analyser: accepted forms', () => {
  it('COUNT(*), COUNT(column) and COUNT(DISTINCT <patient key>) without groups', () => {
    const q = analysed('SELECT count(*), count(e."end") AS ended, COUNT(DISTINCT e.patient_id) patients FROM encounter e');
    expect(q.aggregates).to.deep.equal([{ kind: 'count-rows' }, { kind: 'count-values', argument: 'e."end"' }, { kind: 'count-patients' }]);
    expect(q.outputs.map((o) => o.name)).to.deep.equal(['_col0', 'ended', 'patients']);
    expect(q.keys).to.deep.equal([]);
    expect(q.patientSql).to.equal('"e"."patient_id"');
    expect(q.fromSql).to.equal('encounter e');
    expect(q.whereSql).to.equal(undefined);
  });

  it('SUM/AVG of a column with policy bounds, and of least(greatest(x, lo), hi) / greatest(least(x, hi), lo) written by the analyst', () => {
    const q = analysed(
      'SELECT avg(value), sum(least(greatest(o.value, -5), 3)), avg(greatest(least(value * 2, 1e2), (-10))), sum(least(greatest(value, 0.5), 2.5)) FROM observation o',
    );
    expect(q.aggregates).to.deep.equal([
      { kind: 'avg', argument: 'value', bounds: { lower: 0, upper: 200, source: 'declared by the policy for observation.value' } },
      { kind: 'sum', argument: 'o.value', bounds: { lower: -5, upper: 3, source: 'written in the query (least/greatest)' } },
      { kind: 'avg', argument: 'value * 2', bounds: { lower: -10, upper: 100, source: 'written in the query (least/greatest)' } },
      { kind: 'sum', argument: 'value', bounds: { lower: 0.5, upper: 2.5, source: 'written in the query (least/greatest)' } },
    ]);
  });

  it('a clamp on any allowed row expression, e.g. minutes between two joined rows', () => {
    const q = analysed(
      "SELECT avg(least(greatest(date_diff('minute', e.start, p.performed_start), 0), 240)) FROM encounter e LEFT JOIN procedure p ON p.patient_id = e.patient_id AND p.encounter_id = e.id",
    );
    expect(q.aggregates[0]).to.deep.include({ kind: 'avg', argument: "date_diff('minute', e.start, p.performed_start)" });
    expect(q.aggregates[0]!.bounds).to.deep.include({ lower: 0, upper: 240 });
  });

  it('GROUP BY categorical columns (code, boolean, domain) by name or ordinal, icd10_chapter(code), ORDER BY output name or position, LIMIT', () => {
    const q = analysed(
      'SELECT domain, c.clinical_status AS status, icd10_chapter(c.icd10_code) AS chapter, count(*) AS n FROM condition c ' +
        "WHERE c.onset >= TIMESTAMP '2020-01-01 00:00:00 UTC' GROUP BY 1, c.clinical_status, icd10_chapter(c.icd10_code) ORDER BY n DESC, 3 LIMIT 10",
    );
    expect(q.keys).to.deep.equal([
      { text: 'domain', table: 'condition', column: 'domain', columnSql: 'domain', transform: undefined },
      { text: 'c.clinical_status', table: 'condition', column: 'clinical_status', columnSql: 'c.clinical_status', transform: undefined },
      { text: 'icd10_chapter(c.icd10_code)', table: 'condition', column: 'icd10_code', columnSql: 'c.icd10_code', transform: 'icd10-chapter' },
    ]);
    expect(q.outputs).to.deep.equal([
      { name: 'domain', kind: 'key', key: 0 },
      { name: 'status', kind: 'key', key: 1 },
      { name: 'chapter', kind: 'key', key: 2 },
      { name: 'n', kind: 'aggregate', aggregate: 0 },
    ]);
    expect(q.orderBy).to.deep.equal([
      { output: 3, descending: true, nullsFirst: false },
      { output: 2, descending: false, nullsFirst: false },
    ]);
    expect(q.limit).to.equal(10);
    // Made total: a runtime error in the analyst's condition is a non-match, never a failed query.
    expect(q.whereSql).to.equal("coalesce(try(c.onset >= TIMESTAMP '2020-01-01 00:00:00 UTC'), false)");
    expect(analysed('SELECT abnormal, count(*) FROM observation GROUP BY abnormal').keys[0]!.column).to.equal('abnormal');
    expect(analysed('SELECT count(*) FROM encounter LIMIT ALL').limit).to.equal(undefined);
    expect(analysed('SELECT count(*) n FROM encounter ORDER BY n NULLS FIRST').orderBy).to.deep.equal([{ output: 0, descending: false, nullsFirst: true }]);
  });

  it('INNER, LEFT and chained joins whose ON equates the patient keys (in either order, ANDed with anything)', () => {
    const forms = [
      'encounter e JOIN procedure p ON e.patient_id = p.patient_id',
      'encounter e INNER JOIN procedure p ON p.patient_id = e.patient_id',
      "encounter e LEFT JOIN procedure p ON p.encounter_id = e.id AND p.patient_id = e.patient_id AND p.code = '426347000'",
      'encounter e LEFT OUTER JOIN procedure p ON e.patient_id = p.patient_id',
      'encounter e JOIN procedure p ON e.patient_id = p.patient_id JOIN observation o ON o.patient_id = p.patient_id',
      'encounter e JOIN encounter f ON e.patient_id = f.patient_id',
      'fhir.default.encounter JOIN fhir.default.procedure ON encounter.patient_id = procedure.patient_id',
    ];
    for (const from of forms) {
      const q = analysed(`SELECT count(*) FROM ${from}`);
      // Each ON keeps its patient-key equality outside try() (an equi-join) and the whole condition inside it.
      expect(q.fromSql.split('coalesce(try(').length - 1, q.fromSql).to.equal(from.split(' JOIN ').length - 1);
      expect(q.fromSql.replace(/ AND coalesce\(try\((.*?)\), false\)/g, ''), q.fromSql).to.not.include('try(');
      expect(q.sources.length, from).to.be.greaterThan(1);
    }
    // The contributing patient is the first table's.
    expect(analysed(`SELECT count(*) FROM ${forms[4]}`).patientSql).to.equal('"e"."patient_id"');
  });

  it('WHERE filters with allowed functions, CAST, CASE, LIKE, IN lists and literals', () => {
    const where =
      "lower(e.status) = 'finished' AND year(e.start) BETWEEN 2019 AND 2024 AND e.class_code IN ('EMER', 'IMP') AND e.type_code LIKE '4%' " +
      'AND CAST(date_diff(\'day\', e.start, e."end") AS integer) > 1 AND CASE WHEN e."end" IS NULL THEN false ELSE true END AND NOT contains(e.security_labels, \'V\')';
    expect(analysed(`SELECT count(*) FROM encounter e WHERE ${where}`).whereSql).to.equal(`coalesce(try(${where}), false)`);
  });
});

describe('aggregate-only analyser: refused forms name the problem and the allowed form', () => {
  it('WITH, UNION/INTERSECT/EXCEPT, VALUES, TABLE and statements that are not queries', () => {
    refuses('WITH x AS (SELECT patient_id FROM encounter) SELECT count(*) FROM x', /WITH queries are not supported/);
    refuses('SELECT count(*) FROM encounter UNION ALL SELECT count(*) FROM procedure', /UNION, INTERSECT, EXCEPT/);
    refuses('SELECT count(*) FROM encounter EXCEPT SELECT count(*) FROM procedure', /UNION, INTERSECT, EXCEPT/);
    refuses('(SELECT count(*) FROM encounter)', /parenthesised queries are not supported/);
    refuses('VALUES 1', /VALUES/);
    refuses('TABLE encounter', /TABLE/);
    refuses('SHOW TABLES', /only a query \(SELECT\) can be answered/);
    refuses('INSERT INTO encounter SELECT * FROM encounter', /only a query \(SELECT\) can be answered/);
  });

  it('subqueries anywhere: FROM, WHERE, EXISTS, IN (SELECT), scalar subqueries, JOIN ON, inside aggregates', () => {
    refuses('SELECT count(*) FROM (SELECT * FROM encounter) e', /no subqueries, UNNEST, LATERAL or table functions in FROM/);
    refuses('SELECT count(*) FROM encounter e JOIN (SELECT patient_id FROM procedure) p ON e.patient_id = p.patient_id', /no subqueries/);
    refuses('SELECT count(*) FROM encounter WHERE patient_id IN (SELECT patient_id FROM procedure)', /WHERE: subqueries are not supported/);
    refuses(
      'SELECT count(*) FROM encounter e WHERE EXISTS (SELECT 1 FROM procedure p WHERE p.patient_id = e.patient_id)',
      /WHERE: subqueries are not supported/,
    );
    refuses('SELECT count(*) FROM encounter e WHERE e.status = ANY (SELECT status FROM procedure)', /WHERE: subqueries are not supported/);
    refuses('SELECT count(*) FROM encounter WHERE (SELECT count(*) FROM procedure) > 10', /WHERE: subqueries are not supported/);
    refuses(
      'SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id AND p.id IN (SELECT id FROM procedure)',
      /ON: subqueries are not supported/,
    );
    refuses('SELECT sum(least(greatest((SELECT count(*) FROM procedure), 0), 10)) FROM encounter', /sum\(\.\.\.\): subqueries are not supported/);
    refuses('SELECT count((SELECT max(id) FROM procedure)) FROM encounter', /count\(\.\.\.\): subqueries are not supported/);
    // A scalar subquery as a SELECT item is neither an aggregate nor a key.
    refuses('SELECT count(*), (SELECT count(*) FROM procedure) FROM encounter', /is neither an allowed aggregate nor a GROUP BY key/);
    refuses('SELECT count(*) FROM encounter, LATERAL (SELECT 1)', /comma joins are not supported/);
    refuses('SELECT count(*) FROM UNNEST(ARRAY[1, 2])', /no subqueries, UNNEST, LATERAL or table functions in FROM/);
    refuses("SELECT count(*) FROM TABLE(system.query(query => 'SELECT 1'))", /table functions in FROM/);
  });

  it('window functions, FILTER, lambdas, nested aggregates', () => {
    refuses('SELECT count(*) OVER () FROM encounter', /count\(\.\.\.\) with FILTER, OVER or ORDER BY is not supported/);
    refuses("SELECT count(*) FILTER (WHERE status = 'finished') FROM encounter", /with FILTER, OVER or ORDER BY is not supported/);
    refuses('SELECT row_number() OVER (PARTITION BY patient_id) FROM encounter', /row_number\(\.\.\.\) is not an aggregate the mesh can protect/);
    refuses('SELECT count(*) FROM encounter WHERE row_number() OVER () < 5', /WHERE: window functions and FILTER are not supported|row_number/);
    refuses("SELECT count(*) FROM encounter WHERE any_match(security_labels, x -> x = 'V')", /lambda expressions are not supported|any_match/);
    refuses("SELECT count(*) FROM encounter WHERE cardinality(filter(security_labels, x -> x = 'V')) = 0", /WHERE: the function filter/);
    refuses('SELECT sum(count(*)) FROM encounter', /aggregates cannot be nested or used outside the SELECT list/);
    refuses('SELECT count(*) FROM encounter WHERE count(*) > 1', /WHERE: aggregates cannot be nested/);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id AND max(p.id) = p.id', /ON: aggregates cannot be nested/);
    refuses('SELECT status, count(*) FROM encounter GROUP BY status WINDOW w AS (PARTITION BY status)', /WINDOW clauses are not supported/);
  });

  it('a lambda anywhere is refused with its name, even inside an allowed function', () => {
    // transform is not allowed either; the lambda check fires first or the function check does: both name the problem.
    refuses(
      "SELECT count(*) FROM encounter WHERE contains(transform(security_labels, x -> lower(x)), 'v')",
      /lambda expressions are not supported|function transform/,
    );
  });

  it('functions not on the allow-list: random(), system functions, other aggregates, approx_percentile', () => {
    refuses('SELECT count(*) FROM encounter WHERE random() < 0.5', /WHERE: the function random is not on the list the mesh allows/);
    refuses('SELECT count(*) FROM encounter WHERE rand() < 0.5', /the function rand is not on the list/);
    refuses('SELECT sum(least(greatest(random(), 0), 1)) FROM encounter', /sum\(\.\.\.\): the function random is not on the list/);
    refuses('SELECT count(*) FROM encounter WHERE system.builtin.random() < 1', /the function system\.builtin\.random is not on the list/);
    refuses("SELECT count(*) FROM encounter WHERE mesh_pseudonym('9434765919') = patient_id", /the function mesh_pseudonym is not on the list/);
    refuses("SELECT count(*) FROM encounter WHERE regexp_like(status, 'fin.*')", /the function regexp_like is not on the list/);
    refuses('SELECT max(value) FROM observation', /max\(\.\.\.\) is not an aggregate the mesh can protect/);
    refuses('SELECT min(value) FROM observation', /min\(\.\.\.\) is not an aggregate the mesh can protect/);
    refuses('SELECT approx_percentile(value, 0.5) FROM observation', /approx_percentile\(\.\.\.\) is not an aggregate the mesh can protect/);
    refuses('SELECT array_agg(patient_id) FROM observation', /array_agg\(\.\.\.\) is not an aggregate/);
    refuses('SELECT stddev(least(greatest(value, 0), 1)) FROM observation', /stddev\(\.\.\.\) is not an aggregate/);
    // Trino's own `try` is a function too, and not on the list.
    refuses('SELECT count(*) FROM encounter WHERE try(CAST(id AS integer)) > 0', /the function try is not on the list/);
  });

  it('expressions over aggregates, bare columns and constants in the SELECT list', () => {
    refuses('SELECT count(*) + 1 FROM encounter', /count\(\*\) \+ 1 is neither an allowed aggregate nor a GROUP BY key/);
    refuses('SELECT round(avg(value)) FROM observation', /neither an allowed aggregate nor a GROUP BY key/);
    refuses('SELECT status, count(*) FROM encounter', /status is neither an allowed aggregate nor a GROUP BY key/);
    refuses('SELECT 1 FROM encounter', /1 is neither an allowed aggregate/);
    refuses('SELECT status FROM encounter GROUP BY status', /the query has no aggregate/);
    refuses('SELECT * FROM encounter', /SELECT \* lists rows/);
    refuses('SELECT e.*, count(*) FROM encounter e', /SELECT \* lists rows/);
    refuses('SELECT count(*)', /a FROM clause is needed/);
  });

  it('SELECT DISTINCT, HAVING, GROUPING SETS / ROLLUP / CUBE, GROUP BY DISTINCT', () => {
    refuses('SELECT DISTINCT status, count(*) FROM encounter GROUP BY status', /SELECT DISTINCT lists values row by row/);
    refuses('SELECT status, count(*) FROM encounter GROUP BY status HAVING count(*) > 5', /HAVING is not supported/);
    refuses('SELECT status, count(*) FROM encounter GROUP BY GROUPING SETS ((status), ())', /ROLLUP, CUBE and GROUPING SETS are not supported/);
    refuses('SELECT status, count(*) FROM encounter GROUP BY ROLLUP (status)', /ROLLUP, CUBE and GROUPING SETS are not supported/);
    refuses('SELECT status, count(*) FROM encounter GROUP BY CUBE (status)', /ROLLUP, CUBE and GROUPING SETS are not supported/);
    refuses('SELECT status, count(*) FROM encounter GROUP BY DISTINCT status', /GROUP BY DISTINCT\/ALL is not supported/);
  });

  it('CROSS, NATURAL, RIGHT, FULL, comma joins and USING', () => {
    refuses('SELECT count(*) FROM encounter e CROSS JOIN procedure p', /CROSS and NATURAL joins are not supported/);
    refuses('SELECT count(*) FROM encounter e NATURAL JOIN procedure p', /CROSS and NATURAL joins are not supported/);
    refuses('SELECT count(*) FROM encounter e RIGHT JOIN procedure p ON e.patient_id = p.patient_id', /RIGHT JOIN is not supported \(use JOIN or LEFT JOIN\)/);
    refuses('SELECT count(*) FROM encounter e FULL OUTER JOIN procedure p ON e.patient_id = p.patient_id', /FULL ?OUTER JOIN is not supported/);
    refuses(
      'SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id RIGHT JOIN observation o ON o.patient_id = p.patient_id',
      /RIGHT JOIN is not supported/,
    );
    refuses(
      'SELECT count(*) FROM encounter e, procedure p WHERE e.patient_id = p.patient_id',
      /comma joins are not supported \(use JOIN \.\.\. ON the patient keys\)/,
    );
    refuses('SELECT count(*) FROM encounter e JOIN procedure p USING (patient_id)', /USING is not supported/);
    refuses('SELECT count(*) FROM (encounter e JOIN procedure p ON e.patient_id = p.patient_id)', /only mesh tables can be read/);
  });

  it('joins that do not stay within one patient: other columns, OR-ed conditions, negations, one side only', () => {
    const outside = /does not stay within one patient's data: add e\.patient_id = p\.patient_id to the condition/;
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.id = p.encounter_id', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.encounter_id', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.id = p.patient_id', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id OR 1 = 1', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON (e.patient_id = p.patient_id OR 1 = 1)', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id AND e.patient_id = p.patient_id OR true', outside);
    refuses('SELECT count(*) FROM encounter e LEFT JOIN procedure p ON e.patient_id = p.patient_id OR p.code IS NOT NULL', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON NOT (e.patient_id = p.patient_id)', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id <> p.patient_id', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = e.patient_id', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON p.patient_id = p.patient_id', outside);
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON true', outside);
    refuses("SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = 'x' AND p.patient_id = 'x'", outside);
    // The third table must be linked to the first two, not those two to each other again.
    refuses(
      'SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id JOIN observation o ON e.patient_id = p.patient_id',
      /join ON e\.patient_id = p\.patient_id does not stay within one patient's data: add e\.patient_id = o\.patient_id/,
    );
    refuses(
      'SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id JOIN observation o ON o.patient_id = o.patient_id',
      /add e\.patient_id = o\.patient_id to the condition/,
    );
    refuses('SELECT count(*) FROM encounter e JOIN procedure p ON e.patient_id = x.patient_id', outside);
  });

  it('COUNT(DISTINCT <anything but the patient key>), DISTINCT in SUM/AVG, extra arguments', () => {
    refuses('SELECT count(DISTINCT id) FROM encounter', /COUNT\(DISTINCT \.\.\.\) counts patients only: COUNT\(DISTINCT <patient key>\)/);
    refuses('SELECT count(DISTINCT e.status) FROM encounter e', /counts patients only/);
    refuses('SELECT count(DISTINCT lower(patient_id)) FROM encounter', /counts patients only/);
    refuses('SELECT count(DISTINCT p.encounter_id) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id', /counts patients only/);
    refuses('SELECT sum(DISTINCT value) FROM observation', /sum\(DISTINCT \.\.\.\) is not supported/);
    refuses('SELECT avg(DISTINCT least(greatest(value, 0), 1)) FROM observation', /avg\(DISTINCT \.\.\.\) is not supported/);
    refuses('SELECT count(id, status) FROM encounter', /count takes one argument/);
  });

  it('grouping by the patient key, an id, a reference, free text, a collection, an expression or an aggregate', () => {
    const notCategorical = /is not a categorical column \(FHIR code or boolean, or the trust's domain\)/;
    refuses('SELECT patient_id, count(*) FROM encounter GROUP BY patient_id', notCategorical);
    refuses('SELECT e.patient_id, count(*) FROM encounter e GROUP BY 1', notCategorical);
    refuses('SELECT id, count(*) FROM encounter GROUP BY id', notCategorical);
    refuses('SELECT encounter_id, count(*) FROM procedure GROUP BY encounter_id', notCategorical);
    refuses('SELECT type_display, count(*) FROM encounter GROUP BY type_display', notCategorical);
    refuses('SELECT value_string, count(*) FROM observation GROUP BY value_string', notCategorical);
    refuses('SELECT value, count(*) FROM observation GROUP BY value', notCategorical);
    refuses('SELECT start, count(*) FROM encounter GROUP BY start', notCategorical);
    refuses('SELECT security_labels, count(*) FROM encounter GROUP BY security_labels', notCategorical);
    refuses('SELECT icd10_chapter(code_display), count(*) FROM procedure GROUP BY 1', notCategorical);
    const notAKey = /group by a categorical column or icd10_chapter\(<ICD-10 code column>\)/;
    refuses('SELECT year(start), count(*) FROM encounter GROUP BY year(start)', notAKey);
    refuses('SELECT lower(status), count(*) FROM encounter GROUP BY lower(status)', notAKey);
    refuses("SELECT status || 'x', count(*) FROM encounter GROUP BY 1", notAKey);
    refuses('SELECT count(*) FROM encounter GROUP BY 1', notAKey);
    refuses('SELECT status, count(*) FROM encounter GROUP BY 3', /GROUP BY 3 names no column of the SELECT list/);
    refuses('SELECT code, count(*) FROM encounter e JOIN procedure p ON e.patient_id = p.patient_id GROUP BY status', /column status is ambiguous; qualify it/);
  });

  it('TABLESAMPLE, OFFSET, FETCH, MATCH_RECOGNIZE, column aliases on tables, repeated aliases, unknown tables and columns', () => {
    refuses('SELECT count(*) FROM encounter TABLESAMPLE BERNOULLI (10)', /TABLESAMPLE is not supported/);
    refuses('SELECT count(*) FROM encounter e TABLESAMPLE SYSTEM (50)', /TABLESAMPLE is not supported/);
    refuses('SELECT count(*) FROM encounter OFFSET 1', /OFFSET and FETCH are not supported \(use LIMIT\)/);
    refuses('SELECT count(*) FROM encounter FETCH FIRST 1 ROWS ONLY', /OFFSET and FETCH are not supported/);
    refuses('SELECT count(*) FROM encounter ORDER BY 1 OFFSET 2 LIMIT 1', /OFFSET and FETCH are not supported/);
    refuses(
      'SELECT count(*) FROM encounter MATCH_RECOGNIZE (PARTITION BY patient_id ORDER BY start MEASURES A.id AS x PATTERN (A) DEFINE A AS true)',
      /MATCH_RECOGNIZE is not supported/,
    );
    refuses('SELECT count(*) FROM encounter AS e (a, b, c, d, f, g, h, i, j, k)', /column aliases on a table are not supported/);
    refuses('SELECT count(*) FROM encounter e JOIN procedure e ON e.patient_id = e.patient_id', /the table alias e is used twice/);
    refuses('SELECT count(*) FROM patients', /patients is not a mesh table with patient data/);
    refuses('SELECT count(e.nhs_number) FROM encounter e', /encounter has no column nhs_number/);
    refuses('SELECT count(x.id) FROM encounter e', /x\.id names no table of the FROM clause/);
    refuses('SELECT count(*) FROM encounter ORDER BY status', /ORDER BY status: order by an output column \(its name or position\)/);
    refuses('SELECT count(*) FROM encounter ORDER BY 2', /ORDER BY 2: order by an output column/);
  });

  it('SUM/AVG without bounds, of non-numbers, and with bounds where lower ≥ upper', () => {
    refuses('SELECT sum(id) FROM encounter', /sum\(id\): encounter\.id is not a number/);
    refuses(
      'SELECT avg(date_diff(\'minute\', start, "end")) FROM encounter',
      /avg\(date_diff\('minute', start, "end"\)\) needs bounds: write avg\(least\(greatest\(<expr>, <lower>\), <upper>\)\)/,
    );
    refuses('SELECT sum(value) FROM observation o JOIN observation p ON o.patient_id = p.patient_id', /column value is ambiguous; qualify it/);
    refuses('SELECT avg(e.value) FROM observation o JOIN encounter e ON o.patient_id = e.patient_id', /encounter has no column value/);
    refuses('SELECT avg(least(greatest(value, 10), 5)) FROM observation', /the bounds in least\(greatest\(value, 10\), 5\) must have lower < upper/);
    refuses('SELECT avg(greatest(least(value, 5), 10)) FROM observation', /the bounds in greatest\(least\(value, 5\), 10\) must have lower < upper/);
    refuses('SELECT sum(least(greatest(value, 5), 5)) FROM observation', /must have lower < upper/);
    // Bounds that are not literals are no bounds: the clamp could depend on the data.
    refuses('SELECT avg(least(greatest(value, 0), value)) FROM observation', /needs bounds/);
    refuses('SELECT sum(least(value, 10)) FROM observation', /needs bounds/);
    refuses('SELECT sum(least(greatest(value, 0), 10), 1) FROM observation', /sum takes one argument/);
  });

  // The allowed form written with brackets: conjuncts are read through parentheses.
  it('accepts a patient-key equality in parentheses', () => {
    expect(analysed('SELECT count(*) FROM encounter e JOIN procedure p ON (e.patient_id = p.patient_id)').sources).to.have.length(2);
    expect(analysed("SELECT count(*) FROM encounter e JOIN procedure p ON (e.patient_id = p.patient_id AND p.code = 'x')").sources).to.have.length(2);
  });

  // COUNT(DISTINCT p.patient_id) over `encounter e LEFT JOIN procedure p` is measured over the row's patient, which
  // would count encounters without a procedure (where p.patient_id is NULL): refused, naming the table to count.
  it('refuses COUNT(DISTINCT <right-hand patient key>) of a LEFT JOIN (it would count rows where nothing matched)', () => {
    const sql = 'SELECT count(DISTINCT p.patient_id) FROM encounter e LEFT JOIN procedure p ON e.patient_id = p.patient_id';
    expect(() => analysed(sql)).to.throw(NotAllowed, /LEFT JOINed table's patients/);
    expect(() => analysed('SELECT count(DISTINCT e.patient_id) FROM encounter e LEFT JOIN procedure p ON e.patient_id = p.patient_id')).to.not.throw();
  });
});

describe('aggregate SQL: the rows query and the bounded measurements around it', () => {
  const q = analysed(
    'SELECT e.class_code, icd10_chapter(c.icd10_code) AS chapter, count(*), count(DISTINCT e.patient_id), avg(least(greatest(date_diff(\'minute\', e.start, e."end"), 0), 240)) AS minutes, ' +
      "sum(least(greatest(date_diff('day', c.onset, e.start), -5), 5)) AS days FROM encounter e JOIN condition c ON c.patient_id = e.patient_id WHERE e.status = 'finished' GROUP BY 1, 2",
  );
  const rows = rowsQuery(q);
  const domains: KeyDomain[] = q.keys.map((k) => keyDomain(k.table, k.column, k.transform, ['RR8', 'RTH', 'RX1']));

  it('rowsQuery: one row per contributing row, with the first table patient, the key columns (untransformed) and the aggregated values', () => {
    expect(rows).to.equal(
      'SELECT "e"."patient_id" AS dp_patient, e.class_code AS dp_key_0, c.icd10_code AS dp_key_1, ' +
        "try(date_diff('minute', e.start, e.\"end\")) AS dp_value_2, try(date_diff('day', c.onset, e.start)) AS dp_value_3 " +
        'FROM encounter e JOIN condition c ON c.patient_id = e.patient_id AND coalesce(try(c.patient_id = e.patient_id), false) ' +
        "WHERE coalesce(try(e.status = 'finished'), false)",
    );
    expect(() => parseStatement(rows)).not.to.throw();
  });

  it('measurementsQuery (bounded): a random rank per patient, at most m rows kept, values clamped and on the grid, public keys filtered', () => {
    const { sql: measured, columns } = measurementsQuery(q, rows, { bounded: { maxRowsPerPatient: 3 }, domains });
    expect(() => parseStatement(measured)).not.to.throw();
    expect(measured).to.contain(`WITH dp_rows AS (${rows}), `);
    expect(measured).to.contain('row_number() OVER (PARTITION BY dp_patient ORDER BY random()) AS dp_rank FROM dp_rows');
    expect(measured).to.match(/ WHERE dp_patient IS NOT NULL AND dp_rank <= 3 AND /);
    // AVG: clamped to [0, 240], centred on 120, on a grid of 0.1; SUM: clamped to [-5, 5], grid 0.01.
    expect(measured).to.contain('sum(CAST(round((least(greatest(try_cast(dp_value_2 AS double), 0), 240) - (120)) / 0.1) AS bigint)) AS dp_sum_2');
    expect(measured).to.contain('sum(CAST(round(least(greatest(try_cast(dp_value_3 AS double), -5), 5) / 0.01) AS bigint)) AS dp_sum_3');
    expect(measured).to.contain('count(dp_value_2) AS dp_count_2');
    // Both keys are public (the HL7 class codes, the ICD-10 chapters): rows outside the sets are left out.
    expect(measured).to.contain(`(dp_key_0 IS NULL OR dp_key_0 IN ('ACUTE', 'AMB', 'EMER',`);
    expect(measured).to.contain(`IN (${ICD10_CHAPTERS.map((c) => `'${c.chapter}'`).join(', ')}))`);
    expect(measured).to.contain("CASE WHEN substr(upper(dp_key_1), 1, 3) BETWEEN 'A00' AND 'B99' THEN 'I'");
    expect(measured).to.match(/ GROUP BY dp_key_0, CASE WHEN .* END$/);
    expect(columns).to.deep.equal({
      rows: 'dp_rows',
      patients: 'dp_patients',
      values: [{ count: '' }, { count: '' }, { count: 'dp_count_2', sum: 'dp_sum_2' }, { count: 'dp_count_3', sum: 'dp_sum_3' }],
    });
  });

  it('measurementsQuery (exact, for small-number suppression): no rank, no clamp, no grid; private keys are not filtered', () => {
    const exact = measurementsQuery(q, rows, { bounded: undefined, domains: [{ kind: 'private' }, { kind: 'private' }] }).sql;
    expect(() => parseStatement(exact)).not.to.throw();
    expect(exact).not.to.match(/\bdp_rank\b/);
    expect(exact).not.to.contain('random()');
    expect(exact).not.to.contain(' IN (');
    expect(exact).to.contain('sum(try_cast(dp_value_2 AS double)) AS dp_sum_2');
    expect(exact).to.match(/FROM dp_ranked WHERE dp_patient IS NOT NULL GROUP BY /);
  });

  it('a query without keys has no GROUP BY; COUNT(*) alone measures rows and patients only', () => {
    const plain = analysed('SELECT count(*) FROM encounter');
    const { sql: measured, columns } = measurementsQuery(plain, rowsQuery(plain), { bounded: { maxRowsPerPatient: 1 }, domains: [] });
    expect(measured).to.equal(
      'WITH dp_rows AS (SELECT "encounter"."patient_id" AS dp_patient FROM encounter), ' +
        'dp_ranked AS (SELECT dp_rows.*, row_number() OVER (PARTITION BY dp_patient ORDER BY random()) AS dp_rank FROM dp_rows) ' +
        'SELECT count(*) AS dp_rows, count(DISTINCT dp_patient) AS dp_patients FROM dp_ranked WHERE dp_patient IS NOT NULL AND dp_rank <= 1',
    );
    expect(columns).to.deep.equal({ rows: 'dp_rows', patients: 'dp_patients', values: [{ count: '' }] });
  });
});
