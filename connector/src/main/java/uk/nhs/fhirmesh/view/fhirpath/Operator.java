package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.bool;
import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.node;
import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.singleton;
import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.singletonBoolean;

/** FHIRPath binary operators with their precedence (higher binds tighter) and empty-propagation rules. */
enum Operator
{
    MULTIPLY("*", 10),
    DIVIDE("/", 10),
    DIV("div", 10),
    MOD("mod", 10),
    PLUS("+", 9),
    MINUS("-", 9),
    CONCATENATE("&", 9),
    UNION("|", 7),
    LESS("<", 6),
    LESS_OR_EQUAL("<=", 6),
    GREATER(">", 6),
    GREATER_OR_EQUAL(">=", 6),
    EQUALS("=", 5),
    NOT_EQUALS("!=", 5),
    IN("in", 4),
    CONTAINS("contains", 4),
    AND("and", 3),
    OR("or", 2),
    XOR("xor", 2),
    IMPLIES("implies", 1);

    private static final MathContext DIVISION = MathContext.DECIMAL128;

    private final String symbol;
    private final int precedence;
    /** How error messages name the operator; built once, as it is passed on every evaluation. */
    private final String role;

    Operator(String symbol, int precedence)
    {
        this.symbol = symbol;
        this.precedence = precedence;
        this.role = "operator '" + symbol + "'";
    }

    String symbol()
    {
        return symbol;
    }

    int precedence()
    {
        return precedence;
    }

    /** The operator spelled {@code text} (a symbol or keyword), or null. */
    static Operator of(String text)
    {
        for (Operator operator : values()) {
            if (operator.symbol.equals(text)) {
                return operator;
            }
        }
        return null;
    }

    List<Object> evaluate(Expression leftExpression, Expression rightExpression, List<Object> focus, Scope scope)
    {
        List<Object> left = leftExpression.evaluate(focus, scope);
        switch (this) {
            case AND, OR, IMPLIES -> {
                // Three-valued logic; the right side is not needed once the left decides.
                Boolean l = singletonBoolean(left, role);
                if ((this == AND && Boolean.FALSE.equals(l)) || (this == OR && Boolean.TRUE.equals(l)) || (this == IMPLIES && Boolean.FALSE.equals(l))) {
                    return bool(this != AND);
                }
                Boolean r = singletonBoolean(rightExpression.evaluate(focus, scope), role);
                return logic(l, r);
            }
            default -> {
                return apply(left, rightExpression.evaluate(focus, scope));
            }
        }
    }

    private List<Object> logic(Boolean l, Boolean r)
    {
        Boolean result = switch (this) {
            case AND -> Boolean.FALSE.equals(r) ? Boolean.FALSE : l == null || r == null ? null : Boolean.TRUE;
            case OR -> Boolean.TRUE.equals(r) ? Boolean.TRUE : l == null || r == null ? null : Boolean.FALSE;
            default -> Boolean.TRUE.equals(r) ? Boolean.TRUE : l == null || r == null ? null : Boolean.FALSE; // IMPLIES, l is true or empty
        };
        return result == null ? List.of() : bool(result);
    }

    private List<Object> apply(List<Object> left, List<Object> right)
    {
        return switch (this) {
            case EQUALS, NOT_EQUALS -> equality(left, right);
            case UNION -> union(left, right);
            case IN -> membership(singleton(left, role), right);
            case CONTAINS -> membership(singleton(right, role), left);
            case XOR -> {
                Boolean l = singletonBoolean(left, role);
                Boolean r = singletonBoolean(right, role);
                yield l == null || r == null ? List.of() : bool(l ^ r);
            }
            case CONCATENATE -> List.of(TextNode.valueOf(text(left) + text(right)));
            default -> {
                Object l = singleton(left, role);
                Object r = singleton(right, role);
                if (l == null || r == null) {
                    yield List.of();
                }
                yield isComparison() ? comparison(l, r) : arithmetic(l, r);
            }
        };
    }

