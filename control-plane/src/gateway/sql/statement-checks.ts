// Refusals Trino makes after the grammar has accepted a statement, while it builds its syntax tree
// (AstBuilder and the literal nodes): they come back as SYNTAX_ERROR too, so a parser that claims to
// accept what Trino accepts must make them. Each check names the Trino construct it mirrors.
import { ParserRuleContext, type ParseTree, TerminalNode, type Token } from 'antlr4ng';
import { SqlSyntaxError } from './syntax-error';
import { ruleIndex, tokenType } from './trino-grammar';

const RULE = {
  statement: ruleIndex('statement'),
  primaryExpression: ruleIndex('primaryExpression'),
  qualifiedName: ruleIndex('qualifiedName'),
  identifier: ruleIndex('identifier'),
  expression: ruleIndex('expression'),
  valueExpression: ruleIndex('valueExpression'),
  setQuantifier: ruleIndex('setQuantifier'),
  over: ruleIndex('over'),
  filter: ruleIndex('filter'),
  nullTreatment: ruleIndex('nullTreatment'),
  processingMode: ruleIndex('processingMode'),
  string: ruleIndex('string'),
  number: ruleIndex('number'),
  rowCount: ruleIndex('rowCount'),
  patternQuantifier: ruleIndex('patternQuantifier'),
  trimsSpecification: ruleIndex('trimsSpecification'),
  privilegeOrRole: ruleIndex('privilegeOrRole'),
  functionSpecification: ruleIndex('functionSpecification'),
  controlStatement: ruleIndex('controlStatement'),
  tableArgumentRelation: ruleIndex('tableArgumentRelation'),
};

const TOKEN = {
  BINARY_LITERAL: tokenType('BINARY_LITERAL'),
  UNICODE_STRING: tokenType('UNICODE_STRING'),
  STRING: tokenType('STRING'),
  INTEGER_VALUE: tokenType('INTEGER_VALUE'),
  QUOTED_IDENTIFIER: tokenType('QUOTED_IDENTIFIER'),
  DISTINCT: tokenType('DISTINCT'),
  TRIM: tokenType('TRIM'),
  EXTRACT: tokenType('EXTRACT'),
  FROM: tokenType('FROM'),
  CREATE: tokenType('CREATE'),
  REPLACE: tokenType('REPLACE'),
  EXISTS: tokenType('EXISTS'),
  TABLE: tokenType('TABLE'),
  GRANT: tokenType('GRANT'),
  REVOKE: tokenType('REVOKE'),
  ON: tokenType('ON'),
  AS: tokenType('AS'),
  RETURN: tokenType('RETURN'),
  BEGIN: tokenType('BEGIN'),
  PRIVILEGE_KEYWORDS: ['CREATE', 'SELECT', 'INSERT', 'UPDATE', 'DELETE'].map(tokenType),
};

/** Functions AstBuilder turns into special nodes, refusing the call forms they cannot take. */
const SPECIAL_FUNCTIONS: Record<string, { arity: (n: number) => boolean; arityMessage: string }> = {
  if: { arity: (n) => n === 2 || n === 3, arityMessage: "Invalid number of arguments for 'if' function" },
  nullif: { arity: (n) => n === 2, arityMessage: "Invalid number of arguments for 'nullif' function" },
  coalesce: { arity: (n) => n >= 2, arityMessage: "The 'coalesce' function must have at least two arguments" },
  try: { arity: (n) => n === 1, arityMessage: "The 'try' function must have exactly one argument" },
  format: { arity: (n) => n >= 2, arityMessage: "The 'format' function must have at least two arguments" },
};

const EXTRACT_FIELDS = [
  'YEAR',
  'QUARTER',
  'MONTH',
  'WEEK',
  'DAY',
  'DAY_OF_MONTH',
  'DAY_OF_WEEK',
  'DOW',
  'DAY_OF_YEAR',
  'DOY',
  'YEAR_OF_WEEK',
  'YOW',
  'HOUR',
  'MINUTE',
  'SECOND',
  'TIMEZONE_MINUTE',
  'TIMEZONE_HOUR',
];

