package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;

import static java.util.Objects.requireNonNull;

/**
 * A JSON value whose FHIR type is known, e.g. {@code valueDateTime} read through the choice element {@code value},
 * a typed constant or a date literal. Plain resource content stays a bare {@link JsonNode}: JSON alone cannot tell a
 * date from a string, and the type decides ofType(), date comparison and lowBoundary()/highBoundary().
 */
public record TypedNode(JsonNode node, String type)
{
    public TypedNode
    {
        requireNonNull(node, "node");
        requireNonNull(type, "type");
    }
}
