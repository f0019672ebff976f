package uk.nhs.fhirmesh.mapping;

import static java.util.Objects.requireNonNull;

/**
 * The FHIR search parameter a view column binds to (the {@code bindings} of a mapping file). A binding
 * only lets the connector narrow a search; Trino still evaluates every predicate (see
 * connector-spec/pushdown-rules.md).
 *
 * @param system token only: the code system of the column's codes, sent as {@code system|code}; may be null
 * @param target reference only: the referenced resource type, sent as {@code Target/id}; null otherwise
 */
public record ColumnBinding(String param, Kind kind, String system, String target)
{
    public enum Kind
    {
        TOKEN, DATE, REFERENCE, STRING, QUANTITY
    }

    public ColumnBinding
    {
        requireNonNull(param, "param");
        requireNonNull(kind, "kind");
    }
}
