// The one query shape an aggregate-only consumer may run, read from the parse tree (Trino 476's grammar),
// or a refusal that says what is allowed. Pure. The shape (after SmartNoise SQL and ZetaSQL's DP rules,
// ../shared/notes/privacy.md §1–2):
//   SELECT <group keys and aggregates> FROM t [alias] [[INNER|LEFT] JOIN u ON <patient keys equal> [AND ...]]
//   [WHERE <row filter>] [GROUP BY <declared categorical columns>] [ORDER BY <output>] [LIMIT n]
// - aggregates: COUNT(*), COUNT(column), COUNT(DISTINCT <patient key>), SUM(x), AVG(x) where x has bounds,
//   declared by the policy for the column or written by the analyst as least(greatest(expr, lo), hi);
// - group keys: categorical columns (FHIR `code`/`boolean` columns and the trust's `domain`) or
//   icd10_chapter(<code column>);
// - joins stay within one patient's data: every join equates the patient keys of both sides;
// - expressions use an allow-list of scalar functions: no subqueries, windows, nested aggregates or lambdas,
//   which could let one patient's data reach other patients' rows and so escape contribution bounding.
import { ParserRuleContext, TerminalNode } from 'antlr4ng';
import type { NumericBounds } from '../../privacy/disclosure-policy';
import { identifierText, nameParts, ruleChildren } from '../sql/relations';
import { ruleIndex } from '../sql/trino-grammar';
import { type ParsedStatement, parseStatement } from '../sql/trino-parser';

const RULE_NAMES = [
  'singleStatement',
  'statement',
  'rootQueryWithSession',
  'rootQuery',
  'query',
  'with',
  'queryNoWith',
  'queryTerm',
  'queryPrimary',
  'querySpecification',
  'setQuantifier',
  'selectItem',
  'relation',
  'sampledRelation',
  'patternRecognition',
  'aliasedRelation',
  'relationPrimary',
  'joinType',
  'joinCriteria',
  'groupBy',
  'groupingElement',
  'groupingSet',
  'sortItem',
  'orderBy',
  'limitRowCount',
  'rowCount',
  'expression',
  'booleanExpression',
  'valueExpression',
  'primaryExpression',
  'predicate',
  'comparisonOperator',
  'qualifiedName',
  'identifier',
  'number',
  'filter',
  'over',
  'nullTreatment',
  'processingMode',
  'windowDefinition',
  'columnAliases',
  'queryPeriod',
] as const;
const RULE = Object.fromEntries(RULE_NAMES.map((name) => [name, ruleIndex(name)])) as Record<(typeof RULE_NAMES)[number], number>;

/** Scalar functions an expression may use: deterministic, row-local, reading no table. */
const SCALAR_FUNCTIONS = new Set([
  'abs',
  'ceil',
  'ceiling',
  'floor',
  'round',
  'truncate',
  'sign',
  'sqrt',
  'ln',
  'log10',
  'log2',
  'exp',
  'power',
  'pow',
  'mod',
  'greatest',
  'least',
  'coalesce',
  'nullif',
  'if',
  'lower',
  'upper',
  'trim',
  'ltrim',
  'rtrim',
  'substr',
  'substring',
  'length',
  'concat',
  'replace',
  'starts_with',
  'strpos',
  'contains',
  'cardinality',
  'element_at',
  'year',
  'quarter',
  'month',
  'week',
  'day',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'date',
  'date_trunc',
  'date_diff',
  'date_add',
  'from_iso8601_timestamp',
  'from_iso8601_date',
  'to_iso8601',
]);

const AGGREGATES = ['count(*)', 'count(column)', 'count(DISTINCT <patient key>)', 'sum(x)', 'avg(x)'];
export const ALLOWED_FORM =
  `SELECT <group keys>, ${AGGREGATES.join(' | ')} FROM <table> [JOIN <table> ON <patient keys equal>] [WHERE ...] ` +
  '[GROUP BY <categorical columns or icd10_chapter(code)>] [ORDER BY <output>] [LIMIT n]; ' +
  'SUM/AVG need bounds: declared by the policy for the column, or written as avg(least(greatest(<expr>, <lower>), <upper>))';

