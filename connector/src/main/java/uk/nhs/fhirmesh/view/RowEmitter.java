package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.databind.JsonNode;
import uk.nhs.fhirmesh.view.Select.CompiledColumn;
import uk.nhs.fhirmesh.view.fhirpath.Expression;
import uk.nhs.fhirmesh.view.fhirpath.FhirPathEvaluationException;
import uk.nhs.fhirmesh.view.fhirpath.FhirValues;
import uk.nhs.fhirmesh.view.fhirpath.Scope;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * Flattens one resource. The rows of a select are the Cartesian product of its parts (own columns, each nested
 * select, the unionAll branches); rather than materialise each part's partial rows, every part writes its slots
 * into one shared row and calls on to the next part, and the last part hands a copy of the row to the sink.
 * One instance per resource: it holds that resource's row.
 */
final class RowEmitter
{
    /** Guards repeat against a path that never ends (such as {@code $this}); real FHIR nests far less. */
    private static final int MAX_REPEAT_DEPTH = 256;

    private final JsonNode resource;
    private final Object[] row;
    private final Consumer<Object[]> sink;

    RowEmitter(JsonNode resource, int width, Consumer<Object[]> sink)
    {
        this.resource = resource;
        this.row = new Object[width];
        this.sink = sink;
    }

    void emit(Select root)
    {
        select(root, resource, 0, () -> sink.accept(row.clone()));
    }

    private void select(Select select, Object context, int rowIndex, Runnable next)
    {
        if (select.iteration() == Select.Iteration.NONE) {
            body(select, context, rowIndex, next);
            return;
        }
        List<Object> items = select.iteration() == Select.Iteration.REPEAT
                ? repeat(select, context, rowIndex)
                : iterate(select, select.iterationPaths().get(0), Scope.of(resource, context, rowIndex));
        if (items.isEmpty() && select.iteration() == Select.Iteration.FOR_EACH_OR_NULL) {
            for (int slot : select.nullSlots()) {
                row[slot] = null;
            }
            for (int slot : select.rowIndexSlots()) {
                row[slot] = 0L;
            }
            next.run();
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            body(select, items.get(i), i, next);
        }
    }

    private void body(Select select, Object context, int rowIndex, Runnable next)
    {
        Scope scope = Scope.of(resource, context, rowIndex);
        for (CompiledColumn column : select.columns()) {
            row[column.slot()] = value(column, scope);
        }
        parts(select, 0, context, rowIndex, next);
    }

    /** Emits the product of the nested selects from {@code part} on, then the unionAll branches, then {@code next}. */
    private void parts(Select select, int part, Object context, int rowIndex, Runnable next)
    {
        if (part < select.selects().size()) {
            select(select.selects().get(part), context, rowIndex, () -> parts(select, part + 1, context, rowIndex, next));
        }
        else if (!select.unionAll().isEmpty()) {
            for (Select branch : select.unionAll()) {
                select(branch, context, rowIndex, next);
            }
        }
        else {
            next.run();
        }
    }

    /** Depth-first, parents before children, paths in order: the order %rowIndex numbers them in. */
    private List<Object> repeat(Select select, Object context, int rowIndex)
    {
        List<Object> out = new ArrayList<>();
        descend(select, context, rowIndex, out, 0);
        return out;
    }

    private void descend(Select select, Object node, int rowIndex, List<Object> out, int depth)
    {
        if (depth > MAX_REPEAT_DEPTH) {
            throw new ViewEvaluationException(select.location() + ".repeat: nesting deeper than " + MAX_REPEAT_DEPTH + " levels");
        }
        Scope scope = Scope.of(resource, node, rowIndex);
        for (Expression path : select.iterationPaths()) {
            for (Object child : iterate(select, path, scope)) {
                out.add(child);
                descend(select, child, rowIndex, out, depth + 1);
            }
        }
    }

    private static List<Object> iterate(Select select, Expression path, Scope scope)
    {
        try {
            return path.evaluate(scope.thisValue(), scope);
        }
        catch (FhirPathEvaluationException e) {
            throw new ViewEvaluationException(select.location() + " (" + select.iteration().key() + "): " + e.getMessage(), e);
        }
    }

    private static Object value(CompiledColumn column, Scope scope)
    {
        List<Object> values;
        try {
            values = column.path().evaluate(scope.thisValue(), scope);
        }
        catch (FhirPathEvaluationException e) {
            throw new ViewEvaluationException("column '" + column.name() + "': " + e.getMessage(), e);
        }
        if (column.collection()) {
            List<Object> out = new ArrayList<>(values.size());
            for (Object value : values) {
                out.add(FhirValues.toColumnValue(value));
            }
            // Rows emitted for the parts after this column share the list.
            return Collections.unmodifiableList(out);
        }
        if (values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw new ViewEvaluationException("column '" + column.name() + "': " + values.size()
                    + " values found but the column is not a collection (set collection: true, or pick one with first() or where())");
        }
        return FhirValues.toColumnValue(values.get(0));
    }
}
