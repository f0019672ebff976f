// Every table-like object a parsed statement reads or writes, found the way Trino's analyzer resolves
// names: a one-part name that matches a WITH query in scope is that query, not a table. The gateway
// rewrites or refuses what is listed here, so a position left out would be a table it never sees:
// positions are matched by rule name and child shape (the interpreter's nodes are untyped).
// Pure: reads the tree and tokens, no I/O.
import { ParserRuleContext, TerminalNode, type Token } from 'antlr4ng';
import { ruleIndex, tokenType } from './trino-grammar';
import type { ParsedStatement } from './trino-parser';

/** Where a table name stands; the writer targets and metadata reads matter to the gateway as much as FROM. */
export type RelationPosition =
  | 'relation' // FROM / JOIN / MERGE ... USING / LATERAL operand: relationPrimary's table name
  | 'tableQuery' // `TABLE t` as a query primary
  | 'tableArgument' // `TABLE(t)` passed to a table function
  | 'insertTarget'
  | 'deleteTarget'
  | 'updateTarget'
  | 'mergeTarget'
  | 'createTableAsTarget'
  | 'createTableTarget'
  | 'createTableLike' // CREATE TABLE t (LIKE s): reads s's columns
  | 'createViewTarget' // CREATE VIEW and CREATE MATERIALIZED VIEW
  | 'describeTarget' // DESCRIBE t, DESC t, SHOW COLUMNS FROM t
  | 'showCreateTarget' // SHOW CREATE TABLE / VIEW / MATERIALIZED VIEW
  | 'showStatsTarget'
  | 'dropTarget' // DROP TABLE / VIEW / MATERIALIZED VIEW
  | 'truncateTarget'
  | 'alterTarget' // ALTER TABLE / VIEW / MATERIALIZED VIEW (all their forms)
  | 'renameTarget' // the new name in ... RENAME TO new
  | 'commentTarget' // COMMENT ON TABLE / VIEW, and the table of COMMENT ON COLUMN
  | 'analyzeTarget'
  | 'refreshTarget'
  | 'privilegeTarget'; // GRANT / REVOKE / DENY / SHOW GRANTS ON [TABLE] t

export interface TokenSpan {
  /** Token indexes in ParsedStatement.tokens, inclusive, for TokenStreamRewriter.replace(start, stop, ...). */
  start: number;
  stop: number;
}

export interface TableReference {
  /** As Trino resolves them: quotes removed, `""` unescaped, lower-cased; 1 to 3 parts. */
  parts: string[];
  qualified: boolean;
  position: RelationPosition;
  /** The name's tokens. */
  name: TokenSpan;
  /**
   * What a rewriter must replace to substitute a subquery: the name plus a FOR ... AS OF period for
   * `relation`, the whole `TABLE t` / `TABLE(t)` for the table forms (their syntax only takes a name).
   */
  replace: TokenSpan;
}

/** Constructs that carry SQL, run stored SQL, or read data in ways a name rewrite cannot govern. */
export type SpecialConstruct =
  | { kind: 'tableFunction'; parts: string[]; span: TokenSpan } // TABLE(fn(...)), e.g. system.query
  | { kind: 'executeImmediate'; sql: string; span: TokenSpan }
  // Prepared names are case-sensitive in Trino (Identifier.getValue()): quotes removed, case kept. PREPARE's
  // inner statement has its references listed too; EXECUTE runs SQL this statement does not show.
  | { kind: 'prepare'; name: string; span: TokenSpan }
  | { kind: 'execute'; name: string; span: TokenSpan };

export interface StatementRelations {
  tables: TableReference[];
  special: SpecialConstruct[];
}

