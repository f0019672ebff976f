package uk.nhs.fhirmesh.mapping;

import uk.nhs.fhirmesh.view.ViewColumn;

import java.util.Locale;
import java.util.Map;

/**
 * The SQL kind of a view column, from its FHIR type or an {@code ansi/type} tag. SQL-on-FHIR suggests
 * strings for dates and decimals; analysts need real dates, timestamps and numbers to filter and
 * aggregate, so typed columns become typed SQL (connector-spec/README.md lists the mapping).
 * For a collection column this is the kind of its elements.
 */
public final class ColumnTypes
{
    private static final Map<String, String> BY_FHIR_TYPE = Map.ofEntries(
            Map.entry("boolean", "boolean"),
            Map.entry("integer", "integer"),
            Map.entry("positiveint", "integer"),
            Map.entry("unsignedint", "integer"),
            Map.entry("integer64", "bigint"),
            Map.entry("decimal", "double"),
            Map.entry("date", "date"),
            Map.entry("datetime", "timestamp"),
            Map.entry("instant", "timestamp"));

    private static final Map<String, String> BY_ANSI_TYPE = Map.ofEntries(
            Map.entry("BOOLEAN", "boolean"),
            Map.entry("INTEGER", "integer"),
            Map.entry("INT", "integer"),
            Map.entry("BIGINT", "bigint"),
            Map.entry("DOUBLE", "double"),
            Map.entry("DATE", "date"),
            Map.entry("TIMESTAMP WITH TIME ZONE", "timestamp"),
            Map.entry("VARCHAR", "varchar"),
            Map.entry("CHARACTER VARYING", "varchar"));

    private ColumnTypes() {}

    public static String kindOf(ViewColumn column)
    {
        String ansi = column.tags().get("ansi/type");
        if (ansi != null) {
            String kind = BY_ANSI_TYPE.get(ansi.trim().toUpperCase(Locale.ROOT));
            if (kind == null) {
                throw new MappingException("column '" + column.name() + "': unsupported ansi/type '" + ansi + "' (supported: " + BY_ANSI_TYPE.keySet() + ")");
            }
            return kind;
        }
        if (column.type() == null) {
            return "varchar";
        }
        return BY_FHIR_TYPE.getOrDefault(column.type().toLowerCase(Locale.ROOT), "varchar");
    }
}
