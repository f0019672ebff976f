// Turns an analyst's statement into the one Trino runs, or refuses it. Pure: the caller supplies how
// each table resolves (policy-catalog.ts). The rules:
// - Parsed with Trino 476's own grammar (sql/trino-parser.ts); what Trino would reject is answered
//   with Trino's syntax error, never forwarded.
// - Allowed: queries (SELECT / WITH / VALUES / TABLE), EXPLAIN of a query (not ANALYZE), USE, SHOW CATALOGS /
//   SCHEMAS / TABLES / FUNCTIONS / SESSION, SHOW COLUMNS and DESCRIBE (answered from the policy form),
//   DESCRIBE INPUT / OUTPUT, PREPARE of a query, EXECUTE, EXECUTE IMMEDIATE of a query, DEALLOCATE,
//   SET / RESET SESSION of allow-listed properties, SET TIME ZONE, START TRANSACTION / COMMIT / ROLLBACK.
//   Everything else (DDL, DML, SET ROLE, SET SESSION AUTHORIZATION, SET PATH, GRANT, CALL, SHOW CREATE,
//   SHOW STATS, WITH SESSION, inline WITH FUNCTION) is refused, as are table functions.
// - Every table reference (found by sql/relations.ts, with WITH scoping) is replaced by what the resolver
//   gives: a mesh table by its policy form, a metadata table by its filtered form; anything else refused.
// - Identifiers the policy forms use internally (mesh_pseudonym, "mesh$...") are refused in analyst SQL.
// Replacements splice the original text by token offsets, so comments and spacing elsewhere stay as sent.
import { CharStream, ParserRuleContext, TerminalNode, Token } from 'antlr4ng';
import { findRelations, identifierText, nameParts, ruleChildren, type TableReference } from '../sql/relations';
import { quoteIdentifier, quoteString } from '../sql/sql-text';
import { createLexer, ruleIndex, tokenType } from '../sql/trino-grammar';
import { type ParsedStatement, parseStatement, SqlSyntaxError } from '../sql/trino-parser';

export interface SessionNames {
  catalog?: string;
  schema?: string;
}

export type Resolution =
  /** Substitute this subquery (a SELECT, without parentheses) for the name. */
  | { kind: 'replace'; sql: string; table: string }
  /** Leave the name as written (an allowed metadata table with nothing to hide). */
  | { kind: 'keep'; table: string }
  | { kind: 'refuse'; message: string };

export interface TableResolver {
  resolve(name: { catalog: string; schema: string; table: string }): Resolution;
  /** The statement answering SHOW COLUMNS / DESCRIBE of a table, or a refusal. */
  describe(name: { catalog: string; schema: string; table: string }, like?: string): Resolution;
}

export interface RewriteOptions {
  session: SessionNames;
  resolver: TableResolver;
  /** Session properties an analyst may set, as `name` or `catalog.name`, lower-case. */
  sessionProperties: ReadonlySet<string>;
}

export type StatementKind =
  | 'query'
  | 'explain'
  | 'use'
  | 'show'
  | 'describe'
  | 'describe-prepared'
  | 'prepare'
  | 'execute'
  | 'execute-immediate'
  | 'deallocate'
  | 'session'
  | 'transaction';

export type Rewrite =
  | { ok: true; sql: string; kind: StatementKind; tables: string[]; prepared?: { name: string; sql: string }; replaced: Replacement[] }
  | { ok: false; refusal: Refusal };

/** A span of the analyst's text (character offsets, end exclusive) and the span that replaced it. */
export interface Replacement {
  from: number;
  to: number;
  newFrom: number;
  newTo: number;
}

export interface Refusal {
  message: string;
  /** Trino's error name the client shows: SYNTAX_ERROR for parse errors, PERMISSION_DENIED for policy. */
  errorName: 'SYNTAX_ERROR' | 'PERMISSION_DENIED' | 'NOT_SUPPORTED';
  line?: number;
  column?: number;
}

const RULE = {
  statement: ruleIndex('statement'),
  rootQueryWithSession: ruleIndex('rootQueryWithSession'),
  rootQuery: ruleIndex('rootQuery'),
  query: ruleIndex('query'),
  qualifiedName: ruleIndex('qualifiedName'),
  string: ruleIndex('string'),
  identifier: ruleIndex('identifier'),
};
const TOKEN = {
  QUOTED_IDENTIFIER: tokenType('QUOTED_IDENTIFIER'),
  STRING: tokenType('STRING'),
  UNICODE_STRING: tokenType('UNICODE_STRING'),
  CASE: tokenType('CASE'),
  END: tokenType('END'),
};

