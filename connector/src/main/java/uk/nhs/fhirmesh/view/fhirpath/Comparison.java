package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;

import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.decimal;
import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.node;
import static uk.nhs.fhirmesh.view.fhirpath.FhirValues.type;

/** FHIRPath equality and ordering of two single items. A null answer is FHIRPath's empty: not determinable. */
final class Comparison
{
    private Comparison() {}

    static Boolean equal(Object a, Object b)
    {
        JsonNode x = node(a);
        JsonNode y = node(b);
        if (x.isTextual() && y.isTextual()) {
            if (FhirTypes.isTemporal(type(a)) || FhirTypes.isTemporal(type(b))) {
                PartialTemporal p = temporal(a);
                PartialTemporal q = temporal(b);
                if (p != null && q != null) {
                    Integer order = PartialTemporal.compare(p, q);
                    return order == null ? null : order == 0;
                }
            }
            return x.textValue().equals(y.textValue());
        }
        if (x.isNumber() && y.isNumber()) {
            return compareNumbers(x, y) == 0;
        }
        if (x.isBoolean() && y.isBoolean()) {
            return x.booleanValue() == y.booleanValue();
        }
        if (x.isContainerNode() && y.isContainerNode()) {
            return x.equals(y);
        }
        return false;
    }

    /** Negative, zero or positive; null when not determinable or the items are not comparable. */
    static Integer compare(Object a, Object b)
    {
        JsonNode x = node(a);
        JsonNode y = node(b);
        if (x.isNumber() && y.isNumber()) {
            return compareNumbers(x, y);
        }
        if (!x.isTextual() || !y.isTextual()) {
            return null;
        }
        boolean temporal = FhirTypes.isTemporal(type(a)) || FhirTypes.isTemporal(type(b))
                || (PartialTemporal.looksLikeDate(x.textValue()) && PartialTemporal.looksLikeDate(y.textValue()));
        if (temporal) {
            PartialTemporal p = temporal(a);
            PartialTemporal q = temporal(b);
            if (p != null && q != null) {
                return PartialTemporal.compare(p, q);
            }
        }
        return Integer.signum(x.textValue().compareTo(y.textValue()));
    }

    static int compareNumbers(JsonNode x, JsonNode y)
    {
        if (x.isIntegralNumber() && y.isIntegralNumber() && x.canConvertToLong() && y.canConvertToLong()) {
            return Long.compare(x.longValue(), y.longValue());
        }
        return decimal(x).compareTo(decimal(y));
    }

    /** The item as a date/dateTime/time, using its known type, or null when it is not one. */
    static PartialTemporal temporal(Object item)
    {
        JsonNode node = node(item);
        if (!node.isTextual()) {
            return null;
        }
        return PartialTemporal.parse(node.textValue(), PartialTemporal.Kind.ofFhirType(type(item)));
    }
}
