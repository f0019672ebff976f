// Which column of a mapping binds to which FHIR search parameter, derived from the column's FHIRPath and
// the search parameters' expressions (connector-spec/mapping.schema.json, pushdown-rules.md). Pure: the
// search parameters come from capability.ts, the views from sql-mappings/*.json.
//
// The rule every binding here obeys: a search on the bound parameter may only select a *superset* of the
// rows the SQL predicate on the column keeps. So a column binds only when
//   - its path reads an element through steps that can only narrow what the element holds (where(...),
//     first(), ofType(X), [n], ...), never through computation (operators, join(), iif(), ...);
//   - a search parameter expression branch selects that same element (or a parent whose sub-element the
//     column reads in the way the parameter type indexes it, e.g. a CodeableConcept's coding.code), with
//     every type cast or filter of the branch also present on the column's path;
//   - the column's SQL type fits the parameter type.
// Anything else stays unbound, with a note saying why; Trino then filters that column alone.
import { ownValue } from '../own-property';

export type BindingType = 'token' | 'date' | 'reference' | 'string' | 'quantity';

export interface Binding {
  param: string;
  type: BindingType;
  /** token only: the code system the column's codes come from. */
  system?: string;
  /** reference only: the referenced resource type. */
  target?: string;
}

/** A search parameter as the server supports it: `code` is the name a client sends. */
export interface SearchParamDef {
  code: string;
  /** Resource types the definition applies to (`Resource` for the ones every type has). */
  base: readonly string[];
  /** FHIR search parameter type: token, date, reference, string, quantity, number, uri, composite, special. */
  type: string;
  /** FHIRPath expression; a parameter without one cannot be bound. */
  expression?: string;
  /** reference only: the resource types the parameter may point to (empty or absent: any). */
  target?: readonly string[];
  url?: string;
}

export interface ViewColumn {
  name: string;
  path: string;
  type?: string;
  collection?: boolean;
}

export interface ViewSelect {
  column?: readonly ViewColumn[];
  select?: readonly ViewSelect[];
  unionAll?: readonly ViewSelect[];
  forEach?: string;
  forEachOrNull?: string;
  repeat?: readonly string[];
}

export interface ViewDefinitionLike {
  resource: string;
  select: readonly ViewSelect[];
}

export interface DerivedBindings {
  /** Column name -> binding, in column order. */
  bindings: Record<string, Binding>;
  /** One line per column left unbound (and per ambiguity resolved), prefixed with the column name. */
  notes: string[];
}

/** Types whose every resource carries the generic `Resource.*` parameters (_id, _lastUpdated, ...). */
const GENERIC_BASES = ['Resource', 'DomainResource'];

/** HumanName and Address parts: short strings HAPI indexes whole, so `:exact` is exact. */
const NAME_ADDRESS_PARTS = new Set(['family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state', 'postalCode', 'country']);

/** Functions that return a subset of their input: on a column they only narrow what it holds. */
const SUBSET_FUNCTIONS = new Set(['first', 'last', 'single', 'tail', 'distinct', 'skip', 'take']);

const TOKEN_COLUMN_TYPES = new Set(['code', 'string', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid']);
const DATE_COLUMN_TYPES = new Set(['date', 'dateTime', 'instant']);
const QUANTITY_COLUMN_TYPES = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64']);
const REFERENCE_COLUMN_TYPES = new Set(['id', 'string']);

// ---------------------------------------------------------------------------------------------------
// FHIRPath: the small subset mapping columns and search parameter expressions use.

type Term = { kind: 'ident'; name: string } | { kind: 'fn'; name: string; args: string } | { kind: 'index'; index: number };

/** One element step of a path with the casts and filters applied to it. */
export interface Step {
  name: string;
  /** ofType(X) / as(X) / `as X` on this step. */
  type?: string;
  /** where(...) criteria on this step, in normalizeCriterion's spelling. */
  filters: string[];
  /** Search parameter side only: where(resolve() is X) on this step. */
  resolveIs?: string;
}

class PathError extends Error {}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_]/.test(c);
}

