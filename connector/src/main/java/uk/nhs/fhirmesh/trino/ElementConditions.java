package uk.nhs.fhirmesh.trino;

import io.airlift.slice.Slice;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.expression.Call;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Constant;
import io.trino.spi.expression.FunctionName;
import io.trino.spi.expression.Variable;
import io.trino.spi.type.ArrayType;
import uk.nhs.fhirmesh.search.SearchTranslator.ElementCondition;
import uk.nhs.fhirmesh.search.SearchValues;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.trino.spi.expression.StandardFunctions.AND_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.NOT_FUNCTION_NAME;

/**
 * Finds {@code contains(array_column, 'code')} and {@code NOT contains(...)} among the top-level
 * conjuncts of Trino's filter expression: the form security-label filters take (the gateway injects
 * them), and the one predicate on collection columns FHIR search can express ({@code _security=},
 * {@code _security:not=}). Anything else is left to Trino.
 */
final class ElementConditions
{
    private static final FunctionName CONTAINS = new FunctionName("contains");

    private ElementConditions() {}

    static List<ElementCondition> extract(ConnectorExpression expression, Map<String, ColumnHandle> assignments)
    {
        List<ElementCondition> conditions = new ArrayList<>();
        for (ConnectorExpression conjunct : conjuncts(expression)) {
            boolean negated = conjunct instanceof Call not && not.getFunctionName().equals(NOT_FUNCTION_NAME) && not.getArguments().size() == 1;
            ConnectorExpression candidate = negated ? ((Call) conjunct).getArguments().getFirst() : conjunct;
            contains(candidate, assignments).ifPresent(found -> conditions.add(new ElementCondition(found.column(), found.value(), negated)));
        }
        return conditions;
    }

    private static Optional<ElementCondition> contains(ConnectorExpression expression, Map<String, ColumnHandle> assignments)
    {
        if (!(expression instanceof Call call) || !call.getFunctionName().equals(CONTAINS) || call.getArguments().size() != 2) {
            return Optional.empty();
        }
        if (!(call.getArguments().get(0) instanceof Variable variable) || !(call.getArguments().get(1) instanceof Constant constant)) {
            return Optional.empty();
        }
        if (!(variable.getType() instanceof ArrayType) || !(constant.getValue() instanceof Slice value)) {
            return Optional.empty();
        }
        ColumnHandle column = assignments.get(variable.getName());
        if (!(column instanceof FhirColumnHandle fhirColumn)) {
            return Optional.empty();
        }
        // Bytes that are not UTF-8 would decode to U+FFFD, another value: such a condition stays with Trino.
        return SearchValues.text(value).map(text -> new ElementCondition(fhirColumn.name(), text, false));
    }

    private static List<ConnectorExpression> conjuncts(ConnectorExpression expression)
    {
        if (expression instanceof Call call && call.getFunctionName().equals(AND_FUNCTION_NAME)) {
            List<ConnectorExpression> all = new ArrayList<>();
            call.getArguments().forEach(argument -> all.addAll(conjuncts(argument)));
            return all;
        }
        return List.of(expression);
    }
}