/** Statements nested this deep (EXECUTE IMMEDIATE inside EXECUTE IMMEDIATE ...) are not worth a second look. */
const MAX_NESTING = 4;
/**
 * Parsing runs on the control plane's event loop and its cost grows steeply with bracket nesting (hundreds
 * of ms at ~100 levels, seconds beyond), so deeper statements are refused before parsing. Hand-written and
 * BI-generated SQL stays far below these (Trino itself gives up at a few thousand).
 */
export const MAX_BRACKET_DEPTH = 64;
export const MAX_TOKENS = 50_000;

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

function refuse(message: string, errorName: Refusal['errorName'] = 'PERMISSION_DENIED'): never {
  throw new Refused({ message, errorName });
}

export function rewriteStatement(sql: string, options: RewriteOptions): Rewrite {
  try {
    return { ok: true, ...rewrite(sql, options, 0) };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, refusal: e.refusal };
    if (e instanceof SqlSyntaxError) return { ok: false, refusal: { message: e.message, errorName: 'SYNTAX_ERROR', line: e.line, column: e.column } };
    // A tree too deep for the checks' recursion (thousands of chained UNION, NOT, .field, [i]): refused, not a 502.
    if (e instanceof RangeError && /call stack/i.test(e.message))
      return {
        ok: false,
        refusal: { message: 'statement is nested too deeply for the mesh gateway to check; split it with WITH queries', errorName: 'NOT_SUPPORTED' },
      };
    throw e;
  }
}

interface Rewritten {
  sql: string;
  kind: StatementKind;
  tables: string[];
  prepared?: { name: string; sql: string };
  replaced: Replacement[];
}

function rewrite(sql: string, options: RewriteOptions, depth: number): Rewritten {
  if (depth > MAX_NESTING) refuse(`statements nested more than ${MAX_NESTING} deep through EXECUTE IMMEDIATE are not accepted`);
  refuseOversized(sql);
  const parsed = parseStatement(sql);
  refuseInternalNames(parsed);
  const statement = ruleChildren(parsed.tree, RULE.statement)[0]!;
  const kind = classify(statement, options, true);
  const relations = findRelations(parsed);
  const edits: Edit[] = [];
  const tables = new Set<string>();

  for (const special of relations.special) {
    if (special.kind === 'tableFunction')
      refuse(`table function ${special.parts.join('.')} is not allowed: table functions and pass-through queries bypass the mesh's policies`);
  }

  if (kind === 'describe') {
    edits.push(describeEdit(statement, options, tables));
  } else {
    for (const ref of relations.tables) edits.push(tableEdit(ref, parsed, options, tables));
  }

  let prepared: Rewritten['prepared'];
  if (kind === 'execute-immediate') {
    const literal = ruleChildren(statement, RULE.string)[0]!;
    const inner = rewrite(stringValue(literal), options, depth + 1);
    if (inner.kind !== 'query') refuse('EXECUTE IMMEDIATE may only run a query (SELECT, WITH, VALUES or TABLE)');
    for (const t of inner.tables) tables.add(t);
    edits.push({ start: literal.start!.tokenIndex, stop: literal.stop!.tokenIndex, text: quoteString(inner.sql) });
  }
  if (kind === 'prepare') {
    const inner = ruleChildren(statement, RULE.statement)[0]!;
    const name = identifierText(ruleChildren(statement, RULE.identifier)[0]!);
    prepared = { name, sql: sql.slice(inner.start!.start, inner.stop!.stop + 1) };
  }
  const { text, replaced } = splice(sql, parsed, edits);
  return { sql: text, kind, tables: [...tables].sort(), prepared, replaced };
}