/** Index just past the string literal or bracketed group that starts at `i`. */
function skipGroup(src: string, i: number): number {
  const open = src[i];
  if (open === "'" || open === '`') {
    let j = i + 1;
    while (j < src.length && src[j] !== open) j += src[j] === '\\' ? 2 : 1;
    if (j >= src.length) throw new PathError(`unterminated ${open} in "${src}"`);
    return j + 1;
  }
  const close = open === '(' ? ')' : ']';
  let depth = 0;
  let j = i;
  while (j < src.length) {
    const c = src[j];
    if (c === "'" || c === '`') {
      j = skipGroup(src, j);
      continue;
    }
    if (c === open) depth += 1;
    if (c === close) {
      depth -= 1;
      if (depth === 0) return j + 1;
    }
    j += 1;
  }
  throw new PathError(`unbalanced ${open} in "${src}"`);
}

/** Splits on a separator character outside strings, parentheses and brackets. */
export function splitTopLevel(src: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "'" || c === '`' || c === '(' || c === '[') {
      i = skipGroup(src, i);
      continue;
    }
    if (c === separator) {
      parts.push(src.slice(start, i));
      start = i + 1;
    }
    i += 1;
  }
  parts.push(src.slice(start));
  return parts;
}

/** Parses a plain invocation chain (`a.b.where(x='y').c.first()`); operators and literals are refused. */
function parseTerms(src: string): Term[] {
  const s = src.trim();
  const terms: Term[] = [];
  let i = 0;
  if (s === '') throw new PathError('empty path');
  for (;;) {
    let name: string;
    if (s[i] === '`') {
      const end = skipGroup(s, i);
      name = s.slice(i + 1, end - 1);
      i = end;
    } else if (isIdentStart(s[i]) || s[i] === '$' || s[i] === '%') {
      const m = /^[$%]?[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
      if (!m) throw new PathError(`unexpected "${s.slice(i)}"`);
      name = m[0];
      i += name.length;
      if ((name.startsWith('$') && (name !== '$this' || i !== name.length)) || name.startsWith('%')) throw new PathError(`uses ${name}`);
    } else {
      throw new PathError(`"${s.slice(i)}" is not a plain element path (operator or literal)`);
    }
    if (s[i] === '(') {
      const end = skipGroup(s, i);
      terms.push({ kind: 'fn', name, args: s.slice(i + 1, end - 1).trim() });
      i = end;
    } else {
      terms.push({ kind: 'ident', name });
    }
    while (s[i] === '[') {
      const end = skipGroup(s, i);
      const index = s.slice(i + 1, end - 1).trim();
      if (!/^\d+$/.test(index)) throw new PathError(`indexer [${index}] is not a number`);
      terms.push({ kind: 'index', index: Number(index) });
      i = end;
    }
    if (i >= s.length) return terms;
    if (s[i] !== '.') throw new PathError(`"${s.slice(i)}" is not a plain element path (operator or literal)`);
    i += 1;
  }
}

/**
 * Canonical spelling of a where() criterion: whitespace outside string literals is dropped, except one
 * space between two words (`system = 'x'` and `system='x'` compare equal, `a or b` stays apart).
 */
function normalizeCriterion(criterion: string): string {
  let out = '';
  let space = false;
  let i = 0;
  const word = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);
  while (i < criterion.length) {
    const c = criterion[i]!;
    if (/\s/.test(c)) {
      space = true;
      i += 1;
      continue;
    }
    if (space && word(out[out.length - 1]) && word(c)) out += ' ';
    space = false;
    if (c === "'" || c === '`') {
      const end = skipGroup(criterion, i);
      out += criterion.slice(i, end);
      i = end;
      continue;
    }
    out += c;
    i += 1;
  }
  return out;
}

function stringLiteral(arg: string): string | undefined {
  const m = /^'((?:[^'\\]|\\.)*)'$/.exec(arg.trim());
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

function typeName(arg: string): string {
  const t = arg
    .trim()
    .replace(/^FHIR\./, '')
    .replace(/^`(.*)`$/, '$1');
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(t)) throw new PathError(`"${arg}" is not a type name`);
  return t;
}

/** The element a column reads, relative to the resource. */
export interface ColumnRead {
  steps: Step[];
  /** getReferenceKey(T) on the last step: the column holds ids of references to T (null: any type). */
  reference?: { target: string | null };
}

/**
 * Interprets a column path (or forEach path) in its context (the steps of the enclosing forEach paths);
 * returns the context's steps followed by the path's. Throws PathError when the path is not safe to bind.
 */
