package uk.nhs.fhirmesh.trino;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A server answering {@code _elements} marks each resource with the meta.tag SUBSETTED. The tag describes
 * the response, not the stored resource, so it is removed before flattening: a view over meta.tag gives
 * the same rows with projection pushdown on and off.
 */
final class SubsettedTag
{
    private static final String SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
    private static final String CODE = "SUBSETTED";

    private SubsettedTag() {}

    static void remove(JsonNode resource)
    {
        if (!(resource.get("meta") instanceof ObjectNode meta) || !(meta.get("tag") instanceof ArrayNode tags)) {
            return;
        }
        for (int i = tags.size() - 1; i >= 0; i--) {
            JsonNode tag = tags.get(i);
            if (SYSTEM.equals(tag.path("system").asText()) && CODE.equals(tag.path("code").asText())) {
                tags.remove(i);
            }
        }
        if (tags.isEmpty()) {
            meta.remove("tag");
        }
    }
}
