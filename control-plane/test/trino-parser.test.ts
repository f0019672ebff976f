// The pure parts of the gateway's Trino parser: what Trino's SqlParser does around the grammar (entry
// rule, case-insensitive keywords, no error recovery, identifier and syntax-tree refusals) and the token
// offsets a rewriter relies on. Agreement with the real Trino 476 is e2e/test/sql-parser.e2e.ts.

import { type ParserRuleContext, type ParseTree, TerminalNode, TokenStreamRewriter } from 'antlr4ng';
import { expect } from 'chai';
import { fitsJavaLong } from '../src/gateway/sql/statement-checks';
import { VOCABULARY } from '../src/gateway/sql/trino-grammar';
import { parseStatement, SqlSyntaxError } from '../src/gateway/sql/trino-parser';

function rejection(sql: string): SqlSyntaxError {
  try {
    parseStatement(sql);
  } catch (e) {
    if (e instanceof SqlSyntaxError) return e;
    throw e;
  }
  throw new Error(`accepted: ${sql}`);
}

function tokenTypes(sql: string): string[] {
  const { tokens } = parseStatement(sql);
  return tokens
    .getTokens()
    .filter((t) => t.channel === 0)
    .map((t) => VOCABULARY.getSymbolicName(t.type) ?? t.text ?? '');
}

function* nodes(tree: ParseTree): Generator<ParseTree> {
  yield tree;
  if (tree instanceof TerminalNode) return;
  for (const child of (tree as ParserRuleContext).children) yield* nodes(child);
}