function readColumnPath(path: string, resource: string, context: readonly Step[], allowKeys: boolean): ColumnRead {
  const terms = parseTerms(path);
  const atRoot = context.length === 0;
  const steps: Step[] = context.map((s) => ({ ...s, filters: [...s.filters] }));
  let reference: ColumnRead['reference'];
  let resourceKey = false;
  let ended = false;
  const last = (fn: string): Step => {
    const step = steps[steps.length - 1];
    if (!step) throw new PathError(`${fn}() applied to the resource itself`);
    return step;
  };
  for (const [i, term] of terms.entries()) {
    if (term.kind === 'index') continue; // [n]: one of the values
    if (term.kind === 'fn' && SUBSET_FUNCTIONS.has(term.name)) continue;
    if (ended) throw new PathError(`${term.kind === 'fn' ? `${term.name}()` : term.name} after ${resourceKey ? 'getResourceKey()' : 'getReferenceKey()'}`);
    if (term.kind === 'ident') {
      if (i === 0 && term.name === '$this') continue; // the context element itself
      if (i === 0 && atRoot && term.name === resource) continue; // `Condition.code` on a Condition
      steps.push({ name: term.name, filters: [] });
      continue;
    }
    switch (term.name) {
      case 'where':
        if (steps.length === 0) continue; // a filter on the resource: only fewer rows
        last('where').filters.push(normalizeCriterion(term.args));
        break;
      case 'ofType':
      case 'as': {
        const step = last(term.name);
        const t = typeName(term.args);
        if (step.type !== undefined && step.type !== t) throw new PathError(`${step.name} cast to both ${step.type} and ${t}`);
        step.type = t;
        break;
      }
      case 'extension': {
        const url = stringLiteral(term.args);
        if (url === undefined) throw new PathError(`extension(${term.args}) without a literal url`);
        steps.push({ name: 'extension', filters: [normalizeCriterion(`url='${url}'`)] });
        break;
      }
      case 'getReferenceKey': {
        if (!allowKeys) throw new PathError('getReferenceKey() in a forEach path');
        last('getReferenceKey');
        reference = { target: term.args === '' ? null : typeName(term.args) };
        ended = true;
        break;
      }
      case 'getResourceKey':
        if (!allowKeys || !atRoot || steps.length > 0 || term.args !== '') throw new PathError('getResourceKey() not on the resource itself');
        steps.push({ name: 'id', filters: [] });
        resourceKey = true;
        ended = true;
        break;
      default:
        throw new PathError(`uses ${term.name}(), which computes a value rather than reading an element`);
    }
  }
  if (steps.length === 0) throw new PathError('reads the resource itself');
  return reference ? { steps, reference } : { steps };
}

/** One `|` branch of a search parameter expression (parseBranch gives a reason instead when it is outside the subset). */
interface Branch {
  root: string;
  steps: Step[];
}

function stripOuterParens(src: string): string {
  let s = src.trim();
  while (s.startsWith('(') && skipGroup(s, 0) === s.length) s = s.slice(1, -1).trim();
  return s;
}

function parseBranch(src: string): Branch | string {
  try {
    let s = stripOuterParens(src);
    let cast: string | undefined;
    const words = splitTopLevel(s, ' ').filter((w) => w !== '');
    if (words.length === 3 && words[1] === 'as') {
      s = stripOuterParens(words[0]!);
      cast = typeName(words[2]!);
    } else if (words.length !== 1) {
      return `"${src.trim()}" is not a plain element path`;
    }
    const terms = parseTerms(s);
    const first = terms[0];
    if (first?.kind !== 'ident') return `"${src.trim()}" does not start with a type name`;
    const steps: Step[] = [];
    for (const term of terms.slice(1)) {
      const step = steps[steps.length - 1];
      if (term.kind === 'ident') {
        steps.push({ name: term.name, filters: [] });
      } else if (term.kind === 'index' || (!step && term.name !== 'extension')) {
        return `"${src.trim()}" selects only some values`;
      } else if (term.name === 'as' || term.name === 'ofType') {
        step!.type = typeName(term.args);
      } else if (term.name === 'where') {
        const resolveIs = /^resolve\(\)\s+is\s+(?:FHIR\.)?([A-Za-z]+)$/.exec(term.args.trim());
        if (resolveIs) step!.resolveIs = resolveIs[1]!;
        else step!.filters.push(normalizeCriterion(term.args));
      } else if (term.name === 'extension') {
        const url = stringLiteral(term.args);
        if (url === undefined) return `"${src.trim()}" has extension() without a literal url`;
        steps.push({ name: 'extension', filters: [normalizeCriterion(`url='${url}'`)] });
      } else {
        return `"${src.trim()}" uses ${term.name}()`;
      }
    }
    if (cast !== undefined) {
      const step = steps[steps.length - 1];
      if (!step) return `"${src.trim()}" casts the resource`;
      step.type = cast;
    }
    return { root: first.name, steps };
  } catch (e) {
    if (e instanceof PathError) return e.message;
    throw e;
  }
}