const RULE = {
  statement: ruleIndex('statement'),
  query: ruleIndex('query'),
  with: ruleIndex('with'),
  namedQuery: ruleIndex('namedQuery'),
  queryPrimary: ruleIndex('queryPrimary'),
  relationPrimary: ruleIndex('relationPrimary'),
  queryPeriod: ruleIndex('queryPeriod'),
  tableFunctionCall: ruleIndex('tableFunctionCall'),
  tableArgumentRelation: ruleIndex('tableArgumentRelation'),
  likeClause: ruleIndex('likeClause'),
  grantObject: ruleIndex('grantObject'),
  entityKind: ruleIndex('entityKind'),
  qualifiedName: ruleIndex('qualifiedName'),
  identifier: ruleIndex('identifier'),
  string: ruleIndex('string'),
};

const TOKEN = {
  TABLE: tokenType('TABLE'),
  RECURSIVE: tokenType('RECURSIVE'),
  QUOTED_IDENTIFIER: tokenType('QUOTED_IDENTIFIER'),
  STRING: tokenType('STRING'),
  UNICODE_STRING: tokenType('UNICODE_STRING'),
  TO: tokenType('TO'),
};

/** WITH query names visible at a point: Trino looks a name up through all enclosing scopes, so one flat set suffices. */
type CteScope = ReadonlySet<string>;

export function findRelations(parsed: ParsedStatement): StatementRelations {
  const result: StatementRelations = { tables: [], special: [] };
  walk(parsed.tree, new Set(), result);
  return result;
}

function walk(node: ParserRuleContext, ctes: CteScope, out: StatementRelations): void {
  switch (node.ruleIndex) {
    case RULE.query:
      return walkQuery(node, ctes, out);
    case RULE.statement:
      statementTargets(node, out);
      break;
    case RULE.relationPrimary: {
      const first = node.getChild(0);
      if (first instanceof ParserRuleContext && first.ruleIndex === RULE.qualifiedName) {
        const period = ruleChildren(node, RULE.queryPeriod)[0];
        addTable(first, 'relation', spanOf(node.start!, (period ?? first).stop!), ctes, out);
        if (period) walk(period, ctes, out);
        return;
      }
      const call = ruleChildren(node, RULE.tableFunctionCall)[0];
      if (call) {
        out.special.push({ kind: 'tableFunction', parts: nameParts(ruleChildren(call, RULE.qualifiedName)[0]!), span: spanOf(node.start!, node.stop!) });
        // The function's own name is not a table; its TABLE(...) and expression arguments may hold some.
        for (const child of ruleChildren(call)) if (child.ruleIndex !== RULE.qualifiedName) walk(child, ctes, out);
        return;
      }
      break;
    }
    case RULE.queryPrimary: {
      const name = ruleChildren(node, RULE.qualifiedName)[0];
      if (firstTokenType(node) === TOKEN.TABLE && name) return addTable(name, 'tableQuery', spanOf(node.start!, node.stop!), ctes, out);
      break;
    }
    case RULE.tableArgumentRelation: {
      const name = ruleChildren(node, RULE.qualifiedName)[0];
      if (name) {
        // Replace `TABLE(t)` only: the alias after it names the argument and must stay.
        const close = node.children[node.children.indexOf(name) + 1] as TerminalNode;
        addTable(name, 'tableArgument', spanOf(node.start!, close.symbol), ctes, out);
        return;
      }
      break;
    }
    case RULE.likeClause:
      return addTable(ruleChildren(node, RULE.qualifiedName)[0]!, 'createTableLike', undefined, ctes, out);
    case RULE.grantObject: {
      const kind = ruleChildren(node, RULE.entityKind)[0]?.getText().toUpperCase();
      if (kind === undefined || kind === 'TABLE' || kind === 'VIEW')
        addTable(ruleChildren(node, RULE.qualifiedName)[0]!, 'privilegeTarget', undefined, ctes, out);
      return;
    }
  }
  for (const child of ruleChildren(node)) walk(child, ctes, out);
}

/**
 * `query: with? queryNoWith`. Each WITH query sees the ones defined before it (and itself only under
 * RECURSIVE, as Trino's analyzeWith registers a name after analysing its body); the body sees them all.
 */
