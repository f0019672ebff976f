// Which tables a statement reads or writes, as Trino resolves names (WITH queries shadow tables in their
// scope only), through the real Trino 476 parser: this is the list the gateway rewrites or refuses.

import { TokenStreamRewriter } from 'antlr4ng';
import { expect } from 'chai';
import { findRelations, type StatementRelations, type TableReference } from '../src/gateway/sql/relations';
import { parseStatement } from '../src/gateway/sql/trino-parser';

/** `position name` for each reference, in document order, e.g. `relation fhir.default.patient`. */
function tables(sql: string): string[] {
  return findRelations(parseStatement(sql)).tables.map((t) => `${t.position} ${t.parts.join('.')}`);
}

function relations(sql: string): StatementRelations & { text: (span: { start: number; stop: number }) => string } {
  const parsed = parseStatement(sql);
  return { ...findRelations(parsed), text: (span) => parsed.tokens.getTextFromRange(parsed.tokens.get(span.start), parsed.tokens.get(span.stop)) };
}

describe('table references in a statement (relations.ts)', () => {
  describe('names as Trino resolves them', () => {
    it('lower-cases unquoted and quoted identifiers, unescapes "" and says whether the name was qualified', () => {
      const { tables: found } = relations('SELECT * FROM "Patient", FHIR.Default."Obs""Weird", c."S".t');
      expect(found.map((t) => [t.parts, t.qualified])).to.deep.equal([
        [['patient'], false],
        [['fhir', 'default', 'obs"weird'], true],
        [['c', 's', 't'], true],
      ]);
    });

    it('gives token spans that a TokenStreamRewriter can replace, keeping aliases and the rest verbatim', () => {
      const sql = 'SELECT p.id FROM /* c */ fhir.default.patient AS p JOIN condition c ON p.id = c.subject';
      const parsed = parseStatement(sql);
      const rewriter = new TokenStreamRewriter(parsed.tokens);
      for (const t of findRelations(parsed).tables) rewriter.replace(t.replace.start, t.replace.stop, `(SELECT * FROM ${t.parts.join('.')} WHERE ok)`);
      expect(rewriter.getText()).to.equal(
        'SELECT p.id FROM /* c */ (SELECT * FROM fhir.default.patient WHERE ok) AS p JOIN (SELECT * FROM condition WHERE ok) c ON p.id = c.subject',
      );
    });
  });

  describe('WITH queries shadow tables in their scope only', () => {
    it('does not list a name that refers to a WITH query', () => {
      expect(tables('WITH patient AS (SELECT 1) SELECT * FROM patient')).to.deep.equal([]);
      expect(tables('WITH "Patient" AS (SELECT 1) SELECT * FROM PATIENT')).to.deep.equal([]);
    });

    it("lists the tables inside a WITH query's body and a qualified name that matches a WITH query", () => {
      expect(tables('WITH a AS (SELECT * FROM patient) SELECT * FROM a, fhir.default.patient')).to.deep.equal([
        'relation patient',
        'relation fhir.default.patient',
      ]);
      expect(tables('WITH patient AS (SELECT 1) SELECT * FROM x.patient')).to.deep.equal(['relation x.patient']);
    });

    it('scopes a WITH inside a subquery to that subquery', () => {
      expect(tables('SELECT * FROM (WITH patient AS (SELECT 1) SELECT * FROM patient) s, patient')).to.deep.equal(['relation patient']);
      expect(tables('SELECT * FROM patient WHERE id IN (WITH patient AS (SELECT 2) SELECT * FROM patient)')).to.deep.equal(['relation patient']);
    });

    it('lets an outer WITH query be seen from nested subqueries and expressions', () => {
      expect(tables('WITH p AS (SELECT * FROM patient) SELECT (SELECT count(*) FROM p) FROM (SELECT * FROM p) WHERE EXISTS (SELECT 1 FROM p)')).to.deep.equal([
        'relation patient',
      ]);
      expect(tables('WITH p AS (SELECT * FROM patient) SELECT * FROM (WITH q AS (SELECT * FROM p) SELECT * FROM q, r)')).to.deep.equal([
        'relation patient',
        'relation r',
      ]);
    });

    it('does not let a WITH query see itself or later ones, unless WITH RECURSIVE (for itself)', () => {
      expect(tables('WITH t AS (SELECT * FROM t) SELECT * FROM t')).to.deep.equal(['relation t']);
      expect(tables('WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM a, b')).to.deep.equal(['relation b']);
      expect(tables('WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t')).to.deep.equal([]);
      expect(tables('WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a')).to.deep.equal(['relation b']);
    });

    it('applies WITH queries to TABLE t and TABLE(t) too', () => {
      expect(tables('WITH p AS (SELECT 1) TABLE p')).to.deep.equal([]);
      expect(tables('WITH p AS (SELECT 1) SELECT * FROM TABLE(exclude_columns(input => TABLE(p), columns => DESCRIPTOR(x)))')).to.deep.equal([]);
    });
  });

  describe('references wherever a query can stand', () => {
    const cases: Array<[string, string[]]> = [
      ['SELECT (SELECT count(*) FROM condition) FROM patient', ['relation condition', 'relation patient']],
      ['SELECT patient.id, fhir.default.patient.id, patient(1) FROM patient', ['relation patient']],
      ['SELECT * FROM patient CROSS JOIN UNNEST(arr) AS t(x)', ['relation patient']],
      ['SELECT * FROM patient p, LATERAL (SELECT * FROM condition c WHERE c.s = p.id)', ['relation patient', 'relation condition']],
      ['SELECT * FROM a UNION SELECT * FROM b INTERSECT (SELECT * FROM c EXCEPT TABLE d)', ['relation a', 'relation b', 'relation c', 'tableQuery d']],
      [
        'SELECT * FROM a WHERE x IN (SELECT y FROM b) AND EXISTS (SELECT 1 FROM c) AND x > ALL (SELECT z FROM d)',
        ['relation a', 'relation b', 'relation c', 'relation d'],
      ],
      ['SELECT transform(arr, x -> (SELECT max(v) FROM lookup)) FROM a', ['relation lookup', 'relation a']],
      ['VALUES (1, (SELECT count(*) FROM a))', ['relation a']],
      ['SELECT * FROM (a JOIN b USING (id)) LEFT JOIN (SELECT * FROM c) ON true', ['relation a', 'relation b', 'relation c']],
      ['SELECT * FROM a FOR VERSION AS OF 3', ['relation a']],
      ['SELECT * FROM a FOR TIMESTAMP AS OF (SELECT max(ts) FROM b)', ['relation a', 'relation b']],
      ['SELECT * FROM a TABLESAMPLE BERNOULLI (10)', ['relation a']],
      ['SELECT * FROM a ORDER BY (SELECT 1 FROM b) LIMIT 1', ['relation a', 'relation b']],
      ['TABLE fhir.default.patient', ['tableQuery fhir.default.patient']],
    ];
    for (const [sql, expected] of cases) it(sql, () => expect(tables(sql)).to.deep.equal(expected));

    it('replaces a FOR VERSION period together with the name, and TABLE t whole', () => {
      const period = relations('SELECT * FROM a FOR VERSION AS OF 3 x');
      expect(period.text(period.tables[0]!.replace)).to.equal('a FOR VERSION AS OF 3');
      expect(period.text(period.tables[0]!.name)).to.equal('a');
      const table = relations('SELECT 1 UNION TABLE fhir.default.patient');
      expect(table.text(table.tables[0]!.replace)).to.equal('TABLE fhir.default.patient');
    });
  });

  describe('statements that write or describe tables', () => {
    const cases: Array<[string, string[]]> = [
      ['INSERT INTO t SELECT * FROM s', ['insertTarget t', 'relation s']],
      ['INSERT INTO t WITH t AS (SELECT 1) SELECT * FROM t', ['insertTarget t']],
      ['DELETE FROM t WHERE id IN (SELECT id FROM s)', ['deleteTarget t', 'relation s']],
      ['UPDATE t SET x = (SELECT max(y) FROM s) WHERE true', ['updateTarget t', 'relation s']],
      ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', ['mergeTarget t', 'relation s']],
      ['CREATE TABLE c.s.t AS SELECT * FROM patient', ['createTableAsTarget c.s.t', 'relation patient']],
      ['CREATE TABLE t AS (SELECT * FROM patient) WITH NO DATA', ['createTableAsTarget t', 'relation patient']],
      ['CREATE TABLE t (a bigint, LIKE patient INCLUDING PROPERTIES)', ['createTableTarget t', 'createTableLike patient']],
      ['CREATE OR REPLACE VIEW v AS SELECT * FROM patient', ['createViewTarget v', 'relation patient']],
      ['CREATE MATERIALIZED VIEW v AS SELECT * FROM patient', ['createViewTarget v', 'relation patient']],
      ['SHOW COLUMNS FROM t', ['describeTarget t']],
      ['DESCRIBE t', ['describeTarget t']],
      ['DESC fhir.default.patient', ['describeTarget fhir.default.patient']],
      ['SHOW CREATE VIEW v', ['showCreateTarget v']],
      ['SHOW STATS FOR t', ['showStatsTarget t']],
      ['SHOW STATS FOR (SELECT * FROM t)', ['relation t']],
      ['DROP TABLE IF EXISTS t', ['dropTarget t']],
      ['TRUNCATE TABLE t', ['truncateTarget t']],
      ['ALTER TABLE t RENAME TO u', ['alterTarget t', 'renameTarget u']],
      ['ALTER TABLE t RENAME COLUMN a TO b', ['alterTarget t']],
      ['ALTER TABLE t DROP COLUMN a', ['alterTarget t']],
      ['ALTER TABLE t EXECUTE optimize WHERE x IN (SELECT x FROM s)', ['alterTarget t', 'relation s']],
      ["COMMENT ON TABLE t IS 'x'", ['commentTarget t']],
      ["COMMENT ON COLUMN s.t.a IS 'x'", ['commentTarget s.t']],
      ['ANALYZE t', ['analyzeTarget t']],
      ['GRANT SELECT ON t TO ROLE r', ['privilegeTarget t']],
      ['GRANT SELECT ON TABLE t TO ROLE r', ['privilegeTarget t']],
      ['GRANT SELECT ON SCHEMA s TO ROLE r', []],
      ['SHOW TABLES FROM fhir.default', []],
      ['EXPLAIN ANALYZE SELECT * FROM t', ['relation t']],
      ['EXPLAIN (TYPE DISTRIBUTED) INSERT INTO t SELECT * FROM s', ['insertTarget t', 'relation s']],
    ];
    for (const [sql, expected] of cases) it(sql, () => expect(tables(sql)).to.deep.equal(expected));
  });

  describe('constructs the gateway must treat specially', () => {
    it('flags table functions, with the tables passed to them, and replaces TABLE(t) without its alias', () => {
      const r = relations(
        "SELECT * FROM TABLE(system.query(query => 'SELECT * FROM secret')) q, TABLE(f(input => TABLE(Patient) AS p PARTITION BY id, other => TABLE(SELECT * FROM c)))",
      );
      expect(r.special.map((s) => s.kind === 'tableFunction' && s.parts)).to.deep.equal([['system', 'query'], ['f']]);
      expect(r.tables.map((t: TableReference) => `${t.position} ${t.parts.join('.')}`)).to.deep.equal(['tableArgument patient', 'relation c']);
      expect(r.text(r.tables[0]!.replace)).to.equal('TABLE(Patient)');
      expect(r.text(r.special[0]!.span)).to.equal("TABLE(system.query(query => 'SELECT * FROM secret'))");
    });

    it('does not read COPARTITION lists (names of table arguments) as tables', () => {
      expect(tables('SELECT * FROM TABLE(f(a => TABLE(x) PARTITION BY k, b => TABLE(y) PARTITION BY k COPARTITION (x, y)))')).to.deep.equal([
        'tableArgument x',
        'tableArgument y',
      ]);
    });

    it('flags EXECUTE IMMEDIATE with its SQL text decoded', () => {
      expect(relations("EXECUTE IMMEDIATE 'SELECT * FROM t WHERE n = ''it''''s'''").special).to.deep.include({
        kind: 'executeImmediate',
        sql: "SELECT * FROM t WHERE n = 'it''s'",
        span: { start: 0, stop: 4 },
      });
      expect(
        relations("EXECUTE IMMEDIATE U&'SELECT \\0031 FROM #+000074' UESCAPE '#'").special.map((s) => s.kind === 'executeImmediate' && s.sql),
      ).to.deep.equal(['SELECT \\0031 FROM t']);
      expect(relations("EXECUTE IMMEDIATE U&'SELECT \\0031 FROM \\\\t' USING 1").special.map((s) => s.kind === 'executeImmediate' && s.sql)).to.deep.equal([
        'SELECT 1 FROM \\t',
      ]);
    });

    it("flags PREPARE (listing the prepared statement's tables) and EXECUTE of a prepared name", () => {
      const prepared = relations('PREPARE "My""Q" FROM SELECT * FROM patient WHERE id = ?');
      expect(prepared.special.map((s) => [s.kind, s.kind === 'prepare' && s.name])).to.deep.equal([['prepare', 'My"Q']]);
      expect(prepared.tables.map((t) => t.parts)).to.deep.equal([['patient']]);
      expect(relations('EXECUTE MyQ USING 1').special.map((s) => [s.kind, s.kind === 'execute' && s.name])).to.deep.equal([['execute', 'MyQ']]);
      expect(relations('EXECUTE myq USING 1').tables).to.deep.equal([]);
    });
  });
});
