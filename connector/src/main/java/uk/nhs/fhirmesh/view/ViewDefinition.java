package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.databind.JsonNode;
import uk.nhs.fhirmesh.view.fhirpath.Expression;
import uk.nhs.fhirmesh.view.fhirpath.FhirPathEvaluationException;
import uk.nhs.fhirmesh.view.fhirpath.FhirValues;
import uk.nhs.fhirmesh.view.fhirpath.Scope;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A SQL-on-FHIR v2 ViewDefinition, compiled: {@link #evaluate} flattens a FHIR resource (a Jackson tree) into
 * rows without re-reading the view. Immutable and safe to share between threads.
 * <p>
 * Decimals keep their written precision (which lowBoundary()/highBoundary() depend on) when the tree is read
 * with {@code USE_BIG_DECIMAL_FOR_FLOATS} and without {@code STRIP_TRAILING_BIGDECIMAL_ZEROES}; trees from a
 * default ObjectMapper work too, with decimals taken from their shortest double form.
 */
public final class ViewDefinition
{
    /** A {@code where} clause: every one must be true for a resource to give rows. */
    record Where(String path, Expression expression) {}

    private final String name;
    private final String resource;
    private final List<ViewColumn> columns;
    private final Select root;
    private final List<Where> where;

    ViewDefinition(String name, String resource, List<ViewColumn> columns, Select root, List<Where> where)
    {
        this.name = name;
        this.resource = resource;
        this.columns = List.copyOf(columns);
        this.root = root;
        this.where = List.copyOf(where);
    }

    /**
     * Parses and validates a view: structure, names, unique column names, agreeing unionAll branches, and every
     * FHIRPath (syntax, functions, constants).
     *
     * @throws ViewDefinitionException naming the problem, e.g. {@code column 'x': unknown function 'foo'}
     */
    public static ViewDefinition parse(JsonNode json)
    {
        return ViewParser.parse(json);
    }

    public String name()
    {
        return name;
    }

    public String resource()
    {
        return resource;
    }

    /** The output columns in the spec's order: a select's own columns, its nested selects, its unionAll last. */
    public List<ViewColumn> columns()
    {
        return columns;
    }

    /**
     * Flattens one resource into zero or more rows, each aligned with {@link #columns()}: String (every
     * string-like FHIR type, dates included), Boolean, Long (integers), BigDecimal (decimals), the JSON text of
     * a complex value, a List for a collection column (empty when there is nothing), or null. A resource of
     * another type gives no rows.
     *
     * @throws ViewEvaluationException naming the column or clause, e.g. for several values in a non-collection column
     */
    public void evaluate(JsonNode resource, Consumer<Object[]> rowSink)
    {
        JsonNode resourceType = resource == null ? null : resource.get("resourceType");
        if (resourceType == null || !this.resource.equals(resourceType.asText()) || !matchesWhere(resource)) {
            return;
        }
        new RowEmitter(resource, columns.size(), rowSink).emit(root);
    }

    private boolean matchesWhere(JsonNode resource)
    {
        Scope scope = Scope.of(resource, resource, 0);
        for (Where clause : where) {
            List<Object> result;
            try {
                result = clause.expression().evaluate(scope.thisValue(), scope);
            }
            catch (FhirPathEvaluationException e) {
                throw new ViewEvaluationException("where '" + clause.path() + "': " + e.getMessage(), e);
            }
            if (result.isEmpty()) {
                return false;
            }
            Boolean value = FhirValues.booleanValue(result.get(0));
            if (result.size() > 1 || value == null) {
                throw new ViewEvaluationException("where '" + clause.path() + "': must give a single boolean but gave "
                        + (result.size() > 1 ? result.size() + " values" : FhirValues.kind(result.get(0))));
            }
            if (!value) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether column {@code name} is a single value read with exactly the FHIRPath {@code path} from the
     * resource itself: no forEach, forEachOrNull, repeat or unionAll above it, so that every row of a
     * resource carries that resource's value. Row order then follows resource order on that value.
     */
    public boolean readsFromResource(String name, String path)
    {
        return readsFromResource(root, name, path);
    }

    private static boolean readsFromResource(Select select, String name, String path)
    {
        if (select.iteration() != Select.Iteration.NONE) {
            return false;
        }
        for (Select.CompiledColumn column : select.columns()) {
            if (column.name().equals(name)) {
                return !column.collection() && column.pathText().equals(path);
            }
        }
        return select.selects().stream().anyMatch(nested -> readsFromResource(nested, name, path));
    }

    /**
     * Whether every resource of the view's type gives exactly one row: no where clause, and no forEach,
     * forEachOrNull, repeat or unionAll at any level (nested plain selects multiply rows by one). The number of
     * rows is then the number of resources, which a FHIR server can count without sending them.
     */
    public boolean oneRowPerResource()
    {
        return where.isEmpty() && oneRowPerContext(root);
    }

    private static boolean oneRowPerContext(Select select)
    {
        return select.iteration() == Select.Iteration.NONE && select.unionAll().isEmpty()
                && select.selects().stream().allMatch(ViewDefinition::oneRowPerContext);
    }

    /** Every FHIRPath column {@code name} is read with, as written (trimmed): one, or one per unionAll branch. */
    public List<String> columnPaths(String name)
    {
        List<String> paths = new ArrayList<>();
        collectPaths(root, name, paths);
        return List.copyOf(paths);
    }

    private static void collectPaths(Select select, String name, List<String> paths)
    {
        for (Select.CompiledColumn column : select.columns()) {
            if (column.name().equals(name)) {
                paths.add(column.pathText());
            }
        }
        select.selects().forEach(nested -> collectPaths(nested, name, paths));
        select.unionAll().forEach(branch -> collectPaths(branch, name, paths));
    }

    /**
     * The top-level elements of the resource that the given columns read, together with everything that decides
     * which rows exist (all where clauses, and every forEach/forEachOrNull/repeat path in the view): the safe
     * content of a FHIR {@code _elements} parameter. Choice elements appear by their base name ({@code value}).
     * Empty when that cannot be worked out safely (e.g. a path using {@code %resource}).
     *
     * @throws IllegalArgumentException for a name that is not a column of this view
     */
    public Optional<Set<String>> topLevelElements(Collection<String> columnNames)
    {
        return RequiredElements.of(this, root, where, columnNames);
    }
}