export interface TableInfo {
  /** The patient key column (pseudonymised across trusts by the policy form). */
  patientKey: string;
  /** Column name -> SQL-on-FHIR type and whether it is a collection. */
  columns: ReadonlyMap<string, { type: string; collection: boolean }>;
}

export interface AnalysisContext {
  /** The mesh table a FROM name denotes (catalog/schema checked by the caller's resolver later), or undefined. */
  table(parts: string[]): { name: string; info: TableInfo } | undefined;
  /** Policy-declared bounds of `table.column`. */
  bounds(table: string, column: string): NumericBounds | undefined;
}

export interface SourceTable {
  alias: string;
  table: string;
  info: TableInfo;
  /** On the right of a LEFT JOIN. */
  optional?: boolean;
}

export interface GroupKey {
  /** Analyst's text of the key expression. */
  text: string;
  table: string;
  column: string;
  /** SQL referencing the column as the analyst did (alias.column). */
  columnSql: string;
  transform?: 'icd10-chapter';
}

export type AggregateKind = 'count-rows' | 'count-values' | 'count-patients' | 'sum' | 'avg';

export interface Aggregate {
  kind: AggregateKind;
  /** Analyst's text of the argument (counted / summed expression), without the clamp. */
  argument?: string;
  bounds?: NumericBounds & { source: string };
}

export type OutputColumn = { name: string } & ({ kind: 'key'; key: number } | { kind: 'aggregate'; aggregate: number });

export interface AggregateQuery {
  sources: SourceTable[];
  /** The analyst's FROM text (table names are replaced by policy forms when it is rewritten). */
  fromSql: string;
  whereSql?: string;
  /** SQL of the first source's patient key (`alias.patient_id`). */
  patientSql: string;
  keys: GroupKey[];
  aggregates: Aggregate[];
  outputs: OutputColumn[];
  orderBy: { output: number; descending: boolean; nullsFirst: boolean }[];
  limit?: number;
}

export class NotAllowed extends Error {}

function refuse(message: string): never {
  throw new NotAllowed(`${message}. Aggregate-only access allows: ${ALLOWED_FORM}`);
}

