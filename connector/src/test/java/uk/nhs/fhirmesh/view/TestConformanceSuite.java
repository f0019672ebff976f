package uk.nhs.fhirmesh.view;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The runner's notion of equal results: it must neither accept wrong rows nor reject right ones. */
class TestConformanceSuite
{
    private static String expected(String json)
            throws Exception
    {
        return ConformanceSuite.canonical(ConformanceSuite.JSON.readTree(json));
    }

    @Test
    void numbersCompareByValueAndTypesStayDistinct()
            throws Exception
    {
        assertEquals(expected("1.0"), ConformanceSuite.canonical(1L));
        assertEquals(expected("1.5"), ConformanceSuite.canonical(new BigDecimal("1.50000000")));
        assertEquals(expected("0"), ConformanceSuite.canonical(new BigDecimal("0.000")));
        assertNotEquals(expected("\"1\""), ConformanceSuite.canonical(1L));
        assertNotEquals(expected("true"), ConformanceSuite.canonical("true"));
        assertNotEquals(expected("null"), ConformanceSuite.canonical("null"));
    }

    @Test
    void rowsNeedTheSameKeysAndArraysTheSameOrder()
            throws Exception
    {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("b", List.of("x", "y"));
        row.put("a", null);
        assertEquals(expected("{\"a\": null, \"b\": [\"x\", \"y\"]}"), ConformanceSuite.canonical(row));
        assertNotEquals(expected("{\"b\": [\"x\", \"y\"]}"), ConformanceSuite.canonical(row));
        assertNotEquals(expected("{\"a\": null, \"b\": [\"y\", \"x\"]}"), ConformanceSuite.canonical(row));
        assertEquals(expected("[1, null]"), ConformanceSuite.canonical(Arrays.asList(1L, null)));
    }
}
