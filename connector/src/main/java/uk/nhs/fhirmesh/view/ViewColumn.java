package uk.nhs.fhirmesh.view;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * One output column of a view.
 *
 * @param type the FHIR type code given in the view ({@code string}, {@code dateTime}, ...), or null
 * @param collection whether the column holds a list of values ({@code collection: true})
 * @param tags the column's {@code tag} entries, name to value (e.g. {@code ansi/type} -> {@code DATE})
 */
public record ViewColumn(String name, String type, boolean collection, Map<String, String> tags)
{
    public ViewColumn
    {
        requireNonNull(name, "name");
        tags = Map.copyOf(tags);
    }
}