describe('Trino SQL parser (Trino 476 grammar interpreted by antlr4ng)', () => {
  describe('entry rule: exactly one statement', () => {
    it('roots the tree at singleStatement, ending at EOF', () => {
      const { tree, ruleNames } = parseStatement('SELECT 1');
      expect(ruleNames[tree.ruleIndex]).to.equal('singleStatement');
      expect(tree.stop?.type).to.equal(-1);
    });

    it('refuses a second statement, a trailing semicolon and empty input where Trino does', () => {
      expect(rejection('SELECT 1; SELECT 2')).to.include({ line: 1, column: 9 });
      expect(rejection('SELECT 1;')).to.include({ line: 1, column: 9 });
      expect(rejection('').message).to.equal(
        "line 1:1: mismatched input '<EOF>'. Expecting: 'ALTER', 'ANALYZE', 'CALL', 'COMMENT', 'COMMIT', " +
          "'CREATE', 'DEALLOCATE', 'DELETE', 'DENY', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', 'EXPLAIN', 'GRANT', 'INSERT', 'MERGE', 'PREPARE', " +
          "'REFRESH', 'RESET', 'REVOKE', 'ROLLBACK', 'SET', 'SHOW', 'START', 'TRUNCATE', 'UPDATE', 'USE', 'WITH', <query>",
      );
    });
  });

  describe('case-insensitivity (the grammar lexes keywords case-insensitively itself)', () => {
    it('gives the same tokens whatever the case of keywords', () => {
      const expected = ['SELECT', 'IDENTIFIER', 'FROM', 'IDENTIFIER', 'WHERE', 'IDENTIFIER', 'EQ', 'STRING', 'EOF'];
      for (const sql of ["SELECT a FROM t WHERE b = 'X'", "select a from t where b = 'X'", "SeLeCt a fRoM t wHeRe b = 'X'"]) {
        expect(tokenTypes(sql), sql).to.deep.equal(expected);
      }
    });

    it('keeps the text of identifiers and literals as written (quoted identifiers keep their case)', () => {
      const { tokens } = parseStatement('select "MixedCase", Plain, \'Lit\' from t');
      expect(tokens.getTokens().map((t) => t.text)).to.include.members(['"MixedCase"', 'Plain', "'Lit'"]);
    });

    it('reads GROUP BY AUTO as the reserved word, which a column can only be named quoted', () => {
      const { tree, ruleNames } = parseStatement('SELECT a FROM t GROUP BY auto');
      const auto = [...nodes(tree)].find((n): n is TerminalNode => n instanceof TerminalNode && n.getText() === 'auto')!;
      expect(VOCABULARY.getSymbolicName(auto.symbol.type)).to.equal('AUTO');
      expect(ruleNames[(auto.parent as ParserRuleContext).ruleIndex]).to.equal('groupingElement');
      expect(rejection('SELECT auto FROM t')).to.include({ line: 1, column: 8 });
      expect(tokenTypes('SELECT "auto" FROM t')).to.deep.equal(['SELECT', 'QUOTED_IDENTIFIER', 'FROM', 'IDENTIFIER', 'EOF']);
    });
  });

  describe("errors: Trino's position (1-based line and column) and wording", () => {
    it('reports the first offending token', () => {
      const e = rejection('SELECT FROM t');
      expect(e).to.include({ line: 1, column: 8, reason: "mismatched input 'FROM'. Expecting: '*', 'ALL', 'DISTINCT', <expression>" });
      expect(e.message).to.equal("line 1:8: mismatched input 'FROM'. Expecting: '*', 'ALL', 'DISTINCT', <expression>");
    });

    it('counts lines and columns across newlines, comments and tabs', () => {
      expect(rejection('SELECT a\n  FROM t t2 t3')).to.include({ line: 2, column: 13 });
      expect(rejection('/* a\n comment */ SELECT\tFROM t')).to.include({ line: 2, column: 20 });
      expect(rejection("SELECT 'multi\nline' FROM")).to.include({ line: 2, column: 11 });
    });

    it('does not recover: a missing or extra token is the error, not a repaired parse', () => {
      expect(rejection('SELECT (1')).to.include({ line: 1, column: 10 });
      expect(rejection('SELECT 1)')).to.include({ line: 1, column: 9 });
      expect(rejection('SELECT a,, b FROM t')).to.include({ line: 1, column: 10 });
    });
  });

  describe("Trino's identifier checks", () => {
    it('refuses backquoted identifiers, at the identifier', () => {
      expect(rejection('SELECT a, `b` FROM t')).to.include({
        line: 1,
        column: 11,
        reason: 'backquoted identifiers are not supported; use double quotes to quote identifiers',
      });
    });

    it('refuses identifiers starting with a digit', () => {
      expect(rejection('SELECT 1abc FROM t')).to.include({
        line: 1,
        column: 8,
        reason: 'identifiers must not start with a digit; surround the identifier with double quotes',
      });
      expect(parseStatement('SELECT "1abc" FROM t').tree).to.exist;
    });

    it('refuses the empty quoted identifier but accepts "" escapes inside one', () => {
      expect(rejection('SELECT "" FROM t')).to.include({ line: 1, column: 8, reason: 'Zero-length delimited identifier not allowed' });
      expect(parseStatement('SELECT "a""b" FROM t').tree).to.exist;
    });

    it('reports an identifier problem before a later syntax error, as Trino checks while parsing', () => {
      expect(rejection('SELECT `a` FROM')).to.include({ line: 1, column: 8 });
    });
  });

  describe('refusals Trino makes while building its syntax tree', () => {
    const cases: Array<[string, number, string]> = [
      ['SELECT if(1)', 8, "Invalid number of arguments for 'if' function"],
      ['SELECT coalesce(DISTINCT a, b)', 8, "DISTINCT not valid for 'coalesce' function"],
      ['SELECT nullif(a, b) OVER ()', 8, "OVER clause not valid for 'nullif' function"],
      ["SELECT X'1'", 8, 'Binary literal must contain an even number of digits'],
      ["SELECT X'zz'", 8, 'Binary literal can only contain hexadecimal digits'],
      ["SELECT X 'ab'", 8, "Spaces are not allowed between 'X' and the starting quote of a binary literal"],
      ["SELECT U&'\\zzzz'", 8, 'Invalid hexadecimal digit: z'],
      ["SELECT U&'a' UESCAPE '+'", 8, 'Invalid Unicode escape character: +'],
      ['SELECT 9223372036854775808', 8, 'Invalid numeric literal: 9223372036854775808'],
      ['SELECT trim(FROM a)', 8, "The 'trim' function must have specification, char or both arguments when it takes FROM"],
      ['CREATE OR REPLACE TABLE IF NOT EXISTS t (a int)', 1, "'OR REPLACE' and 'IF NOT EXISTS' clauses can not be used together"],
      ['GRANT select TO ROLE r', 7, 'May not use a privilege name as a role name'],
      // Trino compares the function's name, not how it was written: a quoted "if" is still `if`.
      ['SELECT "if"(a, b, c, d)', 8, "Invalid number of arguments for 'if' function"],
    ];
    for (const [sql, column, reason] of cases) {
      it(`${sql} → ${reason}`, () => expect(rejection(sql)).to.include({ line: 1, column, reason }));
    }

    it('accepts the valid forms next to them', () => {
      for (const sql of [
        "SELECT if(a, b), coalesce(a, b), X'0aff', x'ab cd', U&'\\0041\\+01F600', U&'#0041' UESCAPE '#'",
        'SELECT 9223372036854775807, 0x7FFFFFFFFFFFFFFF',
        'SELECT trim(BOTH FROM a)',
        'GRANT SELECT ON t TO ROLE r',
        'SELECT x.if(a, b, c, d)',
      ]) {
        expect(parseStatement(sql).tree, sql).to.exist;
      }
    });

    it('reads integer literals with Java long bounds, radix prefixes and underscores', () => {
      expect(fitsJavaLong('9223372036854775807')).to.equal(true);
      expect(fitsJavaLong('9223372036854775808')).to.equal(false);
      expect(fitsJavaLong('-9223372036854775808')).to.equal(true);
      expect(fitsJavaLong('0x7FFF_FFFF_FFFF_FFFF')).to.equal(true);
      expect(fitsJavaLong('0x8000000000000000')).to.equal(false);
      expect(fitsJavaLong('0b101')).to.equal(true);
      expect(fitsJavaLong('0o78')).to.equal(false);
    });
  });

  describe('token stream for rewriting', () => {
    it('keeps every token with its character offsets, hidden ones included', () => {
      const sql = 'SELECT * /* c */ FROM fhir.default.patient';
      const { tokens } = parseStatement(sql);
      for (const token of tokens.getTokens().filter((t) => t.type !== -1)) expect(sql.slice(token.start, token.stop + 1)).to.equal(token.text);
      expect(tokens.getTokens().some((t) => t.text === '/* c */' && t.channel === 1)).to.equal(true);
    });

    it('lets TokenStreamRewriter replace a table reference and keep the rest verbatim', () => {
      const { tree, tokens, ruleNames } = parseStatement('SELECT * /* keep */ FROM fhir.default.patient p WHERE p.x = 1');
      const table = [...nodes(tree)].find(
        (n): n is ParserRuleContext => !(n instanceof TerminalNode) && ruleNames[(n as ParserRuleContext).ruleIndex] === 'relationPrimary',
      )!;
      const rewriter = new TokenStreamRewriter(tokens);
      rewriter.replace(table.start!, table.stop!, '(SELECT x FROM fhir.default.patient WHERE allowed)');
      expect(rewriter.getText()).to.equal('SELECT * /* keep */ FROM (SELECT x FROM fhir.default.patient WHERE allowed) p WHERE p.x = 1');
    });
  });
});
