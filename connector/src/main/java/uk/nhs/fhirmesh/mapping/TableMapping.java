package uk.nhs.fhirmesh.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import uk.nhs.fhirmesh.view.ViewColumn;
import uk.nhs.fhirmesh.view.ViewDefinition;
import uk.nhs.fhirmesh.view.ViewDefinitionException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * One table: a ViewDefinition plus its search bindings, as read from {@code sql-mappings/<table>.json}
 * (contract: connector-spec/mapping.schema.json).
 *
 * @param domains the domain codes (upper case, as the catalog's {@code fhir.domains} keys them, in file
 * order) the table may be read from; empty when the mapping names none, meaning every domain of the catalog
 */
public record TableMapping(String table, String description, ViewDefinition view, Map<String, ColumnBinding> bindings, Optional<List<String>> domains)
{
    /** The connector's own column: which domain (endpoint) a row came from. Views may not define it. */
    public static final String DOMAIN_COLUMN = "domain";

    private static final Pattern TABLE_NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    static final Set<String> TOP_LEVEL_KEYS = Set.of("table", "description", "view", "bindings", "domains");
    /** As FhirConfig accepts in fhir.domains, which also upper-cases them. */
    static final Pattern DOMAIN_CODE = Pattern.compile("[A-Za-z0-9]+");
    private static final Set<String> BINDING_KEYS = Set.of("param", "type", "system", "target");
    private static final Pattern PARAM = Pattern.compile("[A-Za-z_][A-Za-z0-9_.:-]*");
    private static final Pattern RESOURCE_TYPE = Pattern.compile("[A-Z][A-Za-z]+");

    public TableMapping
    {
        requireNonNull(table, "table");
        requireNonNull(view, "view");
        bindings = Map.copyOf(bindings);
        domains = requireNonNull(domains, "domains").map(List::copyOf);
    }

    /** A table read from every domain of the catalog. */
    public TableMapping(String table, String description, ViewDefinition view, Map<String, ColumnBinding> bindings)
    {
        this(table, description, view, bindings, Optional.empty());
    }

    public Optional<ColumnBinding> binding(String column)
    {
        return Optional.ofNullable(bindings.get(column));
    }

    public Optional<ViewColumn> column(String name)
    {
        return view.columns().stream().filter(column -> column.name().equals(name)).findFirst();
    }

