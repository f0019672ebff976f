package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.databind.JsonNode;
import uk.nhs.fhirmesh.view.Select.CompiledColumn;
import uk.nhs.fhirmesh.view.Select.Iteration;
import uk.nhs.fhirmesh.view.fhirpath.Expression;
import uk.nhs.fhirmesh.view.fhirpath.FhirPathException;
import uk.nhs.fhirmesh.view.fhirpath.Parser;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and validates a ViewDefinition's JSON, compiling every FHIRPath once. Column slots follow the spec's
 * column order: a select's own columns, then its nested selects, then its unionAll columns.
 */
final class ViewParser
{
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final Pattern RESOURCE_TYPE = Pattern.compile("[A-Z][A-Za-z]*");
    private static final String ROW_INDEX = "%rowIndex";

    private final Map<String, List<Object>> constants;

    private ViewParser(Map<String, List<Object>> constants)
    {
        this.constants = constants;
    }

    static ViewDefinition parse(JsonNode json)
    {
        if (json == null || !json.isObject()) {
            throw new ViewDefinitionException("a ViewDefinition must be a JSON object");
        }
        JsonNode resource = json.get("resource");
        if (resource == null || !resource.isTextual() || !RESOURCE_TYPE.matcher(resource.textValue()).matches()) {
            throw new ViewDefinitionException("'resource' is required and must be a FHIR resource type such as Patient");
        }
        String name = json.hasNonNull("name") ? name(json, "view") : null;
        ViewParser parser = new ViewParser(ViewConstants.parse(json.get("constant")));
        List<ViewDefinition.Where> where = parser.where(json.get("where"));
        JsonNode selects = json.get("select");
        if (selects == null || !selects.isArray() || selects.isEmpty()) {
            throw new ViewDefinitionException("'select' is required and must be a non-empty array");
        }
        List<ViewColumn> columns = new ArrayList<>();
        List<Select> children = new ArrayList<>();
        for (int i = 0; i < selects.size(); i++) {
            children.add(parser.select(selects.get(i), "select[" + i + "]", columns, 0));
        }
        checkUnique(columns);
        Select root = new Select(Iteration.NONE, List.of(), List.of(), List.copyOf(children), List.of(), "view", new int[0], new int[0]);
        return new ViewDefinition(name, resource.textValue(), columns, root, where);
    }

    /** A required sql-name property {@code name} of {@code json}. */
    static String name(JsonNode json, String where)
    {
        JsonNode name = json == null ? null : json.get("name");
        if (name == null || !name.isTextual()) {
            throw new ViewDefinitionException(where + ": 'name' is required and must be a string");
        }
        if (!NAME.matcher(name.textValue()).matches()) {
            throw new ViewDefinitionException(where + ": name '" + name.textValue() + "' must match " + NAME.pattern());
        }
        return name.textValue();
    }

    private List<ViewDefinition.Where> where(JsonNode json)
    {
        List<ViewDefinition.Where> clauses = new ArrayList<>();
        if (json == null) {
            return clauses;
        }
        if (!json.isArray()) {
            throw new ViewDefinitionException("'where' must be an array");
        }
        for (int i = 0; i < json.size(); i++) {
            String path = path(json.get(i), "path", "where[" + i + "]");
            clauses.add(new ViewDefinition.Where(path, compile(path, "where '" + path + "'")));
        }
        return List.copyOf(clauses);
    }

    /**
     * Compiles one select. Its columns are appended to {@code out}; a column's slot is {@code base} plus its
     * position in {@code out}.
     */
    private Select select(JsonNode json, String location, List<ViewColumn> out, int base)
    {
        if (json == null || !json.isObject()) {
            throw new ViewDefinitionException(location + ": a select must be an object");
        }
        Iteration iteration = Iteration.NONE;
        List<Expression> iterationPaths = List.of();
        for (Iteration kind : List.of(Iteration.FOR_EACH, Iteration.FOR_EACH_OR_NULL, Iteration.REPEAT)) {
            String key = kind.key();
            if (!json.has(key)) {
                continue;
            }
            if (iteration != Iteration.NONE) {
                throw new ViewDefinitionException(location + ": only one of forEach, forEachOrNull and repeat is allowed");
            }
            iteration = kind;
            if (kind == Iteration.REPEAT) {
                iterationPaths = repeatPaths(json.get(key), location);
            }
            else {
                String path = path(json, key, location);
                iterationPaths = List.of(compile(path, location + "." + key + " '" + path + "'"));
            }
        }

        List<CompiledColumn> columns = new ArrayList<>();
        for (JsonNode column : array(json, "column", location)) {
            columns.add(column(column, location + ".column[" + columns.size() + "]", out, base));
        }
        List<Select> selects = new ArrayList<>();
        for (JsonNode nested : array(json, "select", location)) {
            selects.add(select(nested, location + ".select[" + selects.size() + "]", out, base));
        }
        List<Select> unionAll = unionAll(json, location, out, base);

        Set<Integer> slots = new HashSet<>();
        Set<Integer> rowIndexSlots = new HashSet<>();
        columns.forEach(column -> {
            slots.add(column.slot());
            if (column.isRowIndex()) {
                rowIndexSlots.add(column.slot());
            }
        });
        for (Select child : concat(selects, unionAll)) {
            Arrays.stream(child.nullSlots()).forEach(slots::add);
            Arrays.stream(child.rowIndexSlots()).forEach(rowIndexSlots::add);
        }
        return new Select(iteration, iterationPaths, List.copyOf(columns), List.copyOf(selects), unionAll, location,
                sorted(slots), sorted(rowIndexSlots));
    }