function walkQuery(node: ParserRuleContext, ctes: CteScope, out: StatementRelations): void {
  const withClause = ruleChildren(node, RULE.with)[0];
  let scope = new Set(ctes);
  if (withClause) {
    const recursive = withClause.children.some((c) => c instanceof TerminalNode && c.symbol.type === TOKEN.RECURSIVE);
    for (const named of ruleChildren(withClause, RULE.namedQuery)) {
      const name = identifierValue(ruleChildren(named, RULE.identifier)[0]!);
      const body = ruleChildren(named, RULE.query)[0]!;
      walk(body, recursive ? new Set([...scope, name]) : scope, out);
      scope = new Set([...scope, name]);
    }
  }
  for (const child of ruleChildren(node)) if (child !== withClause) walk(child, scope, out);
}

/** The statement-level names (outside any query, so no WITH query can shadow them), and the SQL-carrying forms. */
function statementTargets(node: ParserRuleContext, out: StatementRelations): void {
  const words = node.children.filter((c): c is TerminalNode => c instanceof TerminalNode).map((t) => t.symbol.text!.toUpperCase());
  const lead = words.slice(0, 4).join(' ');
  const names = ruleChildren(node, RULE.qualifiedName);
  const span = spanOf(node.start!, node.stop!);
  const noCtes: CteScope = new Set();
  const add = (name: ParserRuleContext | undefined, position: RelationPosition): void => {
    if (name) addTable(name, position, undefined, noCtes, out);
  };

  if (words[0] === 'EXECUTE' && words[1] === 'IMMEDIATE') {
    out.special.push({ kind: 'executeImmediate', sql: stringValue(ruleChildren(node, RULE.string)[0]!), span });
    return;
  }
  if (words[0] === 'EXECUTE') return void out.special.push({ kind: 'execute', name: identifierText(ruleChildren(node, RULE.identifier)[0]!), span });
  if (words[0] === 'PREPARE') return void out.special.push({ kind: 'prepare', name: identifierText(ruleChildren(node, RULE.identifier)[0]!), span });

  if (lead.startsWith('INSERT')) return add(names[0], 'insertTarget');
  if (lead.startsWith('DELETE')) return add(names[0], 'deleteTarget');
  if (lead.startsWith('UPDATE')) return add(names[0], 'updateTarget');
  if (lead.startsWith('MERGE')) return add(names[0], 'mergeTarget');
  if (lead.startsWith('TRUNCATE')) return add(names[0], 'truncateTarget');
  if (lead.startsWith('ANALYZE')) return add(names[0], 'analyzeTarget');
  if (lead.startsWith('REFRESH')) return add(names[0], 'refreshTarget');
  if (lead.startsWith('DESC') || lead.startsWith('SHOW COLUMNS')) return add(names[0], 'describeTarget');
  if (lead.startsWith('SHOW STATS')) return add(names[0], 'showStatsTarget');
  if (/^SHOW CREATE (TABLE|VIEW|MATERIALIZED)/.test(lead)) return add(names[0], 'showCreateTarget');
  if (/^DROP (TABLE|VIEW|MATERIALIZED)/.test(lead)) return add(names[0], 'dropTarget');
  if (/^COMMENT ON (TABLE|VIEW)/.test(lead)) return add(names[0], 'commentTarget');
  if (lead.startsWith('COMMENT ON COLUMN')) {
    // table.column: the table is every part but the last.
    const ids = ruleChildren(names[0]!, RULE.identifier);
    if (ids.length > 1) addTableFromIdentifiers(ids.slice(0, -1), 'commentTarget', out);
    return;
  }
  if (words[0] === 'CREATE' && words.includes('VIEW')) return add(names[0], 'createViewTarget');
  if (words[0] === 'CREATE' && words.includes('TABLE')) return add(names[0], words.includes('AS') ? 'createTableAsTarget' : 'createTableTarget');
  if (/^ALTER (TABLE|VIEW|MATERIALIZED)/.test(lead)) {
    add(names[0], 'alterTarget');
    // Only a rename's new name follows TO directly; column names after TO are identifiers.
    for (const name of names.slice(1)) {
      const before = node.children[node.children.indexOf(name) - 1];
      if (before instanceof TerminalNode && before.symbol.type === TOKEN.TO && !words.includes('COLUMN')) add(name, 'renameTarget');
    }
  }
}