/** Reads the aggregate query, or throws NotAllowed (the message names what is wrong and what is allowed). */
export function analyseAggregateQuery(sql: string, context: AnalysisContext, parsed: ParsedStatement = parseStatement(sql)): AggregateQuery {
  const text = (node: ParserRuleContext): string => sql.slice(node.start!.start, node.stop!.stop + 1);
  const query = descend(parsed.tree, [RULE.singleStatement, RULE.statement, RULE.rootQueryWithSession, RULE.rootQuery, RULE.query]);
  if (!query) refuse('only a query (SELECT) can be answered');
  if (ruleChildren(query, RULE.with).length) refuse('WITH queries are not supported');
  const noWith = ruleChildren(query, RULE.queryNoWith)[0]!;
  const term = ruleChildren(noWith, RULE.queryTerm)[0]!;
  const primary = term.children.length === 1 ? ruleChildren(term, RULE.queryPrimary)[0] : undefined;
  const spec = primary && primary.children.length === 1 ? ruleChildren(primary, RULE.querySpecification)[0] : undefined;
  if (!spec) refuse('UNION, INTERSECT, EXCEPT, VALUES, TABLE and parenthesised queries are not supported');
  const tail = noWith.children.filter((c) => !(c instanceof ParserRuleContext && [RULE.queryTerm, RULE.orderBy, RULE.limitRowCount].includes(c.ruleIndex)));
  if (tail.some((c) => c.getText().toUpperCase() !== 'LIMIT')) refuse('OFFSET and FETCH are not supported (use LIMIT)');

  const clauses = clausesOf(spec);
  if (clauses.distinct) refuse('SELECT DISTINCT lists values row by row');
  if (clauses.having) refuse('HAVING is not supported (filter rows with WHERE; results can be ordered and limited)');
  if (clauses.window) refuse('WINDOW clauses are not supported');
  if (clauses.relations.length !== 1)
    refuse(clauses.relations.length ? 'comma joins are not supported (use JOIN ... ON the patient keys)' : 'a FROM clause is needed');

  // Sources and joins.
  const sources: SourceTable[] = [];
  readRelation(clauses.relations[0]!, sources, context, text);
  const byAlias = new Map(sources.map((s) => [s.alias, s]));
  const resolve = (ref: { qualifier?: string; column: string }): SourceTable => {
    if (ref.qualifier !== undefined) {
      const source = byAlias.get(ref.qualifier);
      if (!source) refuse(`${ref.qualifier}.${ref.column} names no table of the FROM clause`);
      if (!source.info.columns.has(ref.column)) refuse(`${source.table} has no column ${ref.column}`);
      return source;
    }
    const having = sources.filter((s) => s.info.columns.has(ref.column));
    if (having.length !== 1) refuse(having.length ? `column ${ref.column} is ambiguous; qualify it` : `no table of the FROM clause has a column ${ref.column}`);
    return having[0]!;
  };
  const joins: JoinGuard[] = [];
  checkJoins(clauses.relations[0]!, byAlias, text, joins);

  if (clauses.where) checkExpression(clauses.where, 'WHERE');

  // GROUP BY.
  const keyNodes: ParserRuleContext[] = [];
  const items = clauses.selectItems;
  if (clauses.groupBy) {
    if (ruleChildren(clauses.groupBy, RULE.setQuantifier).length) refuse('GROUP BY DISTINCT/ALL is not supported');
    for (const element of ruleChildren(clauses.groupBy, RULE.groupingElement)) {
      const set = element.children.length === 1 ? ruleChildren(element, RULE.groupingSet)[0] : undefined;
      const expr = set && set.children.length === 1 ? ruleChildren(set, RULE.expression)[0] : undefined;
      if (!expr) refuse('ROLLUP, CUBE and GROUPING SETS are not supported');
      const ordinal = numberValue(expr);
      if (ordinal !== undefined) {
        const item = items[ordinal - 1];
        const itemExpr = item && ruleChildren(item, RULE.expression)[0];
        if (!itemExpr) refuse(`GROUP BY ${ordinal} names no column of the SELECT list`);
        keyNodes.push(itemExpr);
      } else keyNodes.push(expr);
    }
  }
  const keys = keyNodes.map((node) => groupKey(node, resolve, text));
  const keyIndex = (node: ParserRuleContext): number => keys.findIndex((k) => normalise(k.text) === normalise(text(node)));

  // SELECT list.
  const aggregates: Aggregate[] = [];
  const outputs: OutputColumn[] = [];
  items.forEach((item, i) => {
    const expr = ruleChildren(item, RULE.expression)[0];
    if (!expr) refuse('SELECT * lists rows; name the group keys and aggregates');
    const alias = ruleChildren(item, RULE.identifier)[0];
    // Trino's output names: the alias, else a column reference's column, else _col<position>.
    const name = alias ? identifierText(alias).toLowerCase() : (columnRef(core(expr))?.column ?? `_col${i}`);
    const call = functionCall(core(expr));
    const aggregateName = call?.name;
    if (aggregateName && ['count', 'sum', 'avg'].includes(aggregateName)) {
      aggregates.push(aggregate(call!, resolve, context, text));
      outputs.push({ name, kind: 'aggregate', aggregate: aggregates.length - 1 });
      return;
    }
    const key = keyIndex(expr);
    if (key < 0)
      refuse(
        aggregateName && !SCALAR_FUNCTIONS.has(aggregateName)
          ? `${aggregateName}(...) is not an aggregate the mesh can protect`
          : `${text(expr)} is neither an allowed aggregate nor a GROUP BY key`,
      );
    outputs.push({ name, kind: 'key', key });
  });
  if (!aggregates.length) refuse('the query has no aggregate');

  // ORDER BY / LIMIT: applied by the gateway to the protected answer (post-processing costs no privacy).
  const orderByClause = ruleChildren(noWith, RULE.orderBy)[0];
  const orderBy = (orderByClause ? ruleChildren(orderByClause, RULE.sortItem) : []).map((item) => {
    const expr = ruleChildren(item, RULE.expression)[0]!;
    const words = terminals(item).map((t) => t.toUpperCase());
    const descending = words.includes('DESC');
    const ordinal = numberValue(expr);
    let output = ordinal !== undefined ? ordinal - 1 : outputs.findIndex((o) => o.name === normalise(text(expr)).replace(/"/g, ''));
    if (output < 0) output = items.findIndex((it) => normalise(text(ruleChildren(it, RULE.expression)[0] ?? it)) === normalise(text(expr)));
    if (output < 0 || output >= outputs.length) refuse(`ORDER BY ${text(expr)}: order by an output column (its name or position)`);
    return { output, descending, nullsFirst: words.includes('FIRST') }; // Trino sorts NULLs last unless told otherwise
  });
  const limitNode = ruleChildren(noWith, RULE.limitRowCount)[0];
  let limit: number | undefined;
  if (limitNode) {
    if (/^all$/i.test(text(limitNode))) limit = undefined;
    else {
      limit = Number(text(limitNode));
      if (!Number.isSafeInteger(limit) || limit < 0) refuse('LIMIT takes a whole number');
    }
  }

  const first = sources[0]!;
  return {
    sources,
    fromSql: guardedFrom(clauses.relations[0]!, joins, sql),
    whereSql: clauses.where ? total(text(clauses.where)) : undefined,
    patientSql: `${quoteName(first.alias)}.${quoteName(first.info.patientKey)}`,
    keys,
    aggregates,
    outputs,
    orderBy,
    limit,
  };
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

interface Clauses {
  distinct: boolean;
  selectItems: ParserRuleContext[];
  relations: ParserRuleContext[];
  where?: ParserRuleContext;
  groupBy?: ParserRuleContext;
  having?: ParserRuleContext;
  window: boolean;
}

/** querySpecification's parts, told apart by the keyword before each (the interpreter's nodes carry no labels). */
function clausesOf(spec: ParserRuleContext): Clauses {
  const out: Clauses = { distinct: false, selectItems: [], relations: [], window: false };
  let keyword = 'SELECT';
  for (const child of spec.children) {
    if (child instanceof TerminalNode) {
      const word = child.getText().toUpperCase();
      if (['SELECT', 'FROM', 'WHERE', 'HAVING', 'WINDOW', 'BY'].includes(word)) keyword = word;
      continue;
    }
    const node = child as ParserRuleContext;
    if (node.ruleIndex === RULE.setQuantifier) out.distinct = /^distinct$/i.test(node.getText());
    else if (node.ruleIndex === RULE.selectItem) out.selectItems.push(node);
    else if (node.ruleIndex === RULE.relation) out.relations.push(node);
    else if (node.ruleIndex === RULE.groupBy) out.groupBy = node;
    else if (node.ruleIndex === RULE.windowDefinition) out.window = true;
    else if (node.ruleIndex === RULE.booleanExpression) {
      if (keyword === 'WHERE') out.where = node;
      else if (keyword === 'HAVING') out.having = node;
    }
  }
  return out;
}

function readRelation(node: ParserRuleContext, out: SourceTable[], context: AnalysisContext, text: (n: ParserRuleContext) => string): void {
  const inner = ruleChildren(node, RULE.relation);
  if (inner.length) {
    const words = terminals(node).map((t) => t.toUpperCase());
    if (words.includes('CROSS') || words.includes('NATURAL')) refuse('CROSS and NATURAL joins are not supported; join ON the patient keys');
    const type = ruleChildren(node, RULE.joinType)[0];
    const typeText = type ? type.children.map((c) => c.getText().toUpperCase()).join(' ') : '';
    if (typeText !== '' && typeText !== 'INNER' && !typeText.startsWith('LEFT')) refuse(`${typeText} JOIN is not supported (use JOIN or LEFT JOIN)`);
    readRelation(inner[0]!, out, context, text);
    const before = out.length;
    readRelation(inner[1]!, out, context, text);
    // A LEFT JOIN's right side may be all NULL: its patient key does not identify the row's patient.
    if (typeText.startsWith('LEFT')) for (const s of out.slice(before)) s.optional = true;
    return;
  }
  const sampled = ruleChildren(node, RULE.sampledRelation)[0];
  if (!sampled || sampled.children.length !== 1) refuse('TABLESAMPLE is not supported');
  const pattern = ruleChildren(sampled, RULE.patternRecognition)[0]!;
  if (pattern.children.length !== 1) refuse('MATCH_RECOGNIZE is not supported');
  const aliased = ruleChildren(pattern, RULE.aliasedRelation)[0]!;
  if (ruleChildren(aliased, RULE.columnAliases).length) refuse('column aliases on a table are not supported');
  const primary = ruleChildren(aliased, RULE.relationPrimary)[0]!;
  const name = primary.children.length === 1 ? ruleChildren(primary, RULE.qualifiedName)[0] : undefined;
  if (!name) refuse('only mesh tables can be read (no subqueries, UNNEST, LATERAL or table functions in FROM)');
  const parts = nameParts(name);
  const table = context.table(parts);
  if (!table) refuse(`${text(name)} is not a mesh table with patient data`);
  const aliasNode = ruleChildren(aliased, RULE.identifier)[0];
  const alias = aliasNode ? identifierText(aliasNode).toLowerCase() : parts[parts.length - 1]!;
  if (out.some((s) => s.alias === alias)) refuse(`the table alias ${alias} is used twice`);
  out.push({ alias, table: table.name, info: table.info });
}

/**
 * A condition that cannot fail: Trino's try() turns a runtime error (division by zero, a bad cast) into NULL,
 * read as false. Otherwise whether a query fails would tell, without noise, whether some patient's row
 * makes an expression fail: a one-bit answer per query that no noise covers.
 */
export function total(condition: string): string {
  return `coalesce(try(${condition}), false)`;
}

interface JoinGuard {
  on: ParserRuleContext;
  key: ParserRuleContext;
}

/** The FROM text with each ON condition made total; the patient-key equality stays outside try() so Trino plans an equi-join. */
function guardedFrom(from: ParserRuleContext, joins: JoinGuard[], sql: string): string {
  const base = from.start!.start;
  let out = sql.slice(base, from.stop!.stop + 1);
  for (const j of [...joins].sort((a, b) => b.on.start!.start - a.on.start!.start)) {
    const [start, stop] = [j.on.start!.start - base, j.on.stop!.stop + 1 - base];
    const key = sql.slice(j.key.start!.start, j.key.stop!.stop + 1);
    out = `${out.slice(0, start)}${key} AND ${total(out.slice(start, stop))}${out.slice(stop)}`;
  }
  return out;
}

/** Every join's ON condition must equate the new table's patient key with one already joined (ANDed with anything). */
function checkJoins(node: ParserRuleContext, byAlias: Map<string, SourceTable>, text: (n: ParserRuleContext) => string, guards: JoinGuard[]): string[] {
  const inner = ruleChildren(node, RULE.relation);
  if (!inner.length) {
    const aliased = descendFirst(node, [RULE.sampledRelation, RULE.patternRecognition, RULE.aliasedRelation]);
    const alias = aliased && ruleChildren(aliased, RULE.identifier)[0];
    const name = nameParts(ruleChildren(ruleChildren(aliased!, RULE.relationPrimary)[0]!, RULE.qualifiedName)[0]!);
    return [alias ? identifierText(alias).toLowerCase() : name[name.length - 1]!];
  }
  const left = checkJoins(inner[0]!, byAlias, text, guards);
  const right = checkJoins(inner[1]!, byAlias, text, guards);
  const criteria = ruleChildren(node, RULE.joinCriteria)[0];
  const on = criteria && ruleChildren(criteria, RULE.booleanExpression)[0];
  if (!on) refuse('joins need ON <left>.<patient key> = <right>.<patient key> (USING is not supported)');
  checkExpression(on, 'ON');
  const keyOf = (alias: string): string => byAlias.get(alias)!.info.patientKey;
  const linked = conjuncts(on).find((c) => {
    const m = /^"?([^".=]+)"?\."?([^".=]+)"?="?([^".=]+)"?\."?([^".=]+)"?$/.exec(normalise(text(c)));
    if (!m) return false;
    const [a, ac, b, bc] = [m[1]!, m[2]!, m[3]!, m[4]!];
    const sides = (x: string, y: string): boolean => left.includes(x) && right.includes(y);
    return (sides(a, b) || sides(b, a)) && byAlias.has(a) && byAlias.has(b) && ac === keyOf(a) && bc === keyOf(b);
  });
  if (linked) guards.push({ on, key: linked });
  else
    refuse(
      `the join ON ${text(on)} does not stay within one patient's data: add ${left[0]}.${keyOf(left[0]!)} = ${right[0]}.${keyOf(right[0]!)} to the condition`,
    );
  return [...left, ...right];
}

function conjuncts(node: ParserRuleContext): ParserRuleContext[] {
  const inner = core(node); // through parentheses: ON (a.k = b.k AND ...)
  const parts = ruleChildren(inner, RULE.booleanExpression);
  const isAnd = inner.ruleIndex === RULE.booleanExpression && parts.length === 2 && terminals(inner).some((t) => t.toUpperCase() === 'AND');
  return isAnd ? parts.flatMap(conjuncts) : [inner];
}

/** Refuses subqueries, window functions, aggregates, lambdas and functions outside the allow-list. */
function checkExpression(node: ParserRuleContext, where: string): void {
  const visit = (n: ParserRuleContext): void => {
    if (n.ruleIndex === RULE.query) refuse(`${where}: subqueries are not supported`);
    if (n.ruleIndex === RULE.over || n.ruleIndex === RULE.filter) refuse(`${where}: window functions and FILTER are not supported`);
    if (n.children.some((c) => c instanceof TerminalNode && c.getText() === '->')) refuse(`${where}: lambda expressions are not supported`);
    const call = n.ruleIndex === RULE.primaryExpression ? functionCall(n) : undefined;
    if (call && !SCALAR_FUNCTIONS.has(call.name)) {
      refuse(
        ['count', 'sum', 'avg', 'min', 'max'].includes(call.name)
          ? `${where}: aggregates cannot be nested or used outside the SELECT list`
          : `${where}: the function ${call.name} is not on the list the mesh allows in aggregate queries (${[...SCALAR_FUNCTIONS].sort().join(', ')})`,
      );
    }
    for (const c of ruleChildren(n)) visit(c);
  };
  visit(node);
}

interface Call {
  name: string;
  node: ParserRuleContext;
  args: ParserRuleContext[];
  star: boolean;
  distinct: boolean;
  extras: boolean;
}

/** A primaryExpression that is a function call: `name(args)`, `name(*)`, with any DISTINCT / FILTER / OVER. */
function functionCall(node: ParserRuleContext): Call | undefined {
  if (node.ruleIndex !== RULE.primaryExpression) return undefined;
  const kids = node.children;
  const at = kids[0] instanceof ParserRuleContext && kids[0].ruleIndex === RULE.processingMode ? 1 : 0;
  const name = kids[at];
  if (!(name instanceof ParserRuleContext) || name.ruleIndex !== RULE.qualifiedName || kids[at + 1]?.getText() !== '(') return undefined;
  const rules = ruleChildren(node);
  return {
    name: nameParts(name).join('.').toLowerCase(),
    node,
    args: ruleChildren(node, RULE.expression),
    star: kids.some((k) => k instanceof TerminalNode && k.getText() === '*'),
    distinct: rules.some((r) => r.ruleIndex === RULE.setQuantifier && /^distinct$/i.test(r.getText())),
    extras: at === 1 || rules.some((r) => [RULE.filter, RULE.over, RULE.sortItem, RULE.nullTreatment].includes(r.ruleIndex)),
  };
}

function aggregate(
  call: Call,
  resolve: (r: { qualifier?: string; column: string }) => SourceTable,
  context: AnalysisContext,
  text: (n: ParserRuleContext) => string,
): Aggregate {
  if (call.extras) refuse(`${call.name}(...) with FILTER, OVER or ORDER BY is not supported`);
  if (call.args.length > 1) refuse(`${call.name} takes one argument`);
  const arg = call.args[0];
  if (arg) checkExpression(arg, `${call.name}(...)`);
  if (call.name === 'count') {
    if (call.star) return { kind: 'count-rows' };
    const ref = columnRef(core(arg!));
    if (call.distinct) {
      const source = ref && resolve(ref);
      if (!ref || source!.info.patientKey !== ref.column) refuse('COUNT(DISTINCT ...) counts patients only: COUNT(DISTINCT <patient key>)');
      // Measured over the row's patient; a LEFT JOINed table's key is NULL where nothing matched, which Trino would not count.
      if (source!.optional)
        refuse(
          `COUNT(DISTINCT ${ref.qualifier ?? ''}${ref.qualifier ? '.' : ''}${ref.column}) counts a LEFT JOINed table's patients; count the patients of the first table`,
        );
      return { kind: 'count-patients' };
    }
    if (ref) resolve(ref);
    return { kind: 'count-values', argument: text(arg!) };
  }
  if (call.distinct) refuse(`${call.name}(DISTINCT ...) is not supported`);
  if (!arg) refuse(`${call.name} needs an argument`);
  const kind = call.name as 'sum' | 'avg';
  const clamp = clampOf(core(arg), text);
  if (clamp) return { kind, argument: clamp.argument, bounds: { ...clamp.bounds, source: 'written in the query (least/greatest)' } };
  const ref = columnRef(core(arg));
  if (ref) {
    const source = resolve(ref);
    const type = source.info.columns.get(ref.column)!;
    if (!['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64'].includes(type.type) || type.collection)
      refuse(`${kind}(${ref.column}): ${source.table}.${ref.column} is not a number`);
    const bounds = context.bounds(source.table, ref.column);
    if (bounds) return { kind, argument: text(arg), bounds: { ...bounds, source: `declared by the policy for ${source.table}.${ref.column}` } };
    refuse(
      `${kind}(${text(arg)}) needs bounds: no bounds are declared for ${source.table}.${ref.column}; write ${kind}(least(greatest(${text(arg)}, <lower>), <upper>))`,
    );
  }
  refuse(`${kind}(${text(arg)}) needs bounds: write ${kind}(least(greatest(<expr>, <lower>), <upper>))`);
}

/** least(greatest(e, lo), hi) or greatest(least(e, hi), lo) with literal bounds. */
function clampOf(node: ParserRuleContext, text: (n: ParserRuleContext) => string): { argument: string; bounds: NumericBounds } | undefined {
  const outer = functionCall(node);
  if (!outer || outer.args.length !== 2 || !['least', 'greatest'].includes(outer.name)) return undefined;
  const inner = functionCall(core(outer.args[0]!));
  const innerName = outer.name === 'least' ? 'greatest' : 'least';
  if (!inner || inner.name !== innerName || inner.args.length !== 2) return undefined;
  const a = signedNumber(outer.args[1]!, text);
  const b = signedNumber(inner.args[1]!, text);
  if (a === undefined || b === undefined) return undefined;
  const [lower, upper] = outer.name === 'least' ? [b, a] : [a, b];
  if (!(lower < upper)) refuse(`the bounds in ${text(node)} must have lower < upper`);
  return { argument: text(inner.args[0]!), bounds: { lower, upper } };
}

function signedNumber(node: ParserRuleContext, text: (n: ParserRuleContext) => string): number | undefined {
  const t = normalise(text(node)).replace(/^\((.*)\)$/, '$1');
  if (!/^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

function groupKey(
  node: ParserRuleContext,
  resolve: (r: { qualifier?: string; column: string }) => SourceTable,
  text: (n: ParserRuleContext) => string,
): GroupKey {
  const inner = core(node);
  const call = functionCall(inner);
  let transform: GroupKey['transform'];
  let target = inner;
  if (call) {
    if (call.name !== 'icd10_chapter' || call.args.length !== 1 || call.extras || call.distinct)
      refuse(`GROUP BY ${text(node)}: group by a categorical column or icd10_chapter(<ICD-10 code column>)`);
    transform = 'icd10-chapter';
    target = core(call.args[0]!);
  }
  const ref = columnRef(target);
  if (!ref) refuse(`GROUP BY ${text(node)}: group by a categorical column or icd10_chapter(<ICD-10 code column>)`);
  const source = resolve(ref);
  const type = source.info.columns.get(ref.column)!;
  const categorical = ref.column === 'domain' || ((type.type === 'code' || type.type === 'boolean') && !type.collection);
  if (!categorical || ref.column === source.info.patientKey)
    refuse(`GROUP BY ${text(node)}: ${source.table}.${ref.column} is not a categorical column (FHIR code or boolean, or the trust's domain)`);
  return { text: text(node), table: source.table, column: ref.column, columnSql: text(target), transform };
}

/** `col` or `alias.col`, lower-cased, quotes removed. */
function columnRef(node: ParserRuleContext): { qualifier?: string; column: string } | undefined {
  if (node.ruleIndex !== RULE.primaryExpression) return undefined;
  const kids = node.children;
  if (kids.length === 1 && kids[0] instanceof ParserRuleContext && kids[0].ruleIndex === RULE.identifier)
    return { column: identifierText(kids[0]).toLowerCase() };
  if (kids.length === 3 && kids[1]?.getText() === '.' && kids[0] instanceof ParserRuleContext && kids[2] instanceof ParserRuleContext) {
    const base = kids[0];
    if (base.children.length === 1 && base.children[0] instanceof ParserRuleContext && base.children[0].ruleIndex === RULE.identifier)
      return { qualifier: identifierText(base.children[0]).toLowerCase(), column: identifierText(kids[2]).toLowerCase() };
  }
  return undefined;
}

/** Down single-child expression wrappers and parentheses to the primary expression that matters. */
function core(node: ParserRuleContext): ParserRuleContext {
  let n = node;
  for (;;) {
    const rules = ruleChildren(n);
    if (
      n.children.length === 1 &&
      rules.length === 1 &&
      [RULE.expression, RULE.booleanExpression, RULE.valueExpression, RULE.primaryExpression].includes(rules[0]!.ruleIndex)
    ) {
      n = rules[0]!;
      continue;
    }
    if (
      n.ruleIndex === RULE.primaryExpression &&
      n.children.length === 3 &&
      n.children[0]!.getText() === '(' &&
      rules.length === 1 &&
      rules[0]!.ruleIndex === RULE.expression
    ) {
      n = rules[0]!;
      continue;
    }
    return n;
  }
}

function numberValue(expr: ParserRuleContext): number | undefined {
  const c = core(expr);
  if (c.ruleIndex !== RULE.primaryExpression || c.children.length !== 1) return undefined;
  const n = c.children[0];
  if (!(n instanceof ParserRuleContext) || n.ruleIndex !== RULE.number) return undefined;
  const v = Number(n.getText());
  return Number.isInteger(v) ? v : undefined;
}

function descend(node: ParserRuleContext, path: number[]): ParserRuleContext | undefined {
  let n: ParserRuleContext | undefined = node;
  for (const rule of path) {
    if (!n) return undefined;
    if (n.ruleIndex === rule) continue;
    const next: ParserRuleContext[] = ruleChildren(n, rule);
    if (next.length !== 1) return undefined;
    n = next[0];
  }
  return n;
}

function descendFirst(node: ParserRuleContext, path: number[]): ParserRuleContext | undefined {
  let n: ParserRuleContext | undefined = node;
  for (const rule of path) n = n && ruleChildren(n, rule)[0];
  return n;
}

function terminals(node: ParserRuleContext): string[] {
  return node.children.filter((c) => c instanceof TerminalNode).map((c) => c.getText());
}

/** Whitespace removed, lower-cased outside string literals: to compare the analyst's expressions. */
export function normalise(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|[^']+/g, (part) => (part.startsWith("'") ? part : part.replace(/\s+/g, '').toLowerCase()));
}
