package uk.nhs.fhirmesh.view.fhirpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * lowBoundary()/highBoundary() (FHIRPath 3.0, STU): the least and greatest value a decimal, date, dateTime or
 * time could stand for given the precision it was written with, e.g. 1.0 -> 0.95/1.05, 1970-06 -> 1970-06-01/1970-06-30.
 */
final class Boundaries
{
    /** FHIRPath's default decimal precision for boundaries ("at least 8"), and the most it allows. */
    private static final int DEFAULT_DECIMAL_DIGITS = 8;
    private static final int MAX_DECIMAL_DIGITS = 28;

    private Boundaries() {}

    static List<Object> of(List<Object> focus, boolean high, Integer precision)
    {
        Object item = FhirValues.singleton(focus, high ? "highBoundary()" : "lowBoundary()");
        if (item == null) {
            return List.of();
        }
        JsonNode node = FhirValues.node(item);
        if (node.isNumber()) {
            BigDecimal boundary = decimal(FhirValues.decimal(node), high, precision == null ? DEFAULT_DECIMAL_DIGITS : precision);
            return boundary == null ? List.of() : List.of(FhirValues.number(boundary));
        }
        PartialTemporal temporal = Comparison.temporal(item);
        if (temporal == null) {
            return List.of();
        }
        String boundary = temporal.boundary(high, precision);
        if (boundary == null) {
            return List.of();
        }
        return List.of(new TypedNode(TextNode.valueOf(boundary), temporal.kind().fhirType()));
    }

    /** Half a unit of the last written digit either side, rounded outwards to {@code digits} decimal places. */
    private static BigDecimal decimal(BigDecimal value, boolean high, int digits)
    {
        if (digits < 0 || digits > MAX_DECIMAL_DIGITS) {
            return null;
        }
        BigDecimal half = BigDecimal.valueOf(5, Math.max(value.scale(), 0) + 1);
        BigDecimal boundary = high ? value.add(half) : value.subtract(half);
        return boundary.setScale(digits, high ? RoundingMode.CEILING : RoundingMode.FLOOR);
    }
}