/** Which allowed statement this is; refuses the rest with a message naming what is allowed. */
function classify(statement: ParserRuleContext, options: RewriteOptions, topLevel: boolean): StatementKind {
  const first = statement.getChild(0);
  if (first instanceof ParserRuleContext && first.ruleIndex === RULE.rootQueryWithSession) {
    if (first.children.length !== 1) refuse('WITH SESSION is not allowed through the mesh gateway: set allowed session properties with SET SESSION');
    const root = first.getChild(0) as ParserRuleContext;
    if (root.children.length !== 1) refuse('inline SQL functions (WITH FUNCTION) are not allowed through the mesh gateway');
    return 'query';
  }
  const words = leadingWords(statement);
  const lead = words.slice(0, 3).join(' ');
  const inner = (): StatementKind => {
    const nested = ruleChildren(statement, RULE.statement)[0];
    const isQuery = nested?.getChild(0) instanceof ParserRuleContext && (nested.getChild(0) as ParserRuleContext).ruleIndex === RULE.rootQueryWithSession;
    if (!nested || !isQuery || classify(nested, options, false) !== 'query') refuse(`${words[0]} is only allowed for a query (SELECT, WITH, VALUES or TABLE)`);
    return 'query';
  };
  const only = (kind: StatementKind): StatementKind => {
    if (!topLevel) refuse(`${lead} cannot be nested in another statement`);
    return kind;
  };
  // EXPLAIN ANALYZE runs the policy form and prints its runtime statistics: dynamic filter ranges hold raw
  // Patient ids, and row counts before the opt-out and label filters count the people they exclude.
  if (words[0] === 'EXPLAIN' && words[1] === 'ANALYZE')
    refuse('EXPLAIN ANALYZE is not allowed through the mesh gateway: its runtime statistics show values the policy hides; use EXPLAIN');
  if (words[0] === 'EXPLAIN' || words[0] === 'PREPARE') {
    inner();
    return only(words[0] === 'EXPLAIN' ? 'explain' : 'prepare');
  }
  if (words[0] === 'USE') return only('use');
  if (/^SHOW (CATALOGS|SCHEMAS|TABLES|FUNCTIONS|SESSION)\b/.test(lead)) return only('show');
  if (lead.startsWith('SHOW COLUMNS') || ((words[0] === 'DESCRIBE' || words[0] === 'DESC') && ruleChildren(statement, RULE.qualifiedName).length === 1))
    return only('describe');
  if ((words[0] === 'DESCRIBE' || words[0] === 'DESC') && (words[1] === 'INPUT' || words[1] === 'OUTPUT')) return only('describe-prepared');
  if (words[0] === 'EXECUTE' && words[1] === 'IMMEDIATE') return only('execute-immediate');
  if (words[0] === 'EXECUTE') return only('execute');
  if (words[0] === 'DEALLOCATE') return only('deallocate');
  if (lead.startsWith('SET TIME ZONE')) return only('session');
  if ((words[0] === 'SET' || words[0] === 'RESET') && words[1] === 'SESSION' && words[2] !== 'AUTHORIZATION') {
    const property = nameParts(ruleChildren(statement, RULE.qualifiedName)[0]!).join('.');
    if (!options.sessionProperties.has(property)) {
      refuse(`session property ${property} may not be set through the mesh gateway; allowed: ${[...options.sessionProperties].sort().join(', ') || 'none'}`);
    }
    return only('session');
  }
  if (lead.startsWith('START TRANSACTION') || words[0] === 'COMMIT' || words[0] === 'ROLLBACK') return only('transaction');
  return refuse(
    `${describeStatement(words)} is not allowed through the mesh gateway: analysts may run queries (SELECT, WITH, VALUES, TABLE), ` +
      'EXPLAIN, SHOW, DESCRIBE, USE, PREPARE / EXECUTE / DEALLOCATE and allowed session settings',
  );
}

function describeStatement(words: string[]): string {
  const lead = words.slice(0, 3).join(' ');
  if (lead.startsWith('SET SESSION AUTHORIZATION') || lead.startsWith('RESET SESSION AUTHORIZATION')) return 'SET SESSION AUTHORIZATION';
  return words.slice(0, words[0] === 'SHOW' || words[0] === 'SET' || words[0] === 'CREATE' || words[0] === 'DROP' || words[0] === 'ALTER' ? 2 : 1).join(' ');
}

interface Edit {
  start: number;
  stop: number;
  text: string;
}