/** The branches of a search parameter that apply to `resource` (those outside the subset are left out). */
function branchesFor(sp: SearchParamDef, resource: string): Branch[] {
  if (!sp.expression) return [];
  let parts: string[];
  try {
    parts = splitTopLevel(sp.expression, '|');
  } catch (e) {
    if (e instanceof PathError) return [];
    throw e;
  }
  return parts.map(parseBranch).filter((b): b is Branch => typeof b !== 'string' && (b.root === resource || GENERIC_BASES.includes(b.root)));
}

// ---------------------------------------------------------------------------------------------------
// Matching a column to a search parameter.

function showSteps(resource: string, steps: readonly Step[]): string {
  return [resource, ...steps.map((s) => `${s.name}${s.type ? `.ofType(${s.type})` : ''}`)].join('.');
}

function systemOf(step: Step | undefined): string | undefined {
  const systems = (step?.filters ?? []).map((f) => /^system='((?:[^'\\]|\\.)*)'$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
  return systems.length === 1 ? systems[0]!.replace(/\\(.)/g, '$1') : undefined;
}

interface Match {
  binding: Binding;
  /** The branch narrows by filter (e.g. where(resolve() is Patient)): bound, but less preferred. */
  filtered: boolean;
  /** Branches of the parameter on this resource: fewer means more specific. */
  width: number;
}

const CAST_MISMATCH = '\u0000cast:';

interface Miss {
  reason: string;
  /** Steps of the column path the parameter's branch shares: the deeper, the more relevant the reason. */
  depth: number;
}

/** Whether `sp` can serve `column`; a Miss says why not when the parameter reads the element or a parent. */
function match(column: ColumnRead, columnType: string | undefined, sp: SearchParamDef, branches: readonly Branch[]): Match | Miss | undefined {
  let nearest: Miss | undefined;
  let found: Match | undefined;
  for (const branch of branches) {
    const n = branch.steps.length;
    if (n === 0 || n > column.steps.length) continue;
    if (!branch.steps.every((s, i) => s.name === column.steps[i]!.name)) continue;
    const result = matchBranch(column, columnType, sp, branch);
    if (typeof result !== 'string') {
      if (!found || (found.filtered && !result.filtered)) found = { binding: result.binding, filtered: result.filtered, width: branches.length };
      continue;
    }
    // A branch cast to another type than the column's reads other values: the least relevant reason.
    const depth = result.startsWith(CAST_MISMATCH) ? n - 0.5 : n;
    if (!nearest || depth > nearest.depth) nearest = { reason: result.slice(result.startsWith(CAST_MISMATCH) ? CAST_MISMATCH.length : 0), depth };
  }
  return found ?? nearest;
}