/** Guava's CharMatcher.whitespace(), which BinaryLiteral strips before reading hex digits. */
const JAVA_WHITESPACE = new Set(
  [...'\t\n\u000b\f\r \u0085\u00a0\u1680\u2028\u2029\u202f\u205f\u3000'].concat(Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i))),
);

/** Walks the accepted tree in document order and throws the first refusal Trino would make. */
export function checkStatement(tree: ParserRuleContext): void {
  const pending: ParseTree[] = [tree];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (!(node instanceof ParserRuleContext)) continue;
    checkNode(node);
    for (let i = node.getChildCount() - 1; i >= 0; i--) pending.push(node.getChild(i)!);
  }
}

function checkNode(node: ParserRuleContext): void {
  switch (node.ruleIndex) {
    case RULE.primaryExpression:
      return checkPrimaryExpression(node);
    case RULE.string:
      return checkUnicodeString(node);
    case RULE.number:
      return checkLongLiteral(
        node,
        node.getText(),
        terminals(node).some((t) => t.type === TOKEN.INTEGER_VALUE),
      );
    case RULE.rowCount:
      return checkLongLiteral(
        node,
        node.getText(),
        terminals(node).some((t) => t.type === TOKEN.INTEGER_VALUE),
      );
    case RULE.patternQuantifier:
      for (const t of terminals(node)) if (t.type === TOKEN.INTEGER_VALUE) checkLongLiteralToken(t);
      return;
    case RULE.statement:
      return checkStatementNode(node);
    case RULE.functionSpecification: {
      const body = ruleChildren(node, RULE.controlStatement)[0];
      const first = body?.start?.type;
      if (body && first !== TOKEN.RETURN && first !== TOKEN.BEGIN) throw errorAt(body.start!, 'Function body must start with RETURN or BEGIN');
      return;
    }
    case RULE.tableArgumentRelation: {
      // An unaliased `TABLE(t) copartition` reads as an alias; Trino refuses the ambiguity.
      const alias = ruleChildren(node, RULE.identifier)[0];
      if (alias && !terminals(node).some((t) => t.type === TOKEN.AS) && !isQuoted(alias) && alias.getText().toUpperCase() === 'COPARTITION') {
        throw errorAt(
          alias.start!,
          'The word "COPARTITION" is ambiguous in this context. To alias an argument, precede the alias with "AS". ' +
            'To specify co-partitioning, change the argument order so that the last argument cannot be aliased.',
        );
      }
      return;
    }
  }
}

function checkPrimaryExpression(node: ParserRuleContext): void {
  const first = node.getChild(0);
  const start = node.start!;
  if (first instanceof TerminalNode && node.getChildCount() === 1 && first.symbol.type === TOKEN.BINARY_LITERAL) {
    const digits = [...first.symbol.text!.slice(2, -1)]
      .filter((c) => !JAVA_WHITESPACE.has(c))
      .join('')
      .toUpperCase();
    if (![...digits].every(isHexDigit)) throw errorAt(start, 'Binary literal can only contain hexadecimal digits');
    if (digits.length % 2 !== 0) throw errorAt(start, 'Binary literal must contain an even number of digits');
    return;
  }
  if (first instanceof TerminalNode && first.symbol.type === TOKEN.TRIM) {
    const hasFrom = terminals(node).some((t) => t.type === TOKEN.FROM);
    if (hasFrom && ruleChildren(node, RULE.trimsSpecification).length === 0 && ruleChildren(node, RULE.valueExpression).length === 1) {
      throw errorAt(start, "The 'trim' function must have specification, char or both arguments when it takes FROM");
    }
    return;
  }
  if (first instanceof TerminalNode && first.symbol.type === TOKEN.EXTRACT) {
    const field = ruleChildren(node, RULE.identifier)[0]!.getText();
    if (!EXTRACT_FIELDS.includes(field.toUpperCase())) throw errorAt(start, `Invalid EXTRACT field ${field}, valid fields are: ${EXTRACT_FIELDS.join(', ')}`);
    return;
  }
  // typeConstructor: `X 'ab'` is a binary literal with a space, which Trino refuses rather than reading a type X.
  if (node.getChildCount() === 2 && ruleChildren(node, RULE.identifier).length === 1 && ruleChildren(node, RULE.string).length === 1) {
    if (ruleChildren(node, RULE.identifier)[0]!.getText().toUpperCase() === 'X') {
      throw errorAt(start, "Spaces are not allowed between 'X' and the starting quote of a binary literal");
    }
    return;
  }
  checkSpecialFunctionCall(node);
}

