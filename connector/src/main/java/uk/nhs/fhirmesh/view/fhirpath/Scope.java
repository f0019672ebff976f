package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * What an expression can see besides its focus: the resource being flattened (for getResourceKey() and
 * %resource), {@code $this} and {@code $index} of the innermost where()/select() or of the view row, and the
 * SQL-on-FHIR {@code %rowIndex}.
 */
public record Scope(JsonNode resource, List<Object> thisValue, int index, int rowIndex)
{
    /** The scope of a view row: {@code $this} is the row's context node. */
    public static Scope of(JsonNode resource, Object context, int rowIndex)
    {
        return new Scope(resource, List.of(context), 0, rowIndex);
    }

    /** The scope of one iteration of a where()/select()/exists() argument. */
    Scope iteration(Object item, int itemIndex)
    {
        return new Scope(resource, List.of(item), itemIndex, rowIndex);
    }
}