    private boolean isComparison()
    {
        return this == LESS || this == LESS_OR_EQUAL || this == GREATER || this == GREATER_OR_EQUAL;
    }

    private List<Object> equality(List<Object> left, List<Object> right)
    {
        if (left.isEmpty() || right.isEmpty()) {
            return List.of();
        }
        boolean equal = left.size() == right.size();
        for (int i = 0; equal && i < left.size(); i++) {
            Boolean itemEqual = Comparison.equal(left.get(i), right.get(i));
            if (itemEqual == null) {
                return List.of();
            }
            equal = itemEqual;
        }
        return bool(equal == (this == EQUALS));
    }

    private List<Object> comparison(Object l, Object r)
    {
        Integer order = Comparison.compare(l, r);
        if (order == null) {
            return List.of();
        }
        return bool(switch (this) {
            case LESS -> order < 0;
            case LESS_OR_EQUAL -> order <= 0;
            case GREATER -> order > 0;
            default -> order >= 0;
        });
    }

    private List<Object> arithmetic(Object l, Object r)
    {
        JsonNode x = node(l);
        JsonNode y = node(r);
        if (this == PLUS && x.isTextual() && y.isTextual()) {
            return List.of(TextNode.valueOf(x.textValue() + y.textValue()));
        }
        if (!x.isNumber() || !y.isNumber()) {
            throw new FhirPathEvaluationException("operator '" + symbol + "' expects numbers but got " + FhirValues.kind(l) + " and " + FhirValues.kind(r));
        }
        boolean integers = x.isIntegralNumber() && y.isIntegralNumber() && x.canConvertToLong() && y.canConvertToLong();
        if (integers && this != DIVIDE) {
            try {
                return integerArithmetic(x.longValue(), y.longValue());
            }
            catch (ArithmeticException overflow) {
                // fall through to decimal arithmetic
            }
        }
        BigDecimal a = FhirValues.decimal(x);
        BigDecimal b = FhirValues.decimal(y);
        if (b.signum() == 0 && (this == DIVIDE || this == DIV || this == MOD)) {
            return List.of();
        }
        BigDecimal result = switch (this) {
            case PLUS -> a.add(b);
            case MINUS -> a.subtract(b);
            case MULTIPLY -> a.multiply(b);
            case DIVIDE -> a.divide(b, DIVISION);
            case DIV -> a.divide(b, 0, RoundingMode.DOWN);
            default -> a.remainder(b); // MOD
        };
        return List.of(FhirValues.number(result));
    }

    private List<Object> integerArithmetic(long a, long b)
    {
        if (b == 0 && (this == DIV || this == MOD)) {
            return List.of();
        }
        long result = switch (this) {
            case PLUS -> Math.addExact(a, b);
            case MINUS -> Math.subtractExact(a, b);
            case MULTIPLY -> Math.multiplyExact(a, b);
            case DIV -> a / b;
            default -> a % b; // MOD
        };
        return List.of(FhirValues.number(result));
    }

    private static List<Object> union(List<Object> left, List<Object> right)
    {
        List<Object> out = new ArrayList<>(left.size() + right.size());
        for (List<Object> side : List.of(left, right)) {
            for (Object item : side) {
                if (!contains(out, item)) {
                    out.add(item);
                }
            }
        }
        return out;
    }

    private static List<Object> membership(Object item, List<Object> collection)
    {
        return item == null ? List.of() : bool(contains(collection, item));
    }

    private static boolean contains(List<Object> collection, Object item)
    {
        for (Object candidate : collection) {
            if (Boolean.TRUE.equals(Comparison.equal(candidate, item))) {
                return true;
            }
        }
        return false;
    }

    /** {@code &} treats empty as the empty string. */
    private String text(List<Object> operand)
    {
        String text = FhirValues.singletonString(operand, role);
        return text == null ? "" : text;
    }
}