function matchBranch(column: ColumnRead, columnType: string | undefined, sp: SearchParamDef, branch: Branch): { binding: Binding; filtered: boolean } | string {
  const n = branch.steps.length;
  let filtered = false;
  for (const [i, b] of branch.steps.entries()) {
    const c = column.steps[i]!;
    if (b.type !== undefined && c.type !== b.type) {
      return (
        CAST_MISMATCH +
        (c.type === undefined
          ? `${sp.code} reads only ${b.name} of type ${b.type}, the column any type`
          : `${sp.code} reads ${b.name} as ${b.type}, the column as ${c.type}`)
      );
    }
    for (const f of b.filters) {
      if (!c.filters.includes(f)) return `${sp.code} reads only ${b.name}.where(${f}), the column does not filter so`;
    }
    if (b.resolveIs !== undefined) {
      if (i !== n - 1 || !column.reference || column.reference.target !== b.resolveIs) {
        return `${sp.code} reads only references to ${b.resolveIs}`;
      }
      filtered = true;
    }
  }
  const suffix = column.steps
    .slice(n)
    .map((s) => s.name)
    .join('.');
  const element = column.steps[n - 1]!;
  const t = columnType ?? '(no type)';
  if (column.reference) {
    if (sp.type !== 'reference') return `${sp.code} is a ${sp.type} parameter, the column a reference key`;
    if (suffix !== '') return `${sp.code} indexes ${branch.steps.map((s) => s.name).join('.')}, the column references under .${suffix}`;
    const target = column.reference.target;
    if (target === null) return 'getReferenceKey() without a type: the search value needs one';
    if (columnType !== undefined && !REFERENCE_COLUMN_TYPES.has(columnType)) return `column type ${t} is not a reference key`;
    if (sp.target && sp.target.length > 0 && !sp.target.includes(target)) return `${sp.code} may not point to ${target} (targets ${sp.target.join(', ')})`;
    return { binding: { param: sp.code, type: 'reference', target }, filtered };
  }
  switch (sp.type) {
    case 'reference':
      return `${sp.code} is a reference parameter, bound only to getReferenceKey(T) columns`;
    case 'token': {
      if (!TOKEN_COLUMN_TYPES.has(t)) return `${sp.code} is a token parameter, the column type ${t}`;
      let system: string | undefined;
      if (suffix === 'coding.code') system = systemOf(column.steps[n]);
      else if (suffix === 'code' || suffix === 'value') system = systemOf(element);
      else if (suffix !== '') return `${sp.code} (token) does not search .${suffix} of what it indexes`;
      return { binding: system ? { param: sp.code, type: 'token', system } : { param: sp.code, type: 'token' }, filtered };
    }
    case 'date':
      if (!DATE_COLUMN_TYPES.has(t)) return `${sp.code} is a date parameter, the column type ${t}`;
      if (suffix !== '' && suffix !== 'start' && suffix !== 'end') return `${sp.code} (date) does not search .${suffix} of what it indexes`;
      return { binding: { param: sp.code, type: 'date' }, filtered };
    case 'string':
      if (t !== 'string') return `${sp.code} is a string parameter, the column type ${t}`;
      if (suffix !== '') return `${sp.code} (string) does not search .${suffix} alone`;
      if (!NAME_ADDRESS_PARTS.has(element.name)) {
        return `${sp.code} is a string parameter, but only HumanName/Address parts are bound (other strings may be truncated or normalised by the server)`;
      }
      return { binding: { param: sp.code, type: 'string' }, filtered };
    case 'quantity':
      if (suffix !== 'value')
        return `${sp.code} (quantity) compares the number (.value), the column reads ${suffix === '' ? 'the whole element' : `.${suffix}`}`;
      if (!QUANTITY_COLUMN_TYPES.has(t)) return `${sp.code} is a quantity parameter, the column type ${t}`;
      return { binding: { param: sp.code, type: 'quantity' }, filtered };
    default:
      return `${sp.code} is a ${sp.type} parameter, which the connector does not push`;
  }
}

interface Occurrence {
  column: ViewColumn;
  read: ColumnRead | string;
}

/** Every column with what it reads, in column order; a column repeated in unionAll branches has several. */
function collectColumns(view: ViewDefinitionLike): Map<string, Occurrence[]> {
  const columns = new Map<string, Occurrence[]>();
  const add = (column: ViewColumn, read: ColumnRead | string): void => {
    const list = columns.get(column.name) ?? [];
    list.push({ column, read });
    columns.set(column.name, list);
  };
  const walk = (selects: readonly ViewSelect[], context: Step[] | string): void => {
    for (const select of selects) {
      let ctx: Step[] | string = context;
      const each = select.forEach ?? select.forEachOrNull;
      if (typeof ctx !== 'string' && each !== undefined) {
        try {
          ctx = readColumnPath(each, view.resource, ctx, false).steps;
        } catch (e) {
          if (!(e instanceof PathError)) throw e;
          ctx = `forEach "${each}": ${e.message}`;
        }
      }
      if (select.repeat !== undefined) ctx = 'under repeat (a recursive path)';
      for (const column of select.column ?? []) {
        if (typeof ctx === 'string') {
          add(column, ctx);
          continue;
        }
        try {
          add(column, readColumnPath(column.path, view.resource, ctx, true));
        } catch (e) {
          if (!(e instanceof PathError)) throw e;
          add(column, e.message);
        }
      }
      walk(select.select ?? [], ctx);
      for (const branch of select.unionAll ?? []) walk([branch], ctx);
    }
  };
  walk(view.select, []);
  return columns;
}

