package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Binary;
import uk.nhs.fhirmesh.view.fhirpath.Expression.ChoiceMember;
import uk.nhs.fhirmesh.view.fhirpath.Expression.FunctionCall;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Literal;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Member;
import uk.nhs.fhirmesh.view.fhirpath.Expression.Path;
import uk.nhs.fhirmesh.view.fhirpath.Token.Kind;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compiles FHIRPath text into an {@link Expression} by precedence climbing. Names are resolved here, once:
 * functions, {@code %constants} (their values are inlined) and type specifiers, so a bad view fails when it is
 * loaded, not on its first row.
 */
public final class Parser
{
    /** Environment variables every expression may use besides the view's constants. */
    private static final Map<String, String> STANDARD_CONSTANTS = Map.of(
            "ucum", "http://unitsofmeasure.org",
            "sct", "http://snomed.info/sct",
            "loinc", "http://loinc.org");

    private final List<Token> tokens;
    private final Map<String, List<Object>> constants;
    private int next;

    private Parser(List<Token> tokens, Map<String, List<Object>> constants)
    {
        this.tokens = tokens;
        this.constants = constants;
    }

    /**
     * @param constants the view's constants by name (without {@code %}), each a FHIRPath collection
     * @throws FhirPathException naming the problem
     */
    public static Expression parse(String text, Map<String, List<Object>> constants)
    {
        Parser parser = new Parser(Lexer.tokenize(text), constants);
        Expression expression = parser.expression(0);
        Token end = parser.peek();
        if (end.kind() != Kind.END) {
            throw parser.unexpected(end);
        }
        return expression;
    }

    private Expression expression(int minPrecedence)
    {
        Expression left = unary();
        while (true) {
            Operator operator = infixOperator(peek());
            if (operator == null || operator.precedence() < minPrecedence) {
                return left;
            }
            advance();
            left = new Binary(operator, left, expression(operator.precedence() + 1));
        }
    }

    private Operator infixOperator(Token token)
    {
        if (token.kind() != Kind.SYMBOL && token.kind() != Kind.IDENTIFIER) {
            return null;
        }
        if (token.is("~") || token.is("!~") || token.isKeyword("is") || token.isKeyword("as")) {
            throw new FhirPathException("operator '" + token.text() + "' is not supported");
        }
        Operator operator = Operator.of(token.text());
        boolean spelledRight = operator != null && (token.kind() == Kind.SYMBOL) == !Character.isLetter(operator.symbol().charAt(0));
        return spelledRight ? operator : null;
    }

    private Expression unary()
    {
        Token token = peek();
        if (token.is("-") || token.is("+")) {
            advance();
            Expression operand = unary();
            if (token.is("+")) {
                return operand;
            }
            Expression negated = new Expression.Negate(operand);
            boolean number = operand instanceof Literal(List<Object> value) && value.size() == 1 && FhirValues.node(value.get(0)).isNumber();
            // -1 becomes a literal now rather than a negation on every row; a literal ignores focus and scope.
            return number ? new Literal(negated.evaluate(List.of(), null)) : negated;
        }
        return postfix(term());
    }

    private Expression postfix(Expression expression)
    {
        while (true) {
            if (accept(".")) {
                expression = path(expression, invocation(advance()));
            }
            else if (accept("[")) {
                Expression index = expression(0);
                expect("]");
                expression = new Expression.Indexer(expression, index);
            }
            else {
                return expression;
            }
        }
    }

    /**
     * Joins {@code left.right}. {@code x.name.ofType(T)} becomes a direct read of the choice element's JSON
     * property ({@code valueQuantity}): the common case, and far cheaper than scanning for the suffix.
     */
    private static Expression path(Expression left, Expression right)
    {
        if (right instanceof FunctionCall call && call.function() == Function.OF_TYPE) {
            if (left instanceof Member(String name)) {
                return new ChoiceMember(name, call.typeName());
            }
            if (left instanceof Path(Expression before, Member(String name))) {
                return new Path(before, new ChoiceMember(name, call.typeName()));
            }
        }
        return new Path(left, right);
    }

    private Expression term()
    {
        Token token = advance();
        return switch (token.kind()) {
            case NUMBER -> new Literal(List.of(number(token)));
            case LONG_NUMBER -> new Literal(List.of(LongNode.valueOf(longValue(token))));
            case STRING -> new Literal(List.of(TextNode.valueOf(token.text())));
            case DATE_TIME, TIME -> new Literal(List.of(temporal(token)));
            case CONSTANT -> constant(token);
            case IDENTIFIER -> switch (token.text()) {
                case "true" -> new Literal(List.of(BooleanNode.TRUE));
                case "false" -> new Literal(List.of(BooleanNode.FALSE));
                default -> invocation(token);
            };
            case DELIMITED_IDENTIFIER, VARIABLE -> invocation(token);
            case SYMBOL -> {
                if (token.is("(")) {
                    Expression inner = expression(0);
                    expect(")");
                    yield inner;
                }
                if (token.is("{")) {
                    expect("}");
                    yield new Literal(List.of());
                }
                throw unexpected(token);
            }
            case END -> throw unexpected(token);
        };
    }