function checkSpecialFunctionCall(node: ParserRuleContext): void {
  const children = node.children;
  const nameIndex = children.findIndex((c) => c instanceof ParserRuleContext && c.ruleIndex === RULE.qualifiedName);
  const next = children[nameIndex + 1];
  if (nameIndex < 0 || !(next instanceof TerminalNode) || next.getText() !== '(') return;
  const name = ruleChildren(children[nameIndex] as ParserRuleContext, RULE.identifier)
    .map(identifierValue)
    .join('.')
    .toLowerCase();
  const special = Object.hasOwn(SPECIAL_FUNCTIONS, name) ? SPECIAL_FUNCTIONS[name] : undefined;
  if (!special) return;
  const fail = (message: string): never => {
    throw errorAt(node.start!, message);
  };
  const distinct = ruleChildren(node, RULE.setQuantifier).some((q) => terminals(q).some((t) => t.type === TOKEN.DISTINCT));
  if (!special.arity(ruleChildren(node, RULE.expression).length)) fail(special.arityMessage);
  if (ruleChildren(node, RULE.over).length > 0) fail(`OVER clause not valid for '${name}' function`);
  if (distinct) fail(`DISTINCT not valid for '${name}' function`);
  if (ruleChildren(node, RULE.nullTreatment).length > 0) fail(`Null treatment clause not valid for '${name}' function`);
  if (ruleChildren(node, RULE.processingMode).length > 0) fail(`Running or final semantics not valid for '${name}' function`);
  if (ruleChildren(node, RULE.filter).length > 0) fail(`FILTER not valid for '${name}' function`);
}

function checkStatementNode(node: ParserRuleContext): void {
  const tokens = terminals(node);
  const has = (type: number): boolean => tokens.some((t) => t.type === type);
  const first = tokens[0]?.type;
  if (first === TOKEN.CREATE && has(TOKEN.TABLE) && has(TOKEN.REPLACE) && has(TOKEN.EXISTS)) {
    throw errorAt(node.start!, "'OR REPLACE' and 'IF NOT EXISTS' clauses can not be used together");
  }
  // GRANT/REVOKE without ON grant roles, and a privilege keyword is not a role name.
  if ((first === TOKEN.GRANT || first === TOKEN.REVOKE) && !has(TOKEN.ON)) {
    for (const item of ruleChildren(node, RULE.privilegeOrRole)) {
      const only = item.getChild(0);
      if (only instanceof TerminalNode && TOKEN.PRIVILEGE_KEYWORDS.includes(only.symbol.type))
        throw errorAt(item.start!, 'May not use a privilege name as a role name');
    }
  }
}