function sameBinding(a: Binding, b: Binding): boolean {
  return a.param === b.param && a.type === b.type && a.system === b.system && a.target === b.target;
}

/** Orders a binding's keys as the mapping files do: param, type, then system or target. */
function canonicalBinding(b: Binding): Binding {
  const out: Binding = { param: b.param, type: b.type };
  if (b.system !== undefined) out.system = b.system;
  if (b.target !== undefined) out.target = b.target;
  return out;
}

function bindOne(
  resource: string,
  read: ColumnRead | string,
  columnType: string | undefined,
  params: readonly { sp: SearchParamDef; branches: Branch[] }[],
): { binding?: Binding; why: string; alsoMatched: string[] } {
  if (typeof read === 'string') return { why: `path ${read}`, alsoMatched: [] };
  const matches: Match[] = [];
  const misses: Miss[] = [];
  for (const { sp, branches } of params) {
    const m = match(read, columnType, sp, branches);
    if (m === undefined) continue;
    if ('reason' in m) misses.push(m);
    else matches.push(m);
  }
  if (matches.length === 0) {
    const element = showSteps(resource, read.steps);
    const reasons = [...new Set(misses.sort((a, b) => b.depth - a.depth).map((m) => m.reason))];
    const why =
      reasons.length > 0
        ? `reads ${element}: ${reasons.slice(0, 3).join('; ')}`
        : `no search parameter of the server reads ${element} or an element it is part of`;
    return { why, alsoMatched: [] };
  }
  // Prefer branches without filters (subject over patient), then the narrowest parameter (code over combo-code).
  matches.sort((a, b) => Number(a.filtered) - Number(b.filtered) || a.width - b.width || a.binding.param.localeCompare(b.binding.param));
  const best = matches[0]!;
  const ties = matches.slice(1).filter((m) => m.filtered === best.filtered && m.width === best.width && !sameBinding(m.binding, best.binding));
  return { binding: best.binding, why: '', alsoMatched: ties.map((m) => m.binding.param) };
}

/**
 * Derives the search parameter binding of every column of `view` from the search parameters a server
 * supports for its resource type (the ones whose base is another type are ignored).
 */
export function deriveBindings(view: ViewDefinitionLike, searchParams: readonly SearchParamDef[]): DerivedBindings {
  const params = searchParams
    // A composite's expression names the parent of its components, not an element it searches.
    .filter((sp) => sp.type !== 'composite')
    .filter((sp) => sp.base.includes(view.resource) || sp.base.some((b) => GENERIC_BASES.includes(b)))
    .map((sp) => ({ sp, branches: branchesFor(sp, view.resource) }))
    .filter((p) => p.branches.length > 0);
  const bound: [string, Binding][] = [];
  const notes: string[] = [];
  for (const [name, occurrences] of collectColumns(view)) {
    const results = occurrences.map((o) => bindOne(view.resource, o.read, o.column.type, params));
    const first = results[0]!;
    const unbound = results.find((r) => r.binding === undefined);
    if (unbound) {
      notes.push(`${name}: unbound, ${unbound.why}`);
      continue;
    }
    if (!results.every((r) => sameBinding(r.binding!, first.binding!))) {
      notes.push(`${name}: unbound, its unionAll branches bind to different parameters (${results.map((r) => r.binding!.param).join(', ')})`);
      continue;
    }
    bound.push([name, canonicalBinding(first.binding!)]);
    const ties = [...new Set(results.flatMap((r) => r.alsoMatched))];
    if (ties.length > 0) notes.push(`${name}: bound to ${first.binding!.param}; ${ties.join(', ')} would serve equally`);
  }
  // fromEntries defines keys: a column named like an Object.prototype member stays an ordinary key.
  return { bindings: Object.fromEntries(bound), notes };
}