    /** Parses and validates a mapping; {@code source} (a file name) prefixes every error message. */
    public static TableMapping parse(JsonNode json, String source)
    {
        if (json == null || !json.isObject()) {
            throw new MappingException(source + ": a mapping must be a JSON object");
        }
        for (Iterator<String> keys = json.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!TOP_LEVEL_KEYS.contains(key)) {
                throw new MappingException(source + ": unknown property '" + key + "' (allowed: " + TOP_LEVEL_KEYS + ")");
            }
        }
        String table = text(json, "table", source);
        if (!TABLE_NAME.matcher(table).matches()) {
            throw new MappingException(source + ": table name '" + table + "' must match " + TABLE_NAME.pattern());
        }
        ViewDefinition view;
        try {
            view = ViewDefinition.parse(json.get("view"));
        }
        catch (ViewDefinitionException e) {
            throw new MappingException(source + ": invalid ViewDefinition: " + e.getMessage(), e);
        }
        for (ViewColumn column : view.columns()) {
            if (column.name().toLowerCase(Locale.ROOT).equals(DOMAIN_COLUMN)) {
                throw new MappingException(source + ": column '" + column.name() + "' clashes with the connector's own column '" + DOMAIN_COLUMN + "'");
            }
            if (!column.name().equals(column.name().toLowerCase(Locale.ROOT))) {
                throw new MappingException(source + ": column '" + column.name() + "' must be lower case (Trino folds identifiers)");
            }
        }
        Map<String, ColumnBinding> bindings = new LinkedHashMap<>();
        JsonNode bindingsJson = json.get("bindings");
        if (bindingsJson == null || !bindingsJson.isObject()) {
            throw new MappingException(source + ": 'bindings' must be an object of column -> search parameter");
        }
        for (Iterator<Map.Entry<String, JsonNode>> fields = bindingsJson.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String column = field.getKey();
            ViewColumn viewColumn = view.columns().stream().filter(c -> c.name().equals(column)).findFirst()
                    .orElseThrow(() -> new MappingException(source + ": binding for unknown column '" + column + "'"));
            bindings.put(column, parseBinding(field.getValue(), viewColumn, source + ": binding of column '" + column + "'"));
        }
        String description = json.hasNonNull("description") ? json.get("description").asText() : "";
        Optional<List<String>> domains = json.has("domains") ? Optional.of(parseDomains(json.get("domains"), source + ": 'domains' of table '" + table + "'")) : Optional.empty();
        return new TableMapping(table, description, view, bindings, domains);
    }

    /** Strict, because a typo here would widen or empty the endpoints a data product is read from. */
    private static List<String> parseDomains(JsonNode json, String where)
    {
        if (!json.isArray() || json.isEmpty()) {
            throw new MappingException(where + " must be a non-empty array of domain codes (omit it to read every domain of the catalog)");
        }
        List<String> domains = new ArrayList<>();
        for (JsonNode value : json) {
            if (!value.isTextual() || !DOMAIN_CODE.matcher(value.asText()).matches()) {
                throw new MappingException(where + ": " + value + " is not a domain code (letters and digits, e.g. RX1)");
            }
            String code = value.asText().toUpperCase(Locale.ROOT);
            if (domains.contains(code)) {
                throw new MappingException(where + ": domain " + code + " is listed twice");
            }
            domains.add(code);
        }
        return domains;
    }

    private static ColumnBinding parseBinding(JsonNode json, ViewColumn column, String where)
    {
        if (!json.isObject()) {
            throw new MappingException(where + ": must be an object");
        }
        for (Iterator<String> keys = json.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!BINDING_KEYS.contains(key)) {
                throw new MappingException(where + ": unknown property '" + key + "'");
            }
        }
        String param = text(json, "param", where);
        if (!PARAM.matcher(param).matches()) {
            throw new MappingException(where + ": invalid search parameter name '" + param + "'");
        }
        String type = text(json, "type", where);
        ColumnBinding.Kind kind;
        try {
            kind = ColumnBinding.Kind.valueOf(type.toUpperCase(Locale.ROOT));
        }
        catch (IllegalArgumentException e) {
            throw new MappingException(where + ": unknown binding type '" + type + "' (token, date, reference, string, quantity)");
        }
        String system = json.hasNonNull("system") ? json.get("system").asText() : null;
        String target = json.hasNonNull("target") ? json.get("target").asText() : null;
        if (system != null && kind != ColumnBinding.Kind.TOKEN) {
            throw new MappingException(where + ": 'system' is only allowed on token bindings");
        }
        if (kind == ColumnBinding.Kind.REFERENCE && (target == null || !RESOURCE_TYPE.matcher(target).matches())) {
            throw new MappingException(where + ": a reference binding needs 'target', a resource type such as Patient");
        }
        if (kind != ColumnBinding.Kind.REFERENCE && target != null) {
            throw new MappingException(where + ": 'target' is only allowed on reference bindings");
        }
        checkColumnType(kind, column, where);
        return new ColumnBinding(param, kind, system, target);
    }

    /** A binding must fit the column's SQL type, or the translator could not read the predicate's values. */
    private static void checkColumnType(ColumnBinding.Kind kind, ViewColumn column, String where)
    {
        String sqlKind = ColumnTypes.kindOf(column);
        boolean fits = switch (kind) {
            case TOKEN, REFERENCE, STRING -> sqlKind.equals("varchar");
            case DATE -> sqlKind.equals("date") || sqlKind.equals("timestamp");
            case QUANTITY -> sqlKind.equals("double");
        };
        if (!fits) {
            throw new MappingException(where + ": a " + kind.name().toLowerCase(Locale.ROOT) + " binding does not fit a column of FHIR type '" + column.type() + "'" + (column.collection() ? " (collection)" : ""));
        }
    }

    private static String text(JsonNode json, String field, String where)
    {
        JsonNode value = json.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw new MappingException(where + ": '" + field + "' is required and must be a non-empty string");
        }
        return value.asText();
    }
}
