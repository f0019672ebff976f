// Parses one SQL statement as Trino 476's SqlParser.createStatement does: Trino's own grammar (entry rule
// `singleStatement`), its identifier checks and syntax-tree refusals, SLL prediction first and full LL only when SLL fails, no
// error recovery, and errors positioned and worded as Trino reports them. Pure: no I/O at parse time.
import {
  type ATNSimulator,
  BaseErrorListener,
  CharStream,
  CommonTokenStream,
  DefaultErrorStrategy,
  InputMismatchException,
  NoViableAltException,
  type Parser,
  type ParserInterpreter,
  type ParserRuleContext,
  PredictionMode,
  type RecognitionException,
  type Recognizer,
  type Token,
} from 'antlr4ng';
import { expectedTokens } from './expected-tokens';
import { identifierChecks } from './identifier-checks';
import { checkStatement } from './statement-checks';
import { SqlSyntaxError } from './syntax-error';
import { createLexer, createParser, PARSER_ATN, RULE_NAMES, ruleIndex } from './trino-grammar';

export { SqlSyntaxError } from './syntax-error';

const SINGLE_STATEMENT = ruleIndex('singleStatement');

export interface ParsedStatement {
  /** Root `singleStatement` context; a node's rule is `ruleNames[node.ruleIndex]`. */
  tree: ParserRuleContext;
  /** Every token with its offsets (hidden ones too), ready for antlr4ng's TokenStreamRewriter. */
  tokens: CommonTokenStream;
  ruleNames: readonly string[];
}

/** Throws SqlSyntaxError where Trino 476 would answer SYNTAX_ERROR at parse time. */
export function parseStatement(sql: string): ParsedStatement {
  const lexer = createLexer(CharStream.fromString(sql));
  lexer.removeErrorListeners();
  lexer.addErrorListener(lexerErrors);
  const tokens = new CommonTokenStream(lexer);
  try {
    let tree: ParserRuleContext;
    try {
      tree = parse(tokens, PredictionMode.SLL);
    } catch (e) {
      if (!(e instanceof SqlSyntaxError)) throw e;
      // SLL can fail on input that full LL accepts; only LL's verdict (and error) counts.
      tokens.seek(0);
      tree = parse(tokens, PredictionMode.LL);
    }
    checkStatement(tree);
    return { tree, tokens, ruleNames: RULE_NAMES };
  } catch (e) {
    // Trino answers a statement nested too deep for its stack with a syntax error at 1:1.
    if (e instanceof RangeError && /call stack/i.test(e.message)) throw new SqlSyntaxError('statement is too large (stack overflow while parsing)', 1, 1);
    throw e;
  }
}

function parse(tokens: CommonTokenStream, predictionMode: number): ParserRuleContext {
  const parser = createParser(tokens);
  parser.interpreter.predictionMode = predictionMode;
  parser.errorHandler = new NoRecovery();
  parser.removeErrorListeners();
  parser.addErrorListener(parserErrors);
  parser.addParseListener(identifierChecks);
  return parser.parse(SINGLE_STATEMENT);
}

/**
 * Fails at the first mismatch instead of inserting or deleting a token (as Trino does: recovery would
 * move the reported position), keeping the lookahead state the mismatch was first detectable in.
 */
class NoRecovery extends DefaultErrorStrategy {
  override recoverInline(recognizer: Parser): Token {
    const error = new InputMismatchException(recognizer);
    if (this.nextTokensContext) {
      error.offendingState = this.nextTokenState;
      error.ctx = this.nextTokensContext;
    }
    throw error;
  }
}

class ParserErrors extends BaseErrorListener {
  override syntaxError<S extends Token, T extends ATNSimulator>(
    recognizer: Recognizer<T>,
    offendingSymbol: S | null,
    line: number,
    charPositionInLine: number,
    message: string,
    e: RecognitionException | null,
  ): void {
    throw new SqlSyntaxError(trinoWording(recognizer as unknown as ParserInterpreter, message, e), line, charPositionInLine + 1);
  }
}

/** Trino's `mismatched input 'x'. Expecting: ...`; ANTLR's own message if that analysis fails, as in Trino. */
function trinoWording(parser: ParserInterpreter, antlrMessage: string, e: RecognitionException | null): string {
  try {
    const stateNumber = e ? e.offendingState : parser.state;
    let token = e ? e.offendingToken : parser.getCurrentToken();
    if (e instanceof NoViableAltException) token = e.startToken;
    const context = e ? e.ctx : parser.context;
    const state = PARSER_ATN.states[stateNumber];
    if (!state || !token || !context) return antlrMessage;
    const tokens = parser.inputStream;
    const result = expectedTokens(tokens, state, token.tokenIndex, context);
    return `mismatched input '${tokens.get(result.tokenIndex).text}'. Expecting: ${result.expected.join(', ')}`;
  } catch {
    return antlrMessage;
  }
}

class LexerErrors extends BaseErrorListener {
  override syntaxError<S extends Token, T extends ATNSimulator>(
    _recognizer: Recognizer<T>,
    _offendingSymbol: S | null,
    line: number,
    charPositionInLine: number,
    message: string,
  ): void {
    throw new SqlSyntaxError(message, line, charPositionInLine + 1);
  }
}

const parserErrors = new ParserErrors();
const lexerErrors = new LexerErrors();