// ---------------------------------------------------------------------------------------------------
// Mapping files.

/** Differences between two binding sets, one line per column, in `order` (then any extra columns). */
export function diffBindings(committed: Record<string, Binding>, derived: Record<string, Binding>, order: readonly string[] = []): string[] {
  const names = [...new Set([...order, ...Object.keys(derived), ...Object.keys(committed)])];
  const show = (b: Binding | undefined): string => (b ? JSON.stringify(canonicalBinding(b)) : 'unbound');
  const lines: string[] = [];
  for (const name of names) {
    const a = ownValue(committed, name);
    const b = ownValue(derived, name);
    if (a && b && sameBinding(a, b)) continue;
    if (!a && !b) continue;
    lines.push(`${name}: committed ${show(a)}, derived ${show(b)}`);
  }
  const committedOrder = Object.keys(committed);
  const derivedOrder = Object.keys(derived);
  if (lines.length === 0 && committedOrder.join(',') !== derivedOrder.join(',')) {
    lines.push(`key order: committed ${committedOrder.join(', ')}; expected column order ${derivedOrder.join(', ')}`);
  }
  return lines;
}

/** Column names of a view in order (first appearance), including nested and unionAll selects. */
export function columnNames(view: ViewDefinitionLike): string[] {
  return [...collectColumns(view).keys()];
}

/**
 * Replaces the value of the top-level `"bindings"` member of a mapping file's JSON text with `bindings`
 * (2-space indentation at that depth), leaving every other byte as it was; ends the text with a newline.
 */
export function replaceBindings(text: string, bindings: Record<string, Binding>): string {
  const span = topLevelMember(text, 'bindings');
  if (!span) throw new Error('the mapping has no top-level "bindings" member');
  const lineStart = text.lastIndexOf('\n', span.keyStart) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const ordered = Object.fromEntries(Object.entries(bindings).map(([k, v]) => [k, canonicalBinding(v)]));
  const value = JSON.stringify(ordered, null, 2).replace(/\n/g, `\n${indent}`);
  const out = text.slice(0, span.valueStart) + value + text.slice(span.valueEnd);
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** Where a member of the top-level JSON object is: its key and its value's [start, end). */
function topLevelMember(text: string, key: string): { keyStart: number; valueStart: number; valueEnd: number } | undefined {
  const skipString = (at: number): number => {
    let j = at + 1;
    while (text[j] !== '"') {
      if (j >= text.length) throw new Error('unterminated string in mapping JSON');
      j += text[j] === '\\' ? 2 : 1;
    }
    return j + 1;
  };
  const skipSpace = (at: number): number => {
    let j = at;
    while (j < text.length && /\s/.test(text[j]!)) j += 1;
    return j;
  };
  /** End of the JSON value starting at `at`. */
  const skipValue = (at: number): number => {
    if (text[at] === '"') return skipString(at);
    if (text[at] === '{' || text[at] === '[') {
      let d = 0;
      let j = at;
      while (j < text.length) {
        const c = text[j]!;
        if (c === '"') {
          j = skipString(j);
          continue;
        }
        if (c === '{' || c === '[') d += 1;
        if (c === '}' || c === ']') {
          d -= 1;
          if (d === 0) return j + 1;
        }
        j += 1;
      }
      throw new Error('unbalanced mapping JSON');
    }
    const m = /^[^,}\]\s]+/.exec(text.slice(at));
    return at + (m ? m[0].length : 0);
  };
  let i = skipSpace(0);
  if (text[i] !== '{') return undefined;
  i += 1;
  while (i < text.length) {
    i = skipSpace(i);
    if (text[i] === '}') return undefined;
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    if (text[i] !== '"') throw new Error('malformed mapping JSON');
    const keyStart = i;
    const keyEnd = skipString(i);
    const name = JSON.parse(text.slice(keyStart, keyEnd)) as string;
    i = skipSpace(keyEnd);
    if (text[i] !== ':') throw new Error('malformed mapping JSON');
    const valueStart = skipSpace(i + 1);
    const valueEnd = skipValue(valueStart);
    if (name === key) return { keyStart, valueStart, valueEnd };
    i = valueEnd;
  }
  return undefined;
}
