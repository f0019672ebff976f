package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;

import java.math.BigDecimal;
import java.util.List;

/**
 * A compiled FHIRPath expression: a tree parsed once and then evaluated per row over Jackson nodes.
 * {@code focus} is the collection the expression (or path step) applies to; a path's first step applies to
 * the input, each later step to the result of the one before.
 */
public sealed interface Expression
{
    List<Object> evaluate(List<Object> focus, Scope scope);

    /** A literal, or a view constant: a fixed collection. */
    record Literal(List<Object> value)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return value;
        }
    }

    /** SQL-on-FHIR {@code %rowIndex}. */
    record RowIndex()
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return List.of(IntNode.valueOf(scope.rowIndex()));
        }
    }

    /** {@code %resource}, {@code %rootResource}, {@code %context}: the resource being flattened. */
    record RootResource(String name)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return List.of(scope.resource());
        }
    }

    /** {@code $this}. */
    record This()
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return scope.thisValue();
        }
    }

    /** {@code $index}. */
    record Index()
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return List.of(IntNode.valueOf(scope.index()));
        }
    }

    /** An element name: the children of that name of every focus item. */
    record Member(String name)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return focus.isEmpty() ? List.of() : Navigation.member(focus, name);
        }
    }

    /** {@code name.ofType(type)} compiled to a direct read of {@code name} + type suffix (choice elements). */
    record ChoiceMember(String name, String type, String jsonName)
            implements Expression
    {
        ChoiceMember(String name, String type)
        {
            this(name, type, name + FhirTypes.suffix(type));
        }

        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return focus.isEmpty() ? List.of() : Navigation.choice(focus, name, jsonName, type);
        }
    }

    /** {@code left.right}: {@code right} applies to what {@code left} yields. */
    record Path(Expression left, Expression right)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return right.evaluate(left.evaluate(focus, scope), scope);
        }
    }

    /** {@code target[index]}; the index is evaluated against {@code $this}. */
    record Indexer(Expression target, Expression index)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            Object position = FhirValues.singleton(index.evaluate(scope.thisValue(), scope), "indexer");
            if (position == null) {
                return List.of();
            }
            JsonNode node = FhirValues.node(position);
            if (!node.isIntegralNumber()) {
                throw new FhirPathEvaluationException("indexer expects an integer but got " + FhirValues.kind(position));
            }
            List<Object> items = target.evaluate(focus, scope);
            long i = node.longValue();
            return i >= 0 && i < items.size() ? List.of(items.get((int) i)) : List.of();
        }
    }

    /** Unary minus. */
    record Negate(Expression operand)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            Object item = FhirValues.singleton(operand.evaluate(focus, scope), "unary '-'");
            if (item == null) {
                return List.of();
            }
            JsonNode node = FhirValues.node(item);
            if (!node.isNumber()) {
                throw new FhirPathEvaluationException("unary '-' expects a number but got " + FhirValues.kind(item));
            }
            if (node.isIntegralNumber() && node.canConvertToLong() && node.longValue() != Long.MIN_VALUE) {
                return List.of(FhirValues.number(-node.longValue()));
            }
            BigDecimal negated = FhirValues.decimal(node).negate();
            return List.of(FhirValues.number(negated));
        }
    }

    record Binary(Operator operator, Expression left, Expression right)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return operator.evaluate(left, right, focus, scope);
        }
    }

    /** A function invoked on the focus; {@code typeName} is the argument of ofType()/getReferenceKey(). */
    record FunctionCall(Function function, List<Expression> arguments, String typeName)
            implements Expression
    {
        @Override
        public List<Object> evaluate(List<Object> focus, Scope scope)
        {
            return function.evaluate(this, focus, scope);
        }

        /** A non-iterating argument, evaluated against {@code $this} like any expression outside a path. */
        List<Object> argument(int i, Scope scope)
        {
            return arguments.get(i).evaluate(scope.thisValue(), scope);
        }
    }
}