function addTable(name: ParserRuleContext, position: RelationPosition, replace: TokenSpan | undefined, ctes: CteScope, out: StatementRelations): void {
  const parts = nameParts(name);
  // Trino only looks a WITH query up for an unqualified name: `x.patient` is always a table.
  if (parts.length === 1 && ctes.has(parts[0]!)) return;
  const span = spanOf(name.start!, name.stop!);
  out.tables.push({ parts, qualified: parts.length > 1, position, name: span, replace: replace ?? span });
}

function addTableFromIdentifiers(ids: ParserRuleContext[], position: RelationPosition, out: StatementRelations): void {
  const span = spanOf(ids[0]!.start!, ids[ids.length - 1]!.stop!);
  const parts = ids.map(identifierValue);
  out.tables.push({ parts, qualified: parts.length > 1, position, name: span, replace: span });
}

/** A qualifiedName's parts as Trino resolves them (see identifierValue). */
export function nameParts(qualifiedName: ParserRuleContext): string[] {
  return ruleChildren(qualifiedName, RULE.identifier).map(identifierValue);
}

/** Trino's QualifiedName part: quotes removed, `""` unescaped, lower-cased (names are case-insensitive). */
function identifierValue(identifier: ParserRuleContext): string {
  return identifierText(identifier).toLowerCase();
}

/** Trino's Identifier value: quotes removed and `""` unescaped, case as written. */
export function identifierText(identifier: ParserRuleContext): string {
  const text = identifier.getText();
  return identifier.start?.type === TOKEN.QUOTED_IDENTIFIER ? text.slice(1, -1).split('""').join('"') : text;
}

/** A string literal's value: '' unescaped, and U&'...' escapes decoded (already validated by the parser). */
function stringValue(node: ParserRuleContext): string {
  const tokens = node.children.filter((c): c is TerminalNode => c instanceof TerminalNode).map((t) => t.symbol);
  const unquote = (literal: string): string => literal.slice(1, -1).split("''").join("'");
  const literal = tokens[0]!;
  if (literal.type !== TOKEN.UNICODE_STRING) return unquote(literal.text!);
  const escapeToken = tokens.find((t) => t.type === TOKEN.STRING);
  const escapeChar = escapeToken ? unquote(escapeToken.text!) : '\\';
  const raw = unquote(literal.text!.slice(2));
  let value = '';
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== escapeChar) {
      value += raw[i];
      continue;
    }
    if (raw[i + 1] === escapeChar) {
      value += escapeChar;
      i++;
      continue;
    }
    const long = raw[i + 1] === '+';
    const digits = long ? raw.slice(i + 2, i + 8) : raw.slice(i + 1, i + 5);
    value += String.fromCodePoint(parseInt(digits, 16));
    i += long ? 7 : 4;
  }
  return value;
}

/** A node's rule children, of one rule when given (the interpreter's nodes are untyped). */
export function ruleChildren(node: ParserRuleContext, rule?: number): ParserRuleContext[] {
  return node.children.filter((c): c is ParserRuleContext => c instanceof ParserRuleContext && (rule === undefined || c.ruleIndex === rule));
}

function firstTokenType(node: ParserRuleContext): number | undefined {
  const first = node.getChild(0);
  return first instanceof TerminalNode ? first.symbol.type : undefined;
}

function spanOf(start: Token, stop: Token): TokenSpan {
  return { start: start.tokenIndex, stop: stop.tokenIndex };
}
