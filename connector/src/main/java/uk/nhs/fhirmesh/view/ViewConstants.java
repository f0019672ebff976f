package uk.nhs.fhirmesh.view;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import uk.nhs.fhirmesh.view.fhirpath.TypedNode;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The view's {@code constant[]}: name plus one {@code value[x]}, as FHIRPath values for {@code %name}. */
final class ViewConstants
{
    private static final Set<String> STRING_TYPES = Set.of("base64Binary", "canonical", "code", "date", "dateTime", "id",
            "instant", "oid", "string", "time", "uri", "url", "uuid");
    private static final Set<String> INTEGER_TYPES = Set.of("integer", "positiveInt", "unsignedInt");

    private ViewConstants() {}

    static Map<String, List<Object>> parse(JsonNode json)
    {
        Map<String, List<Object>> constants = new HashMap<>();
        if (json == null) {
            return constants;
        }
        if (!json.isArray()) {
            throw new ViewDefinitionException("'constant' must be an array");
        }
        for (int i = 0; i < json.size(); i++) {
            JsonNode constant = json.get(i);
            String name = ViewParser.name(constant, "constant[" + i + "]");
            String where = "constant '" + name + "'";
            if (constants.containsKey(name)) {
                throw new ViewDefinitionException(where + " is defined more than once");
            }
            constants.put(name, List.of(value(constant, where)));
        }
        return constants;
    }

    private static TypedNode value(JsonNode constant, String where)
    {
        TypedNode value = null;
        for (Iterator<Map.Entry<String, JsonNode>> fields = constant.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!field.getKey().startsWith("value") || field.getKey().length() == "value".length()) {
                continue;
            }
            if (value != null) {
                throw new ViewDefinitionException(where + " has more than one value[x]");
            }
            String suffix = field.getKey().substring("value".length());
            String type = Character.toLowerCase(suffix.charAt(0)) + suffix.substring(1);
            value = typed(field.getKey(), type, field.getValue(), where);
        }
        if (value == null) {
            throw new ViewDefinitionException(where + " has no value (one value[x] such as valueString is required)");
        }
        return value;
    }

    private static TypedNode typed(String key, String type, JsonNode value, String where)
    {
        boolean valid;
        if (STRING_TYPES.contains(type)) {
            valid = value.isTextual();
        }
        else if (INTEGER_TYPES.contains(type)) {
            valid = value.isIntegralNumber();
        }
        else if (type.equals("integer64")) {
            // FHIR JSON writes integer64 as a string, to survive JavaScript.
            if (value.isTextual()) {
                try {
                    value = LongNode.valueOf(Long.parseLong(value.textValue()));
                }
                catch (NumberFormatException e) {
                    throw new ViewDefinitionException(where + ": the value is not a valid integer64");
                }
            }
            valid = value.isIntegralNumber();
        }
        else if (type.equals("decimal")) {
            valid = value.isNumber();
        }
        else if (type.equals("boolean")) {
            valid = value.isBoolean();
        }
        else {
            throw new ViewDefinitionException(where + ": unsupported constant type '" + key + "'");
        }
        if (!valid) {
            throw new ViewDefinitionException(where + ": the value is not a valid " + type);
        }
        return new TypedNode(value, type);
    }
}