function tableEdit(ref: TableReference, parsed: ParsedStatement, options: RewriteOptions, tables: Set<string>): Edit {
  if (ref.position !== 'relation' && ref.position !== 'tableQuery') {
    refuse(`${ref.parts.join('.')} is named where the mesh gateway does not allow tables (${ref.position})`);
  }
  if (ref.position === 'relation' && ref.replace.stop !== ref.name.stop) refuse(`FOR VERSION / FOR TIMESTAMP AS OF is not supported on ${ref.parts.join('.')}`);
  const name = qualify(ref.parts, options.session);
  const resolution = options.resolver.resolve(name);
  if (resolution.kind === 'refuse') refuse(resolution.message);
  tables.add(resolution.table);
  if (resolution.kind === 'keep') return { start: ref.replace.start, stop: ref.replace.stop, text: tokenText(parsed, ref.replace) };
  const alias = quoteIdentifier(name.table);
  if (ref.position === 'tableQuery') return { start: ref.replace.start, stop: ref.replace.stop, text: `(SELECT * FROM (${resolution.sql}) AS ${alias})` };
  // An alias written after the name stays where it is and names the subquery; without one, the table's
  // own name does (so `patient.id` still resolves).
  const aliased = hasAlias(parsed, ref);
  return { start: ref.replace.start, stop: ref.replace.stop, text: aliased ? `(${resolution.sql})` : `(${resolution.sql}) AS ${alias}` };
}

function describeEdit(statement: ParserRuleContext, options: RewriteOptions, tables: Set<string>): Edit {
  const name = qualify(nameParts(ruleChildren(statement, RULE.qualifiedName)[0]!), options.session);
  const strings = ruleChildren(statement, RULE.string);
  if (strings.length > 1) refuse('SHOW COLUMNS ... LIKE ... ESCAPE is not supported through the mesh gateway; use LIKE without ESCAPE');
  const resolution = options.resolver.describe(name, strings[0] ? stringValue(strings[0]) : undefined);
  if (resolution.kind === 'refuse') refuse(resolution.message);
  tables.add(resolution.table);
  const text = resolution.kind === 'replace' ? resolution.sql : statementText(statement);
  return { start: statement.start!.tokenIndex, stop: statement.stop!.tokenIndex, text };
}

function qualify(parts: string[], session: SessionNames): { catalog: string; schema: string; table: string } {
  const written = parts.join('.');
  if (parts.length === 3) return { catalog: parts[0]!, schema: parts[1]!, table: parts[2]! };
  if (parts.length === 2) {
    if (!session.catalog) refuse(`table ${written} needs a catalog: write it as catalog.schema.table (e.g. fhir.default.patient) or USE a catalog first`);
    return { catalog: session.catalog!.toLowerCase(), schema: parts[0]!, table: parts[1]! };
  }
  if (!session.catalog || !session.schema) refuse(`table ${written} needs a catalog and schema: write fhir.default.${written} or USE fhir.default first`);
  return { catalog: session.catalog!.toLowerCase(), schema: session.schema!.toLowerCase(), table: parts[0]! };
}

/** `relationPrimary` sits in `aliasedRelation: relationPrimary (AS? identifier columnAliases?)?`. */
function hasAlias(parsed: ParsedStatement, ref: TableReference): boolean {
  let node: ParserRuleContext | null = findNodeAt(parsed.tree, ref.name.start, ruleIndex('relationPrimary'));
  node = node?.parent ?? null;
  return node !== null && node.ruleIndex === ruleIndex('aliasedRelation') && node.children.length > 1;
}

function findNodeAt(node: ParserRuleContext, tokenIndex: number, rule: number): ParserRuleContext | null {
  if (node.ruleIndex === rule && node.start?.tokenIndex === tokenIndex) return node;
  for (const child of ruleChildren(node)) {
    if (child.start && child.stop && child.start.tokenIndex <= tokenIndex && child.stop.tokenIndex >= tokenIndex) {
      const found = findNodeAt(child, tokenIndex, rule);
      if (found) return found;
    }
  }
  return null;
}