    private Expression invocation(Token token)
    {
        if (token.kind() == Kind.VARIABLE) {
            return switch (token.text()) {
                case "this" -> new Expression.This();
                case "index" -> new Expression.Index();
                default -> throw new FhirPathException("unsupported variable '$" + token.text() + "'");
            };
        }
        if (token.kind() != Kind.IDENTIFIER && token.kind() != Kind.DELIMITED_IDENTIFIER) {
            throw unexpected(token);
        }
        if (token.kind() == Kind.IDENTIFIER && accept("(")) {
            return functionCall(token.text());
        }
        return new Member(token.text());
    }

    private Expression functionCall(String name)
    {
        Function function = Function.named(name);
        List<Expression> arguments = new ArrayList<>();
        String typeName = null;
        if (!accept(")")) {
            do {
                if (function.arguments() == Function.Arguments.TYPE) {
                    typeName = typeSpecifier();
                    arguments.add(new Literal(List.of(TextNode.valueOf(typeName))));
                }
                else {
                    arguments.add(expression(0));
                }
            }
            while (accept(","));
            expect(")");
        }
        function.checkArity(arguments.size());
        return new FunctionCall(function, List.copyOf(arguments), typeName);
    }

    private String typeSpecifier()
    {
        Token first = advance();
        if (first.kind() != Kind.IDENTIFIER && first.kind() != Kind.DELIMITED_IDENTIFIER) {
            throw new FhirPathException("expected a type name but found " + first.describe() + " at position " + first.position());
        }
        if (!accept(".")) {
            return FhirTypes.normalize(null, first.text());
        }
        Token second = advance();
        if (second.kind() != Kind.IDENTIFIER && second.kind() != Kind.DELIMITED_IDENTIFIER) {
            throw new FhirPathException("expected a type name but found " + second.describe() + " at position " + second.position());
        }
        return FhirTypes.normalize(first.text(), second.text());
    }

    private Expression constant(Token token)
    {
        String name = token.text();
        List<Object> value = constants.get(name);
        if (value != null) {
            return new Literal(value);
        }
        return switch (name) {
            case "rowIndex" -> new Expression.RowIndex();
            case "resource", "rootResource", "context" -> new Expression.RootResource(name);
            default -> {
                String standard = STANDARD_CONSTANTS.get(name);
                if (standard == null) {
                    throw new FhirPathException("unknown constant '%" + name + "'");
                }
                yield new Literal(List.of(TextNode.valueOf(standard)));
            }
        };
    }

    private static Object number(Token token)
    {
        if (token.text().indexOf('.') >= 0) {
            return DecimalNode.valueOf(new BigDecimal(token.text()));
        }
        long value = longValue(token);
        return value == (int) value ? IntNode.valueOf((int) value) : LongNode.valueOf(value);
    }

    private static long longValue(Token token)
    {
        try {
            return Long.parseLong(token.text());
        }
        catch (NumberFormatException e) {
            throw new FhirPathException("integer literal out of range at position " + token.position());
        }
    }

    private static Object temporal(Token token)
    {
        PartialTemporal.Kind kind = token.kind() == Kind.TIME ? PartialTemporal.Kind.TIME : null;
        PartialTemporal value = PartialTemporal.parse(token.text(), kind);
        if (value == null) {
            throw new FhirPathException("invalid date/time literal '@" + (kind == null ? "" : "T") + token.text() + "' at position " + token.position());
        }
        return new TypedNode(TextNode.valueOf(token.text()), value.kind().fhirType());
    }

    private Token peek()
    {
        return tokens.get(next);
    }

    private Token advance()
    {
        Token token = tokens.get(next);
        if (token.kind() != Kind.END) {
            next++;
        }
        return token;
    }

    private boolean accept(String symbol)
    {
        if (peek().is(symbol)) {
            next++;
            return true;
        }
        return false;
    }

    private void expect(String symbol)
    {
        if (!accept(symbol)) {
            throw new FhirPathException("expected '" + symbol + "' but found " + peek().describe() + " at position " + peek().position());
        }
    }

    private FhirPathException unexpected(Token token)
    {
        return new FhirPathException("unexpected " + token.describe() + (token.kind() == Kind.END ? "" : " at position " + token.position()));
    }
}