/** U&'...' literals are decoded while the tree is built, wherever they stand (SHOW ... LIKE patterns too). */
function checkUnicodeString(node: ParserRuleContext): void {
  const literal = terminals(node).find((t) => t.type === TOKEN.UNICODE_STRING);
  if (!literal) return;
  const fail = (message: string): never => {
    throw errorAt(node.start!, message);
  };
  let escapeChar = '\\';
  const escapeLiteral = terminals(node).find((t) => t.type === TOKEN.STRING);
  if (escapeLiteral) {
    const chosen = unquote(escapeLiteral.text!);
    if (chosen.length === 0) fail('Empty Unicode escape character');
    if (chosen.length !== 1 || !isValidUnicodeEscape(chosen)) fail(`Invalid Unicode escape character: ${chosen}`);
    escapeChar = chosen;
  }
  const raw = unquote(literal.text!.slice(2));
  let state: 'text' | 'escaped' | 'digits' = 'text';
  let digits = '';
  let needed = 0;
  for (const ch of raw.split('')) {
    // UTF-16 units, as Java's charAt
    if (state === 'text') {
      if (ch === escapeChar) state = 'escaped';
    } else if (state === 'escaped') {
      if (ch === escapeChar) state = 'text';
      else if (ch === '+') {
        state = 'digits';
        needed = 6;
      } else if (isHexDigit(ch)) {
        state = 'digits';
        needed = 4;
        digits = ch;
      } else fail(`Invalid hexadecimal digit: ${ch}`);
    } else {
      if (!isHexDigit(ch)) fail(`Incomplete escape sequence: ${digits}`);
      digits += ch;
      if (digits.length === needed) {
        const codePoint = parseInt(digits, 16);
        if (codePoint > 0x10ffff) fail(`Invalid escaped character: ${digits}`);
        if (codePoint >= 0xd800 && codePoint <= 0xdfff)
          fail(`Invalid escaped character: ${digits}. Escaped character is a surrogate. Use '\\+123456' instead.`);
        digits = '';
        state = 'text';
      }
    }
  }
  if (state !== 'text') fail(`Incomplete escape sequence: ${digits}`);
}

/** LongLiteral: Java's Long.parseLong after removing `_`, with 0x/0b/0o prefixes. */
function checkLongLiteral(node: ParserRuleContext, text: string, isInteger: boolean): void {
  if (isInteger && !fitsJavaLong(text)) throw errorAt(node.start!, `Invalid numeric literal: ${text}`);
}

function checkLongLiteralToken(token: Token): void {
  if (!fitsJavaLong(token.text!)) throw errorAt(token, `Invalid numeric literal: ${token.text}`);
}

export function fitsJavaLong(literal: string): boolean {
  const value = literal.split('_').join('');
  const prefix = value.slice(0, 2).toLowerCase();
  const radix = prefix === '0x' ? 16 : prefix === '0b' ? 2 : prefix === '0o' ? 8 : 10;
  let digits = radix === 10 ? value : value.slice(2);
  let negative = false;
  if (digits.startsWith('-') || digits.startsWith('+')) {
    negative = digits.startsWith('-');
    digits = digits.slice(1);
  }
  const alphabet = '0123456789abcdef'.slice(0, radix);
  if (digits.length === 0 || ![...digits.toLowerCase()].every((c) => alphabet.includes(c))) return false;
  let magnitude = 0n;
  for (const c of digits.toLowerCase()) magnitude = magnitude * BigInt(radix) + BigInt(alphabet.indexOf(c));
  return negative ? magnitude <= 2n ** 63n : magnitude < 2n ** 63n;
}

function terminals(node: ParserRuleContext): Token[] {
  return node.children.filter((c): c is TerminalNode => c instanceof TerminalNode).map((c) => c.symbol);
}

function ruleChildren(node: ParserRuleContext, rule: number): ParserRuleContext[] {
  return node.children.filter((c): c is ParserRuleContext => c instanceof ParserRuleContext && c.ruleIndex === rule);
}

function isQuoted(identifier: ParserRuleContext): boolean {
  return identifier.start?.type === TOKEN.QUOTED_IDENTIFIER;
}

/** An identifier's value as Trino's Identifier holds it: quotes removed and "" unescaped. */
function identifierValue(identifier: ParserRuleContext): string {
  const text = identifier.getText();
  return isQuoted(identifier) ? text.slice(1, -1).split('""').join('"') : text;
}

function unquote(literal: string): string {
  return literal.slice(1, -1).split("''").join("'");
}

function isHexDigit(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

function isValidUnicodeEscape(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x7f && code > 0x20 && !isHexDigit(c) && c !== '"' && c !== '+' && c !== "'";
}

function errorAt(token: Token, reason: string): SqlSyntaxError {
  return new SqlSyntaxError(reason, token.line, token.column + 1);
}