/** Bracket depth and token count from the lexer alone (linear time), before the parser sees the text. */
function refuseOversized(sql: string): void {
  const lexer = createLexer(CharStream.fromString(sql));
  lexer.removeErrorListeners(); // a lexing error is reported by the parser, with Trino's wording
  let depth = 0;
  let deepest = 0;
  let count = 0;
  for (let token = lexer.nextToken(); token.type !== Token.EOF; token = lexer.nextToken()) {
    if (++count > MAX_TOKENS) refuse(`statement has more than ${MAX_TOKENS} tokens; the mesh gateway accepts at most ${MAX_TOKENS}`, 'NOT_SUPPORTED');
    // CASE ... END nests without brackets and costs the parser as much (5,000 levels: 25 s).
    if (token.text === '(' || token.text === '[' || token.type === TOKEN.CASE) deepest = Math.max(deepest, ++depth);
    else if (token.text === ')' || token.text === ']' || token.type === TOKEN.END) depth = Math.max(0, depth - 1);
    if (deepest > MAX_BRACKET_DEPTH) {
      refuse(
        `statement nests brackets more than ${MAX_BRACKET_DEPTH} deep (CASE ... END counts as brackets); the mesh gateway accepts at most ${MAX_BRACKET_DEPTH} (use WITH queries)`,
        'NOT_SUPPORTED',
      );
    }
  }
}

/** Names the rewrite itself introduces: an analyst who could call them could compute pseudonyms of chosen NHS numbers. */
function refuseInternalNames(parsed: ParsedStatement): void {
  parsed.tokens.fill();
  for (const token of parsed.tokens.getTokens()) {
    if (token.channel !== 0 || token.type === TOKEN.STRING || token.type === TOKEN.UNICODE_STRING) continue;
    const text = token.type === TOKEN.QUOTED_IDENTIFIER ? token.text!.slice(1, -1).split('""').join('"') : (token.text ?? '');
    const value = text.toLowerCase();
    if (value === 'mesh_pseudonym') refuse('mesh_pseudonym is applied by the mesh gateway and cannot be called in queries');
    if (value.startsWith('mesh$')) refuse(`the name ${text} is reserved for the mesh gateway's own rewriting`);
  }
}

function splice(sql: string, parsed: ParsedStatement, edits: Edit[]): { text: string; replaced: Replacement[] } {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const replaced: Replacement[] = [];
  let out = '';
  let at = 0;
  for (const e of sorted) {
    const from = parsed.tokens.get(e.start).start;
    if (from < at) throw new Error('overlapping rewrites'); // a bug, not analyst input: fail loudly
    out += sql.slice(at, from);
    const to = parsed.tokens.get(e.stop).stop + 1;
    replaced.push({ from, to, newFrom: out.length, newTo: out.length + e.text.length });
    out += e.text;
    at = to;
  }
  return { text: out + sql.slice(at), replaced };
}

/**
 * Where a position Trino reports in the rewritten text (1-based line and column) stands in the analyst's
 * text: positions outside replacements shift back; inside one, they point at the name that was replaced.
 */
export function originalPosition(
  original: string,
  rewritten: string,
  replaced: readonly Replacement[],
  position: { line: number; column: number },
): { line: number; column: number } {
  const offset = offsetOf(rewritten, position);
  let mapped = offset;
  for (const r of replaced) {
    if (offset < r.newFrom) break;
    if (offset < r.newTo) {
      mapped = r.from;
      break;
    }
    mapped = r.to + (offset - r.newTo);
  }
  return positionOf(original, Math.min(mapped, original.length));
}

function offsetOf(text: string, position: { line: number; column: number }): number {
  let offset = 0;
  for (let line = 1; line < position.line; line++) {
    const newline = text.indexOf('\n', offset);
    if (newline < 0) return text.length;
    offset = newline + 1;
  }
  return offset + position.column - 1;
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

function tokenText(parsed: ParsedStatement, span: { start: number; stop: number }): string {
  return parsed.tokens.getTextFromInterval({ start: span.start, stop: span.stop } as never);
}

function statementText(node: ParserRuleContext): string {
  const input = node.start!.inputStream!;
  return input.getTextFromRange(node.start!.start, node.stop!.stop);
}

function leadingWords(node: ParserRuleContext): string[] {
  const words: string[] = [];
  for (const child of node.children) {
    if (!(child instanceof TerminalNode)) break;
    words.push(child.symbol.text!.toUpperCase());
  }
  return words;
}

/** A plain '...' literal's value; U&'...' literals are refused where the gateway must read the value. */
function stringValue(node: ParserRuleContext): string {
  const literal = (node.getChild(0) as TerminalNode).symbol;
  if (literal.type !== TOKEN.STRING) refuse("use a plain string literal here (not U&'...')", 'NOT_SUPPORTED');
  return literal.text!.slice(1, -1).split("''").join("'");
}
