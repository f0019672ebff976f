// Trino's wording of a syntax error: `mismatched input 'x'. Expecting: a, b, c`. Trino does not use ANTLR's
// own message; it simulates the ATN from the failing state, follows every path as far as the input
// allows, and lists what could come next at the furthest token reached, naming a few rules as a whole
// (`<expression>`, `<identifier>`, ...) instead of their many first tokens. This is the same search,
// written against antlr4ng's ATN objects.
import {
  ATNState,
  NotSetTransition,
  type ParserRuleContext,
  PrecedencePredicateTransition,
  RuleStartState,
  RuleStopState,
  RuleTransition,
  Token,
  type TokenStream,
  type Vocabulary,
  WildcardTransition,
} from 'antlr4ng';
import { PARSER_ATN, ruleIndex, tokenType, VOCABULARY } from './trino-grammar';

/** Rules Trino reports by a summary name rather than by their first tokens. */
const SUMMARISED_RULES = new Map<number, string>(
  [
    ['expression', '<expression>'],
    ['booleanExpression', '<expression>'],
    ['valueExpression', '<expression>'],
    ['primaryExpression', '<expression>'],
    ['predicate', '<predicate>'],
    ['identifier', '<identifier>'],
    ['string', '<string>'],
    ['query', '<query>'],
    ['type', '<type>'],
  ].map(([rule, label]) => [ruleIndex(rule!), label!]),
);

const SUMMARISED_TOKENS = new Map<number, string>([[tokenType('INTEGER_VALUE'), '<integer>']]);

export interface ExpectedTokens {
  /** Index (in the token stream) of the furthest token any path reached: the one Trino quotes. */
  tokenIndex: number;
  /** Sorted as Trino sorts them (plain string order). */
  expected: string[];
}

/**
 * What could follow at the furthest point reachable from `state` (where the parser failed, inside
 * `context`) with the input starting at `tokenIndex`.
 */
export function expectedTokens(tokens: TokenStream, state: ATNState, tokenIndex: number, context: ParserRuleContext): ExpectedTokens {
  const search = new ExpectedTokenSearch(tokens, VOCABULARY);
  return search.run(state, tokenIndex, context);
}

interface Probe {
  state: ATNState;
  tokenIndex: number;
  /** Inside a summarised rule: its name is already recorded, its tokens are not listed. */
  suppressed: boolean;
}

class ExpectedTokenSearch {
  private furthest = -1;
  private readonly candidates = new Set<string>();
  /** End token indexes per (state, token index): rules are re-entered from many places. */
  private readonly memo = new Map<string, Set<number>>();

  constructor(
    private readonly tokens: TokenStream,
    private readonly vocabulary: Vocabulary,
  ) {}

  run(failedState: ATNState, tokenIndex: number, failedContext: ParserRuleContext): ExpectedTokens {
    let state = failedState;
    const start = PARSER_ATN.ruleToStartState[state.ruleIndex]!;
    // A state reachable from the rule's start without consuming input is as good as the rule's start,
    // and starting there lets summarised rules be reported by their names.
    if (reachableByEpsilon(start, state)) state = start;

    let ends = this.walk({ state, tokenIndex, suppressed: false }, 0);
    let context: ParserRuleContext | null = failedContext;
    while (ends.size > 0 && context && context.invokingState !== -1) {
      const invoking = PARSER_ATN.states[context.invokingState]!.transitions[0] as RuleTransition;
      const next = new Set<number>();
      for (const end of ends) {
        for (const e of this.walk({ state: invoking.followState, tokenIndex: end, suppressed: false }, 0)) next.add(e);
      }
      ends = next;
      context = context.parent;
    }
    return { tokenIndex: this.furthest, expected: [...this.candidates].sort() };
  }

  /** Simulates the ATN like an NFA from `start`; returns the token indexes at which the rule can end. */
  private walk(start: Probe, precedence: number): Set<number> {
    const key = `${start.state.stateNumber}:${start.tokenIndex}`;
    const known = this.memo.get(key);
    if (known) return known;

    const ends = new Set<number>();
    const active: Probe[] = [start];
    while (active.length > 0) {
      const current = active.pop()!;
      const { state } = current;
      let { tokenIndex, suppressed } = current;
      while (this.tokens.get(tokenIndex).channel === Token.HIDDEN_CHANNEL) tokenIndex++;
      const tokenType = this.tokens.get(tokenIndex).type;

      if (state instanceof RuleStartState) {
        const summary = SUMMARISED_RULES.get(state.ruleIndex);
        if (summary !== undefined) {
          if (!suppressed) this.record(tokenIndex, [summary]);
          suppressed = true;
        }
      }
      if (state instanceof RuleStopState) {
        ends.add(tokenIndex);
        continue;
      }

      for (const transition of state.transitions) {
        if (transition instanceof RuleTransition) {
          for (const end of this.walk({ state: transition.target, tokenIndex, suppressed }, transition.precedence)) {
            // Trino compares an end token *index* with the current token *type* here; kept, so the lists match.
            active.push({ state: transition.followState, tokenIndex: end, suppressed: suppressed && end === tokenType });
          }
        } else if (transition instanceof PrecedencePredicateTransition) {
          if (precedence < transition.precedence) active.push({ state: transition.target, tokenIndex, suppressed });
        } else if (transition.isEpsilon) {
          active.push({ state: transition.target, tokenIndex, suppressed });
        } else if (transition instanceof WildcardTransition) {
          throw new Error('wildcard transitions do not occur in the Trino grammar');
        } else {
          let labels = transition.label!;
          if (transition instanceof NotSetTransition) labels = labels.complement(Token.MIN_USER_TOKEN_TYPE, PARSER_ATN.maxTokenType);
          // Only tokens already buffered are looked at: the parser failed within them.
          if (labels.contains(tokenType) && tokenIndex < this.tokens.size - 1) {
            active.push({ state: transition.target, tokenIndex: tokenIndex + 1, suppressed: false });
          } else if (!suppressed) {
            this.record(
              tokenIndex,
              labels.toArray().map((type) => this.tokenName(type)),
            );
          }
        }
      }
    }
    this.memo.set(key, ends);
    return ends;
  }

  private record(tokenIndex: number, labels: string[]): void {
    if (tokenIndex < this.furthest) return;
    if (tokenIndex > this.furthest) {
      this.candidates.clear();
      this.furthest = tokenIndex;
    }
    for (const label of labels) this.candidates.add(label);
  }

  private tokenName(type: number): string {
    if (type === Token.EOF) return '<EOF>';
    return SUMMARISED_TOKENS.get(type) ?? this.vocabulary.getDisplayName(type) ?? String(type);
  }
}

function reachableByEpsilon(from: ATNState, target: ATNState): boolean {
  const seen = new Set<number>();
  const pending: ATNState[] = [from];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (current.stateNumber === target.stateNumber) return true;
    if (seen.has(current.stateNumber)) continue;
    seen.add(current.stateNumber);
    for (const transition of current.transitions) if (transition.isEpsilon) pending.push(transition.target);
  }
  return false;
}
