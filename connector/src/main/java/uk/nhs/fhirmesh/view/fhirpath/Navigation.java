package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.node;

/** Child access over FHIR JSON, including choice elements ({@code value} finds {@code valueQuantity}). */
final class Navigation
{
    private Navigation() {}

    /** {@code focus.name}: the named children of every item, arrays flattened. */
    static List<Object> member(List<Object> focus, String name)
    {
        if (focus.size() == 1) {
            return children(focus.get(0), name);
        }
        List<Object> out = new ArrayList<>();
        for (Object item : focus) {
            out.addAll(children(item, name));
        }
        return out;
    }

    /**
     * {@code focus.name.ofType(type)} fused: reads the choice element's JSON property directly
     * ({@code valueQuantity}), or a plain {@code name} that may be of that type.
     */
    static List<Object> choice(List<Object> focus, String name, String jsonName, String type)
    {
        List<Object> out = focus.size() == 1 ? null : new ArrayList<>();
        for (Object item : focus) {
            JsonNode node = node(item);
            if (!node.isObject()) {
                continue;
            }
            List<Object> found;
            JsonNode child = node.get(jsonName);
            if (child != null) {
                found = typed(elements(child), type);
            }
            else {
                child = node.get(name);
                found = child == null ? List.of() : Function.ofType(elements(child), type);
            }
            if (out == null) {
                return found;
            }
            out.addAll(found);
        }
        return out == null ? List.of() : out;
    }

    private static List<Object> children(Object item, String name)
    {
        JsonNode node = node(item);
        if (!node.isObject()) {
            return List.of();
        }
        JsonNode child = node.get(name);
        if (child != null) {
            return elements(child);
        }
        return isResourceOfType(node, name) ? List.of(item) : choiceByScan(node, name);
    }

    /** FHIRPath lets a path start with the resource's type: {@code Patient.name} on a Patient. */
    private static boolean isResourceOfType(JsonNode node, String name)
    {
        if (!Character.isUpperCase(name.charAt(0))) {
            return false;
        }
        JsonNode resourceType = node.get("resourceType");
        return resourceType != null && name.equals(resourceType.asText());
    }

    /** An absent plain element may be a choice element written with a type suffix: {@code value} as {@code valueString}. */
    private static List<Object> choiceByScan(JsonNode node, String name)
    {
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            // Cheapest test first: this runs for every absent element.
            if (key.length() > name.length() && Character.isUpperCase(key.charAt(name.length())) && key.startsWith(name)) {
                String type = FhirTypes.typeOfSuffix(key.substring(name.length()));
                if (type != null) {
                    return typed(elements(field.getValue()), type);
                }
            }
        }
        return List.of();
    }

    /** A JSON value as collection items: an array's elements (JSON nulls, placeholders for primitive extensions, dropped). */
    static List<Object> elements(JsonNode value)
    {
        if (!value.isArray()) {
            return value.isNull() ? List.of() : List.of(value);
        }
        if (value.size() == 1) {
            JsonNode only = value.get(0);
            return only.isNull() ? List.of() : List.of(only);
        }
        List<Object> out = new ArrayList<>(value.size());
        for (JsonNode element : value) {
            if (!element.isNull()) {
                out.add(element);
            }
        }
        return out;
    }

    private static List<Object> typed(List<Object> items, String type)
    {
        if (items.size() == 1) {
            return List.of(new TypedNode(node(items.get(0)), type));
        }
        List<Object> out = new ArrayList<>(items.size());
        for (Object item : items) {
            out.add(new TypedNode(node(item), type));
        }
        return out;
    }
}
