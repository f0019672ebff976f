package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.LongNode;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;

/**
 * Items of a FHIRPath collection are {@link JsonNode}s (resource content, literals and computed values alike) or
 * {@link TypedNode}s when the FHIR type is known. These helpers read them.
 */
public final class FhirValues
{
    static final List<Object> TRUE = List.of(BooleanNode.TRUE);
    static final List<Object> FALSE = List.of(BooleanNode.FALSE);

    private FhirValues() {}

    static JsonNode node(Object item)
    {
        return item instanceof TypedNode typed ? typed.node() : (JsonNode) item;
    }

    /** The known FHIR type of an item, or null. */
    static String type(Object item)
    {
        return item instanceof TypedNode typed ? typed.type() : null;
    }

    static List<Object> bool(boolean value)
    {
        return value ? TRUE : FALSE;
    }

    static Object number(long value)
    {
        return LongNode.valueOf(value);
    }

    static Object number(BigDecimal value)
    {
        return DecimalNode.valueOf(value);
    }

    /**
     * A FHIR decimal as BigDecimal. A tree read with a default ObjectMapper holds decimals as doubles; the shortest
     * decimal that round-trips ({@link BigDecimal#valueOf(double)}) is what the JSON most likely said.
     */
    static BigDecimal decimal(JsonNode node)
    {
        if (node.isDouble() || node.isFloat()) {
            return BigDecimal.valueOf(node.doubleValue());
        }
        return node.decimalValue();
    }

    /**
     * An item as a column value: String for every string-like FHIR type (dates included), Boolean, Long for
     * integers, BigDecimal for decimals, and the JSON text of a complex value.
     */
    public static Object toColumnValue(Object item)
    {
        JsonNode node = node(item);
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? (Object) node.longValue() : new BigDecimal(node.bigIntegerValue());
        }
        if (node.isNumber()) {
            return decimal(node);
        }
        return node.isContainerNode() ? node.toString() : node.asText();
    }

    /** The item's value if it is a boolean, else null. */
    public static Boolean booleanValue(Object item)
    {
        JsonNode node = node(item);
        return node.isBoolean() ? node.booleanValue() : null;
    }

    /** The single item of a collection, null when empty; several items are an error naming {@code role}. */
    static Object singleton(List<Object> collection, String role)
    {
        if (collection.isEmpty()) {
            return null;
        }
        if (collection.size() > 1) {
            throw new FhirPathEvaluationException(role + " expects a single value but got " + collection.size());
        }
        return collection.get(0);
    }

    /**
     * FHIRPath singleton evaluation of a collection as a Boolean: empty is unknown (null), a boolean is itself,
     * any other single item counts as true.
     */
    static Boolean singletonBoolean(List<Object> collection, String role)
    {
        Object item = singleton(collection, role);
        if (item == null) {
            return null;
        }
        JsonNode node = node(item);
        return node.isBoolean() ? node.booleanValue() : Boolean.TRUE;
    }

    static String singletonString(List<Object> collection, String role)
    {
        Object item = singleton(collection, role);
        if (item == null) {
            return null;
        }
        JsonNode node = node(item);
        if (!node.isValueNode()) {
            throw new FhirPathEvaluationException(role + " expects a string but got " + kind(node));
        }
        return node.asText();
    }

    /** A short description of a value's kind for error messages; never the value itself, which may identify someone. */
    public static String kind(Object item)
    {
        JsonNode node = node(item);
        String kind = type(item);
        if (kind == null) {
            kind = switch (node.getNodeType()) {
                case STRING -> "string";
                case NUMBER -> node.isIntegralNumber() ? "integer" : "decimal";
                default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
            };
        }
        return ("aeiouAEIOU".indexOf(kind.charAt(0)) >= 0 ? "an " : "a ") + kind;
    }
}
