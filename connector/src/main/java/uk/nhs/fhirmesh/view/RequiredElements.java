package uk.nhs.fhirmesh.view;

import uk.nhs.fhirmesh.view.Select.CompiledColumn;
import uk.nhs.fhirmesh.view.fhirpath.ElementUsage;
import uk.nhs.fhirmesh.view.fhirpath.Expression;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Works out {@link ViewDefinition#topLevelElements}. Requested columns count, and so does everything that
 * decides how many rows a resource gives: leaving out an element a forEach reads would drop rows, not just
 * blank a column.
 */
final class RequiredElements
{
    private final Set<String> columns;
    private final ElementUsage usage = new ElementUsage();

    private RequiredElements(Set<String> columns)
    {
        this.columns = columns;
    }

    static Optional<Set<String>> of(ViewDefinition view, Select root, List<ViewDefinition.Where> where, Collection<String> columnNames)
    {
        Set<String> known = Set.copyOf(view.columns().stream().map(ViewColumn::name).toList());
        for (String name : columnNames) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("the view has no column '" + name + "'");
            }
        }
        RequiredElements required = new RequiredElements(Set.copyOf(columnNames));
        for (ViewDefinition.Where clause : where) {
            required.usage.addValue(clause.expression(), true);
        }
        required.visit(root, true);
        return required.usage.elements();
    }

    /** @param contextIsResource whether the select's context may be the resource itself rather than a node inside it */
    private void visit(Select select, boolean contextIsResource)
    {
        boolean itemsAreResource = contextIsResource;
        if (select.iteration() != Select.Iteration.NONE) {
            itemsAreResource = false;
            for (Expression path : select.iterationPaths()) {
                itemsAreResource |= usage.addIteration(path, contextIsResource);
            }
        }
        for (CompiledColumn column : select.columns()) {
            if (columns.contains(column.name())) {
                usage.addValue(column.path(), itemsAreResource);
            }
        }
        for (Select child : select.selects()) {
            visit(child, itemsAreResource);
        }
        for (Select branch : select.unionAll()) {
            visit(branch, itemsAreResource);
        }
    }
}