    private CompiledColumn column(JsonNode json, String location, List<ViewColumn> out, int base)
    {
        String name = name(json, location);
        String where = "column '" + name + "'";
        String path = path(json, "path", where);
        JsonNode collection = json.get("collection");
        if (collection != null && !collection.isBoolean()) {
            throw new ViewDefinitionException(where + ": 'collection' must be true or false");
        }
        JsonNode type = json.get("type");
        if (type != null && !type.isTextual()) {
            throw new ViewDefinitionException(where + ": 'type' must be a string");
        }
        Map<String, String> tags = new LinkedHashMap<>();
        for (JsonNode tag : array(json, "tag", where)) {
            JsonNode tagName = tag.get("name");
            JsonNode tagValue = tag.get("value");
            if (tagName == null || !tagName.isTextual() || tagValue == null || !tagValue.isTextual()) {
                throw new ViewDefinitionException(where + ": a tag needs a string 'name' and 'value'");
            }
            tags.put(tagName.textValue(), tagValue.textValue());
        }
        boolean isCollection = collection != null && collection.booleanValue();
        int slot = base + out.size();
        out.add(new ViewColumn(name, type == null ? null : type.textValue(), isCollection, tags));
        return new CompiledColumn(name, slot, path.trim(), compile(path, where), isCollection, path.trim().equals(ROW_INDEX));
    }

    /** Every branch is compiled into the same slots; they must agree on names, order, types and collection. */
    private List<Select> unionAll(JsonNode json, String location, List<ViewColumn> out, int base)
    {
        List<JsonNode> branches = array(json, "unionAll", location);
        if (branches.isEmpty()) {
            return List.of();
        }
        List<Select> compiled = new ArrayList<>();
        List<ViewColumn> first = null;
        for (JsonNode branch : branches) {
            List<ViewColumn> branchColumns = new ArrayList<>();
            compiled.add(select(branch, location + ".unionAll[" + compiled.size() + "]", branchColumns, base + out.size()));
            if (first == null) {
                first = branchColumns;
            }
            else {
                checkSameColumns(first, branchColumns, compiled.size() - 1, location);
            }
        }
        out.addAll(first);
        return List.copyOf(compiled);
    }

    private static void checkSameColumns(List<ViewColumn> first, List<ViewColumn> other, int branch, String location)
    {
        List<String> firstNames = first.stream().map(ViewColumn::name).toList();
        List<String> otherNames = other.stream().map(ViewColumn::name).toList();
        if (!firstNames.equals(otherNames)) {
            throw new ViewDefinitionException("unionAll branches differ: " + location + ".unionAll[" + branch + "] has columns " + otherNames
                    + " but unionAll[0] has " + firstNames + " (names and order must match)");
        }
        for (int i = 0; i < first.size(); i++) {
            ViewColumn a = first.get(i);
            ViewColumn b = other.get(i);
            boolean typesDiffer = a.type() != null && b.type() != null && !a.type().equals(b.type());
            if (typesDiffer || a.collection() != b.collection()) {
                throw new ViewDefinitionException("unionAll branches differ: column '" + a.name() + "' is "
                        + describe(a) + " in unionAll[0] but " + describe(b) + " in unionAll[" + branch + "] of " + location);
            }
        }
    }

    private static String describe(ViewColumn column)
    {
        return (column.type() == null ? "untyped" : column.type()) + (column.collection() ? " (collection)" : "");
    }

    private List<Expression> repeatPaths(JsonNode json, String location)
    {
        if (!json.isArray() || json.isEmpty()) {
            throw new ViewDefinitionException(location + ": 'repeat' must be a non-empty array of FHIRPath strings");
        }
        List<Expression> paths = new ArrayList<>();
        for (JsonNode path : json) {
            if (!path.isTextual()) {
                throw new ViewDefinitionException(location + ": 'repeat' must be a non-empty array of FHIRPath strings");
            }
            paths.add(compile(path.textValue(), location + ".repeat '" + path.textValue() + "'"));
        }
        return List.copyOf(paths);
    }

    private Expression compile(String path, String where)
    {
        try {
            return Parser.parse(path, constants);
        }
        catch (FhirPathException e) {
            throw new ViewDefinitionException(where + ": " + e.getMessage(), e);
        }
    }

    private static String path(JsonNode json, String key, String where)
    {
        JsonNode path = json == null ? null : json.get(key);
        if (path == null || !path.isTextual() || path.textValue().isBlank()) {
            throw new ViewDefinitionException(where + ": '" + key + "' must be a FHIRPath string");
        }
        return path.textValue();
    }

    private static List<JsonNode> array(JsonNode json, String key, String where)
    {
        JsonNode value = json.get(key);
        if (value == null) {
            return List.of();
        }
        if (!value.isArray()) {
            throw new ViewDefinitionException(where + ": '" + key + "' must be an array");
        }
        List<JsonNode> items = new ArrayList<>();
        value.forEach(items::add);
        return items;
    }

    private static void checkUnique(List<ViewColumn> columns)
    {
        Set<String> seen = new HashSet<>();
        for (ViewColumn column : columns) {
            if (!seen.add(column.name())) {
                throw new ViewDefinitionException("column '" + column.name() + "' is defined more than once");
            }
        }
    }

    private static List<Select> concat(List<Select> a, List<Select> b)
    {
        List<Select> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static int[] sorted(Set<Integer> slots)
    {
        return slots.stream().mapToInt(Integer::intValue).sorted().toArray();
    }
}
