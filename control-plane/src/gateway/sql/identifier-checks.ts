// Identifier forms the grammar lexes but Trino refuses while parsing (its SqlParser's post-processor):
// empty "", `backquoted` and 1abc-style identifiers. Run as a parse listener, as Trino does, so that the
// first problem in the text is the one reported even when a syntax error follows it.
import { type ErrorNode, type ParserRuleContext, type ParseTreeListener, TerminalNode } from 'antlr4ng';
import { SqlSyntaxError } from './syntax-error';
import { ruleIndex, tokenType } from './trino-grammar';

const IDENTIFIER_RULE = ruleIndex('identifier');
const QUOTED_IDENTIFIER = tokenType('QUOTED_IDENTIFIER');
const BACKQUOTED_IDENTIFIER = tokenType('BACKQUOTED_IDENTIFIER');
const DIGIT_IDENTIFIER = tokenType('DIGIT_IDENTIFIER');

export const identifierChecks: ParseTreeListener = {
  visitTerminal(): void {},
  visitErrorNode(_node: ErrorNode): void {},
  enterEveryRule(): void {},
  exitEveryRule(context: ParserRuleContext): void {
    // Each of these tokens is the sole child of its own `identifier` alternative in SqlBase.g4.
    if (context.ruleIndex !== IDENTIFIER_RULE || context.getChildCount() !== 1) return;
    const child = context.getChild(0);
    if (!(child instanceof TerminalNode)) return;
    const token = child.symbol;
    const at = (reason: string): SqlSyntaxError => new SqlSyntaxError(reason, token.line, token.column + 1);
    if (token.type === QUOTED_IDENTIFIER && token.text?.length === 2) throw at('Zero-length delimited identifier not allowed');
    if (token.type === BACKQUOTED_IDENTIFIER) throw at('backquoted identifiers are not supported; use double quotes to quote identifiers');
    if (token.type === DIGIT_IDENTIFIER) throw at('identifiers must not start with a digit; surround the identifier with double quotes');
  },
};
